/**
 * Who is on screen and who is heard at a moment of a past sitting, read from the archive's
 * view of the record (`/api/archive/{id}` → `sitting`). Pure functions of the data, like
 * the server's `programme()` (orchestrator/service/archive.py) that makes the publishable
 * video: the floor holder while a speech lasts, the chair otherwise, nobody in recess.
 * Times are seconds from the opening.
 */

/**
 * @typedef {{path: string, start: number, end: number | null, sha256?: string}} Segment
 * @typedef {{key: string, participant_id: string, kind: string, segments: Segment[]}} Track
 * @typedef {{id: string, name: string, role: string, seat: number | null}} Person
 * @typedef {{holder_id: string, name: string, kind: string, start: number, end: number, agenda_item_id: string | null}} Speech
 * @typedef {{id: string, title: string, result: string, spans: [number, number][]}} Item
 * @typedef {object} Sitting
 * @property {string} id
 * @property {string} title
 * @property {string} body
 * @property {string} place
 * @property {string} start ISO time of the opening
 * @property {number} duration seconds from the opening to the adjournment
 * @property {string} chain_head
 * @property {Person[]} people
 * @property {Item[]} items
 * @property {Speech[]} speeches
 * @property {[number, number][]} recesses
 * @property {any[]} ballots
 * @property {Track[]} tracks
 */

/**
 * @typedef {object} Floor
 * @property {string | null} who the participant on screen (null in recess or with no chair)
 * @property {"speech" | "chair" | "recess"} why
 * @property {Speech | null} speech the speech under way, if any
 */

/** @param {Sitting} s @returns {string | null} */
export function chairOf(s) {
  return s.people.find((p) => p.role === "chair")?.id ?? null;
}

/** @param {Sitting} s @param {number} t @returns {[number, number] | null} */
export function recessAt(s, t) {
  return s.recesses.find(([a, b]) => a <= t && t < b) ?? null;
}

/** @param {Sitting} s @param {number} t @returns {Speech | null} */
export function speechAt(s, t) {
  return s.speeches.find((sp) => sp.start <= t && t < sp.end) ?? null;
}

/**
 * The floor at `t`: the speaker, else the chair; nobody in recess.
 * @param {Sitting} s
 * @param {number} t
 * @returns {Floor}
 */
export function floorAt(s, t) {
  if (recessAt(s, t)) return { who: null, why: "recess", speech: null };
  const speech = speechAt(s, t);
  if (speech) return { who: speech.holder_id, why: "speech", speech };
  return { who: chairOf(s), why: "chair", speech: null };
}

/**
 * Whose microphones the sitting heard at `t`: the floor holder and the chair (the chair is
 * heard throughout a speech); nobody in recess.
 * @param {Sitting} s
 * @param {number} t
 * @returns {string[]}
 */
export function heardAt(s, t) {
  const floor = floorAt(s, t);
  if (!floor.who) return [];
  const chair = chairOf(s);
  return chair && chair !== floor.who ? [floor.who, chair] : [floor.who];
}

/**
 * The next moment after `t` at which the floor changes (a speech or a recess starts or
 * ends), or the end of the sitting.
 * @param {Sitting} s
 * @param {number} t
 * @returns {number}
 */
export function nextCut(s, t) {
  let next = s.duration;
  const consider = (/** @type {number} */ x) => { if (x > t + 1e-3 && x < next) next = x; };
  for (const sp of s.speeches) { consider(sp.start); consider(sp.end); }
  for (const [a, b] of s.recesses) { consider(a); consider(b); }
  return next;
}

/**
 * @param {Sitting} s
 * @param {string} participantId
 * @param {"video" | "audio"} kind
 * @returns {Track | null}
 */
export function trackOf(s, participantId, kind) {
  return s.tracks.find((tr) => tr.participant_id === participantId && tr.kind === kind) ?? null;
}

/**
 * The recorded file covering `t`, or null (not recorded then).
 * @param {Track | null} track
 * @param {number} t
 * @param {number} duration the sitting's length: an unfinished segment ends there
 * @returns {Segment | null}
 */
export function segmentAt(track, t, duration) {
  if (!track) return null;
  return track.segments.find((seg) => seg.start <= t && t < (seg.end ?? duration)) ?? null;
}

/**
 * What a participant's recording shows at `t`: the file and the position in it.
 * @param {Sitting} s
 * @param {string | null} participantId
 * @param {"video" | "audio"} kind
 * @param {number} t
 * @returns {{segment: Segment, offset: number} | null}
 */
export function sourceAt(s, participantId, kind, t) {
  if (!participantId) return null;
  const segment = segmentAt(trackOf(s, participantId, kind), t, s.duration);
  return segment ? { segment, offset: t - segment.start } : null;
}

/**
 * The next moment after `t` when what `participantId`'s track plays changes: the end of the
 * file playing now, or the start of the next file.
 * @param {Sitting} s
 * @param {string | null} participantId
 * @param {"video" | "audio"} kind
 * @param {number} t
 * @returns {number}
 */
export function nextFile(s, participantId, kind, t) {
  const track = participantId ? trackOf(s, participantId, kind) : null;
  let next = s.duration;
  for (const seg of track?.segments ?? []) {
    const end = seg.end ?? s.duration;
    if (seg.start > t + 1e-3) next = Math.min(next, seg.start);
    else if (end > t + 1e-3) next = Math.min(next, end);
  }
  return next;
}

/** @param {Sitting} s @param {number} t @returns {Item | null} */
export function itemAt(s, t) {
  return s.items.find((item) => item.spans.some(([a, b]) => a <= t && t < b)) ?? null;
}

/**
 * Participants with a recorded picture or voice, in seat order (the chair first).
 * @param {Sitting} s
 * @returns {Person[]}
 */
export function recordedPeople(s) {
  const ids = new Set(s.tracks.filter((tr) => tr.segments.length).map((tr) => tr.participant_id));
  return s.people.filter((p) => ids.has(p.id))
    .sort((a, b) => (a.seat ?? 999) - (b.seat ?? 999));
}
