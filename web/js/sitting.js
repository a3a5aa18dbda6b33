/**
 * What the sitting snapshot means for this screen: who presides, who speaks, how long
 * is left, where my own request stands. Pure functions of the state; no DOM.
 */

/**
 * @typedef {import("./store.js").State} State
 * @typedef {import("./signaling.js").Sitting} Sitting
 * @typedef {import("./signaling.js").Person} Person
 * @typedef {import("./signaling.js").FloorRequest} FloorRequest
 */

export const MEMBER_ROLES = ["chair", "vice_chair", "member"];
/** Speech kinds a member may ask for, in the order the choice shows them. */
export const REQUEST_KINDS = ["speech", "question", "debate_pro", "debate_contra", "point_of_order"];

/**
 * The kinds of speech this member may ask for now: 一般質問 in plenary only, and a member not
 * checked in in the chamber only what the body's rules allow remote members (in plenary by
 * default 一般質問 alone).
 * @param {State} state
 * @returns {string[]}
 */
export function requestKinds(state) {
  const sitting = state.sitting;
  if (!sitting) return REQUEST_KINDS;
  const kinds = sitting.plenary ? ["general_question", ...REQUEST_KINDS] : REQUEST_KINDS;
  const remote = sitting.attendance[selfId(state)] !== "in_room";
  const allowed = sitting.remote_may_speak;
  return remote && allowed ? kinds.filter((k) => allowed.includes(k)) : kinds;
}

/**
 * @param {string | undefined} role
 * @returns {boolean}
 */
export function isMemberRole(role) {
  return MEMBER_ROLES.includes(role || "");
}

/**
 * This screen's own participant id, or "".
 * @param {State} state
 * @returns {string}
 */
export function selfId(state) {
  return state.self?.id || "";
}

/**
 * True when this screen belongs to whoever presides now (the chair, or the vice-chair
 * while the chair is absent).
 * @param {State} state
 * @returns {boolean}
 */
export function isPresiding(state) {
  return !!state.sitting && !!state.self && state.sitting.acting_chair_id === state.self.id;
}

/**
 * A person of the sitting by id; someone not in the list gets a neutral stand-in.
 * @param {State} state
 * @param {string} id
 * @returns {Person}
 */
export function person(state, id) {
  return state.participants.find((p) => p.id === id)
    || state.roster.find((p) => p.id === id)
    || { id, name: "?", role: "" };
}

/**
 * My pending request for the floor and its place in the queue (1-based), if any.
 * @param {State} state
 * @returns {{request: FloorRequest, position: number} | null}
 */
export function myRequest(state) {
  const requests = state.sitting?.queue.requests || [];
  const index = requests.findIndex((r) => r.participant_id === selfId(state));
  return index < 0 ? null : { request: requests[index], position: index + 1 };
}

/**
 * @param {State} state
 * @returns {boolean}
 */
export function holdsFloor(state) {
  return !!state.sitting?.floor && state.sitting.floor.holder_id === selfId(state);
}

/**
 * @param {State} state
 * @returns {boolean} whether the SFU forwards this screen's microphone now
 */
export function amAudible(state) {
  return !!state.sitting && state.sitting.audible.includes(selfId(state));
}

/**
 * Milliseconds of speaking time left (negative when overrun), on the server's clock.
 * @param {Sitting} sitting
 * @param {number} clockOffset server minus local, ms
 * @param {number} localNow Date.now()
 * @returns {number | null} null when no one holds the floor
 */
export function remainingMs(sitting, clockOffset, localNow) {
  if (!sitting.floor) return null;
  return sitting.floor.ends_at - (localNow + clockOffset);
}

/**
 * "ok", "warning" (the last `warning_seconds`) or "overrun".
 * @param {number} remaining ms
 * @param {number} warningSeconds
 * @returns {"ok" | "warning" | "overrun"}
 */
export function timerPhase(remaining, warningSeconds) {
  if (remaining <= 0) return "overrun";
  if (remaining <= warningSeconds * 1000) return "warning";
  return "ok";
}

/**
 * m:ss of a duration; the remaining time rounds up so "0:00" means the time is up.
 * @param {number} ms
 * @returns {string}
 */
export function clock(ms) {
  const total = Math.max(0, ms > 0 ? Math.ceil(ms / 1000) : Math.floor(-ms / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return `${minutes}:${seconds}`;
}

/**
 * The queue's ids with one request moved up (-1) or down (+1); unchanged at the ends.
 * @param {string[]} ids
 * @param {number} index
 * @param {-1 | 1} delta
 * @returns {string[]}
 */
export function moved(ids, index, delta) {
  const target = index + delta;
  if (index < 0 || target < 0 || target >= ids.length) return ids.slice();
  const next = ids.slice();
  [next[index], next[target]] = [next[target], next[index]];
  return next;
}

/**
 * How a participant attends now: "remote", "in_room" or "absent".
 * @param {Sitting} sitting
 * @param {string} id
 * @returns {string}
 */
export function attendanceOf(sitting, id) {
  return sitting.attendance[id] || "absent";
}

/**
 * People in seat order: members by seat first, then the others by role.
 * @param {Person[]} people
 * @returns {Person[]}
 */
export function inSeatOrder(people) {
  const rank = (/** @type {Person} */ p) => (isMemberRole(p.role) ? 0 : 1);
  return people.slice().sort((a, b) => rank(a) - rank(b) || (a.seat ?? 1e9) - (b.seat ?? 1e9));
}

/**
 * What the server's camera analysis says of a remote participant ("present", "camera_off",
 * "away", "link_lost", "disconnected"), or "" when attendance is not judged by camera.
 * @param {Sitting} sitting
 * @param {string} id
 * @returns {string}
 */
export function presenceOf(sitting, id) {
  if (!sitting.presence_by_camera) return "";
  return sitting.presence?.[id]?.state || "";
}
