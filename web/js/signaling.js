/**
 * The meeting page's protocol (docs/protocol.md) on the shared transport (`socket.js`): one
 * WebSocket to `/ws` on this origin.
 *
 * Every new socket starts with `join` with the same token (or meeting id); the server then
 * starts over with a fresh offer. Pushes (`offer`, `participant_*`, `sitting`, `ballot`) go to
 * `onPush`. Refused joins that another attempt cannot fix, and the close codes 4000 (version),
 * 4001 (replaced) and 4003 (removed), end the visit.
 */
import { Socket, ProtocolError, ConnectionLost, PROTOCOL_VERSION } from "./socket.js";

export { ProtocolError, ConnectionLost, PROTOCOL_VERSION };

const PING_INTERVAL_MS = 10000;
const BACKOFF_MS = [300, 1000, 2000, 4000, 8000];
/** Close codes from the server after which reconnecting would be wrong. */
const FINAL_CLOSES = new Map([
  [4000, "bad_version"], // protocol version refused
  [4001, "replaced"], // the same participant joined from another screen
  [4003, "removed"], // the chair removed this participant from the sitting
]);
/** Join refusals that another attempt cannot fix. */
const FATAL_JOIN_CODES = new Set(["invalid_token", "not_logged_in", "not_a_participant", "removed", "not_found"]);

/**
 * @typedef {{id: string, name: string, reading?: string, role: string, seat?: number|null,
 *   connected?: boolean, audio_muted?: boolean, video_muted?: boolean}} RosterEntry
 * @typedef {{id: string, name: string, reading?: string, role: string, seat?: number|null}} Person
 * @typedef {{id: string, participant_id: string, kind: string, requested_at: number}} FloorRequest
 * @typedef {{holder_id: string, kind: string, request_id: string|null, started_at: number,
 *   ends_at: number, limit_seconds: number, warning: boolean, overrun: boolean}} Floor
 * @typedef {{id: string, position: number, title: string, kind: string, state: string,
 *   result: string}} AgendaItem
 * @typedef {{meeting_id: string, state: string, title: string, body: string, plenary: boolean,
 *   audio_mode: string, acting_chair_id: string|null, agenda: AgendaItem[],
 *   current_item_id: string|null, queue: {version: number, requests: FloorRequest[]},
 *   floor: Floor|null, warning_seconds: number, remote_may_speak?: string[],
 *   quorum: {met: boolean, needed: number, fixed: number, counted: string[],
 *     not_counted: {id: string, reason: string}[]},
 *   attendance: Record<string, string>, muted: string[], removed: string[], audible: string[],
 *   presence_by_camera?: boolean,
 *   presence?: Record<string, {state: string, faces: number, voice: boolean}>,
 *   minutes_signers?: {count: number, named: string[]|null},
 *   amendments?: Record<string, import("./views/amendments.js").ItemVotesView>,
 *   motions?: import("./views/motions.js").MotionView[],
 *   roll_call?: {order: string[], current: string|null, answered: string[], confirmed: Record<string, boolean>,
 *     ended: boolean}|null,
 *   remote?: RemoteState, server_now: number}} Sitting
 * @typedef {{id: string, member_id: string, reason: string, reason_text: string, state: string,
 *   refusal_reason: string, decided_by: string|null, on_behalf_of_chair: boolean,
 *   applied_at: number}} RemoteApplication
 * @typedef {{requires_permission: boolean, deadline: number|null, open_for_applications: boolean,
 *   applications: RemoteApplication[], watch_only: string[]}} RemoteState
 * @typedef {{yes: number, no: number, abstain: number, entitled: number, fixed_membership: number,
 *   outcome: string, decided_by_chair: boolean}} Tally
 * @typedef {{id: string, motion: string, kind: string, majority: string, abstain_allowed: boolean,
 *   state: string, agenda_item_id: string|null, entitled: string[], voted: string[],
 *   opened_at: number|null, closed_at: number|null, tally: Tally|null,
 *   votes: Record<string, string>|null}} Ballot
 * @typedef {{ballot_id: string, seq: number, hash: string}} Receipt
 * @typedef {{participant: {id: string, name: string, reading?: string, role: string},
 *   meeting: {id: string, title: string, body?: string}, roster: RosterEntry[],
 *   participants?: Person[], sitting?: Sitting, ballot?: Ballot|null,
 *   ice_servers?: RTCIceServer[]}} JoinData  ice_servers: TURN relays with this member's credentials
 * @typedef {import("./socket.js").Push} Push
 * @typedef {import("./socket.js").SocketStatus} SocketStatus
 */

/**
 * @typedef {object} SignalingOptions
 * @property {{token: string} | {meeting_id: string}} join what `join` carries: a rehearsal
 *   link's token, or a meeting id (the session cookie says who we are)
 * @property {(data: JoinData) => void} onJoined after every successful join (also after reconnects)
 * @property {(push: Push) => void} onPush server pushes, in arrival order
 * @property {(status: SocketStatus) => void} onStatus socket life cycle
 * @property {() => void} onDisconnected the joined socket dropped; media must be torn down
 * @property {(error: ProtocolError) => void} onFatal join refused: do not retry
 * @property {(error: ProtocolError) => void} [onRefused] join refused for now (e.g. no media
 *   connection free): it is tried again; the server's words say why
 * @property {string} [url] defaults to ws(s)://this-host/ws
 */

export class Signaling {
  /** @param {SignalingOptions} options */
  constructor(options) {
    this.socket = new Socket({
      path: "/ws",
      url: options.url,
      greet: (socket) => socket.request("join", options.join),
      onReady: (data) => options.onJoined(/** @type {JoinData} */ (data)),
      onPush: options.onPush,
      onStatus: options.onStatus,
      onClosed: (wasJoined) => { if (wasJoined) options.onDisconnected(); },
      refusalIsFinal: (error) => FATAL_JOIN_CODES.has(error.code),
      onRefused: options.onRefused,
      finalClose: (code, lastServerError) => {
        const name = FINAL_CLOSES.get(code);
        if (!name) return null;
        return lastServerError?.code === name ? lastServerError : new ProtocolError(name, undefined);
      },
      onFatal: options.onFatal,
      backoffMs: BACKOFF_MS,
      pingMs: PING_INTERVAL_MS,
    });
  }

  /** Open the socket and join; keeps reconnecting until `stop()`. */
  start() {
    this.socket.start();
  }

  /**
   * Send a request and wait for its answer.
   * @param {string} type
   * @param {Record<string, any>} [fields]
   * @returns {Promise<any>} the reply's `data`
   */
  request(type, fields = {}) {
    return this.socket.request(type, fields);
  }

  /** Drop the current socket on purpose and reconnect (e.g. after a media failure). */
  reconnect() {
    this.socket.reconnect();
  }

  /**
   * Leave the meeting: tell the server, then close for good.
   * @returns {Promise<void>}
   */
  async leave() {
    const socket = this.socket;
    socket.stopped = true;
    clearTimeout(socket.retryTimer);
    if (socket.ready) {
      try {
        await socket.request("leave");
      } catch { /* leaving anyway */ }
    }
    socket.stop();
  }

  /** Close without retrying. */
  stop() {
    this.socket.stop();
  }
}
