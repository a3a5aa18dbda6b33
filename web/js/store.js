/**
 * The client's state and the one pure function that changes it. No DOM, no I/O:
 * `apply(state, event)` returns a new state and never mutates the old one.
 */

import { newerBallot } from "./ballot.js";

/**
 * @typedef {import("./signaling.js").RosterEntry} RosterEntry
 * @typedef {import("./signaling.js").JoinData} JoinData
 * @typedef {import("./signaling.js").Person} Person
 * @typedef {import("./signaling.js").Sitting} Sitting
 * @typedef {import("./signaling.js").Ballot} Ballot
 * @typedef {import("./signaling.js").Receipt} Receipt
 * @typedef {"check" | "meeting" | "left" | "error"} Screen
 * @typedef {"idle" | "connecting" | "connected" | "reconnecting" | "media_failed" | "left"} Connection
 *
 * @typedef {object} State
 * @property {Screen} screen
 * @property {Connection} connection
 * @property {{ja?: string, en?: string} | null} connectionReason why joining is being retried,
 *   in the server's words (e.g. no media connection free), shown instead of "reconnecting"
 * @property {JoinData["participant"] | null} self
 * @property {JoinData["meeting"] | null} meeting
 * @property {RosterEntry[]} roster everyone the server told us about, self included
 * @property {boolean} audioMuted this browser's microphone
 * @property {boolean} videoMuted this browser's camera
 * @property {{code: string, message?: {ja?: string, en?: string}} | null} error
 * @property {Person[]} participants everyone in the sitting, connected or not
 * @property {Sitting | null} sitting the latest snapshot from the server
 * @property {number} clockOffset server clock minus this device's clock, ms
 * @property {{code: string, message?: {ja?: string, en?: string}} | null} commandError
 *   the last refused sitting command, until dismissed or the next one succeeds
 * @property {Ballot | null} ballot the sitting's latest ballot
 * @property {VoteProgress | null} vote this screen's own vote in that ballot
 * @property {Presentation | null} presentation the document being presented, if any
 * @property {{presenter_id: string} | null} sharedScreen whose screen everyone is shown, if anyone's
 * @typedef {{document_id: string, title: string, page: number, pages: number, presenter_id: string,
 *   pointer: {x: number, y: number} | null}} Presentation
 *
 * @typedef {"choose" | "confirm" | "signing" | "receipt" | "refused" | "dismissed"} VoteStep
 *   choose → confirm → signing (vote_options, the passkey, vote) → receipt or refused;
 *   "dismissed": the receipt was closed and lives on in the sitting panel
 * @typedef {object} VoteProgress
 * @property {string} ballotId
 * @property {VoteStep} step
 * @property {string | null} choice
 * @property {Receipt | null} receipt
 * @property {{code: string, message?: {ja?: string, en?: string}} | null} error
 *
 * @typedef {{type: "joined", data: JoinData, receivedAt?: number}
 *   | {type: "participant_joined", participant: RosterEntry}
 *   | {type: "participant_updated", participant: RosterEntry}
 *   | {type: "participant_left", id: string}
 *   | {type: "connection", connection: Connection, reason?: {ja?: string, en?: string} | null}
 *   | {type: "screen", screen: Screen}
 *   | {type: "local_media", audioMuted?: boolean, videoMuted?: boolean}
 *   | {type: "disconnected"}
 *   | {type: "left"}
 *   | {type: "fatal", code: string, message?: {ja?: string, en?: string}}
 *   | {type: "sitting", sitting: Sitting, receivedAt: number}
 *   | {type: "command_error", code: string, message?: {ja?: string, en?: string}}
 *   | {type: "command_ok"}
 *   | {type: "dismiss_error"}
 *   | {type: "ballot", ballot: Ballot}
 *   | {type: "presentation", presentation: Presentation | null}
 *   | {type: "shared_screen", screen: {presenter_id: string} | null}
 *   | {type: "vote", ballotId: string, step: VoteStep, choice?: string | null,
 *      receipt?: Receipt | null, error?: {code: string, message?: {ja?: string, en?: string}} | null}} StoreEvent
 */

/** @returns {State} */
export function initialState() {
  return {
    screen: "check",
    connection: "idle",
    connectionReason: null,
    self: null,
    meeting: null,
    roster: [],
    audioMuted: false,
    videoMuted: false,
    error: null,
    participants: [],
    sitting: null,
    clockOffset: 0,
    commandError: null,
    ballot: null,
    vote: null,
    presentation: null,
    sharedScreen: null,
  };
}

/**
 * Server clock minus local clock, from a snapshot's `server_now` and when it arrived.
 * @param {Sitting | null | undefined} sitting
 * @param {number | undefined} receivedAt local ms (Date.now())
 * @param {number} fallback
 * @returns {number}
 */
function offsetOf(sitting, receivedAt, fallback) {
  if (!sitting || typeof sitting.server_now !== "number" || typeof receivedAt !== "number") return fallback;
  return sitting.server_now - receivedAt;
}

/**
 * Insert or replace one roster entry by id, keeping the order of the others.
 * @param {RosterEntry[]} roster
 * @param {RosterEntry} entry
 * @returns {RosterEntry[]}
 */
function upsert(roster, entry) {
  const i = roster.findIndex((p) => p.id === entry.id);
  if (i < 0) return [...roster, entry];
  const next = roster.slice();
  next[i] = { ...roster[i], ...entry };
  return next;
}

/**
 * My progress only belongs to the ballot it was made in: a new ballot starts afresh. A vote
 * whose answer was lost with the connection is settled by the server's `voted`.
 * @param {VoteProgress | null} vote
 * @param {Ballot | null} ballot
 * @param {string | undefined} me
 * @returns {VoteProgress | null}
 */
function voteFor(vote, ballot, me) {
  if (!vote || !ballot || vote.ballotId !== ballot.id) return null;
  const lost = vote.step === "refused" && vote.error?.code === "connection_lost";
  return lost && me && ballot.voted.includes(me) ? { ...vote, step: "dismissed", error: null } : vote;
}

/**
 * The next step of my vote; what the step does not say is kept from before (the choice,
 * the receipt) as long as it is the same ballot.
 * @param {VoteProgress | null} vote
 * @param {Extract<StoreEvent, {type: "vote"}>} event
 * @returns {VoteProgress}
 */
function nextVote(vote, event) {
  const same = vote && vote.ballotId === event.ballotId ? vote : null;
  return {
    ballotId: event.ballotId,
    step: event.step,
    choice: event.choice !== undefined ? event.choice : same?.choice ?? null,
    receipt: event.receipt !== undefined ? event.receipt : same?.receipt ?? null,
    error: event.error ?? null,
  };
}

/**
 * @param {State} state
 * @param {StoreEvent} event
 * @returns {State}
 */
export function apply(state, event) {
  switch (event.type) {
    case "joined": {
      // The join reply is the truth after a reconnect: the ballot may have moved on meanwhile.
      const ballot = event.data.ballot ?? null;
      return {
        ...state,
        screen: "meeting",
        connection: "connected",
        connectionReason: null,
        self: event.data.participant,
        meeting: event.data.meeting,
        roster: (event.data.roster || []).map((p) => ({ connected: true, ...p })),
        error: null,
        participants: event.data.participants || state.participants,
        sitting: event.data.sitting || state.sitting,
        clockOffset: offsetOf(event.data.sitting, event.receivedAt, state.clockOffset),
        ballot,
        vote: voteFor(state.vote, ballot, event.data.participant?.id),
        presentation: /** @type {any} */ (event.data).presentation ?? null,
        sharedScreen: /** @type {any} */ (event.data).screen ?? null,
      };
    }
    case "ballot": {
      const ballot = newerBallot(state.ballot, event.ballot);
      return ballot === state.ballot ? state : { ...state, ballot, vote: voteFor(state.vote, ballot, state.self?.id) };
    }
    case "vote":
      // A late answer about a ballot that has since been replaced changes nothing.
      if (state.ballot?.id !== event.ballotId) return state;
      return { ...state, vote: nextVote(state.vote, event) };
    case "sitting":
      return {
        ...state,
        sitting: event.sitting,
        clockOffset: offsetOf(event.sitting, event.receivedAt, state.clockOffset),
      };
    case "presentation":
      return { ...state, presentation: event.presentation };
    case "shared_screen":
      return { ...state, sharedScreen: event.screen };
    case "command_error":
      return { ...state, commandError: { code: event.code, message: event.message } };
    case "command_ok":
    case "dismiss_error":
      return state.commandError ? { ...state, commandError: null } : state;
    case "participant_joined":
      return { ...state, roster: upsert(state.roster, { ...event.participant, connected: true }) };
    case "participant_updated":
      return { ...state, roster: upsert(state.roster, event.participant) };
    case "participant_left":
      // Someone who left is still a member of the meeting, just not here now.
      return {
        ...state,
        roster: state.roster.map((p) => (p.id === event.id ? { ...p, connected: false } : p)),
      };
    case "connection":
      // A refusal's reason stays through the retries' status changes, until joined or left.
      return {
        ...state,
        connection: event.connection,
        connectionReason: event.reason === undefined ? state.connectionReason : event.reason,
      };
    case "screen":
      return { ...state, screen: event.screen };
    case "local_media":
      return {
        ...state,
        audioMuted: event.audioMuted ?? state.audioMuted,
        videoMuted: event.videoMuted ?? state.videoMuted,
      };
    case "disconnected":
      // Tiles stay (without media) until the rejoin's fresh roster replaces them.
      return { ...state, connection: "reconnecting", connectionReason: null };
    case "left":
      return { ...state, screen: "left", connection: "left", roster: [] };
    case "fatal":
      return {
        ...state,
        screen: "error",
        connection: "idle",
        error: { code: event.code, message: event.message },
      };
    default:
      return state;
  }
}

/**
 * The others whose tiles are shown: connected, not this browser, in seat order.
 * @param {State} state
 * @returns {RosterEntry[]}
 */
export function othersPresent(state) {
  const selfId = state.self?.id;
  return state.roster
    .filter((p) => p.id !== selfId && p.connected !== false)
    .sort((a, b) => (a.seat ?? 1e9) - (b.seat ?? 1e9));
}

/**
 * This browser's own roster entry, or one made from the join reply.
 * @param {State} state
 * @returns {RosterEntry | null}
 */
export function selfEntry(state) {
  if (!state.self) return null;
  const entry = state.roster.find((p) => p.id === state.self?.id);
  return {
    ...state.self,
    ...(entry || {}),
    audio_muted: state.audioMuted,
    video_muted: state.videoMuted,
  };
}
