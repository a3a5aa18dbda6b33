/**
 * The wire protocol (docs/protocol.md): one WebSocket to `/ws` on this origin.
 *
 * Requests carry an id and get a promise that the server's `reply` resolves and its
 * `error` rejects. Pushes (`offer`, `participant_*`, `sitting`, `ballot`) go to `onPush`.
 * When the socket drops the client reconnects with backoff and sends `join` again with the
 * same token (or meeting id); the server then starts over with a fresh offer.
 */

export const PROTOCOL_VERSION = 1;
const REQUEST_TIMEOUT_MS = 15000;
const PING_INTERVAL_MS = 10000;
const BACKOFF_MS = [300, 1000, 2000, 4000, 8000];
/** Close codes from the server after which reconnecting would be wrong. */
const CLOSE_VERSION = 4000; // protocol version refused
const CLOSE_REPLACED = 4001; // the same participant joined from another screen
const CLOSE_REMOVED = 4003; // the chair removed this participant from the sitting
/** Join refusals that another attempt cannot fix. */
const FATAL_JOIN_CODES = new Set(["invalid_token", "not_logged_in", "not_a_participant", "removed", "not_found"]);
/** Our own close code for "drop this socket and start over". */
const CLOSE_RECONNECT = 4900;

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
 *   floor: Floor|null, warning_seconds: number,
 *   quorum: {met: boolean, needed: number, fixed: number, counted: string[],
 *     not_counted: {id: string, reason: string}[]},
 *   attendance: Record<string, string>, muted: string[], removed: string[], audible: string[],
 *   presence_by_camera?: boolean,
 *   presence?: Record<string, {state: string, faces: number, voice: boolean}>,
 *   server_now: number}} Sitting
 * @typedef {{yes: number, no: number, abstain: number, entitled: number, fixed_membership: number,
 *   outcome: string, decided_by_chair: boolean}} Tally
 * @typedef {{id: string, motion: string, kind: string, majority: string, abstain_allowed: boolean,
 *   state: string, agenda_item_id: string|null, entitled: string[], voted: string[],
 *   opened_at: number|null, closed_at: number|null, tally: Tally|null,
 *   votes: Record<string, string>|null}} Ballot
 * @typedef {{ballot_id: string, seq: number, hash: string}} Receipt
 * @typedef {{participant: {id: string, name: string, reading?: string, role: string},
 *   meeting: {id: string, title: string, body?: string}, roster: RosterEntry[],
 *   participants?: Person[], sitting?: Sitting, ballot?: Ballot|null}} JoinData
 * @typedef {{type: string, [field: string]: any}} Push
 * @typedef {"idle" | "connecting" | "connected" | "reconnecting" | "closed"} SocketStatus
 */

/** An `error` answer from the server, with its stable code and bilingual message. */
export class ProtocolError extends Error {
  /**
   * @param {string} code
   * @param {{ja?: string, en?: string} | undefined} message
   */
  constructor(code, message) {
    super(`${code}: ${message?.en || message?.ja || ""}`);
    this.name = "ProtocolError";
    this.code = code;
    this.serverMessage = message;
  }
}

/** The socket went away before an answer came. */
export class ConnectionLost extends Error {
  constructor() {
    super("connection lost");
    this.name = "ConnectionLost";
  }
}

/**
 * @typedef {object} SignalingOptions
 * @property {{token: string} | {meeting_id: string}} join what `join` carries: a rehearsal
 *   link's token, or a meeting id (the session cookie says who we are)
 * @property {(data: JoinData) => void} onJoined after every successful join (also after reconnects)
 * @property {(push: Push) => void} onPush server pushes, in arrival order
 * @property {(status: SocketStatus) => void} onStatus socket life cycle
 * @property {() => void} onDisconnected the joined socket dropped; media must be torn down
 * @property {(error: ProtocolError) => void} onFatal join refused: do not retry
 * @property {string} [url] defaults to ws(s)://this-host/ws
 */

export class Signaling {
  /** @param {SignalingOptions} options */
  constructor(options) {
    this.options = options;
    this.url = options.url || `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
    /** @type {WebSocket | null} */
    this.ws = null;
    this.nextId = 1;
    /** @type {Map<number, {resolve: (data: any) => void, reject: (e: Error) => void, timer: number}>} */
    this.pending = new Map();
    this.attempt = 0;
    this.stopped = true;
    this.joined = false;
    /** @type {number | undefined} */
    this.retryTimer = undefined;
    /** @type {number | undefined} */
    this.pingTimer = undefined;
    /** @type {ProtocolError | null} an error push without a request id (e.g. "replaced") */
    this.lastServerError = null;
  }

  /** Open the socket and join; keeps reconnecting until `stop()`. */
  start() {
    this.stopped = false;
    this.attempt = 0;
    this.connect("connecting");
  }

  /**
   * @param {SocketStatus} status
   * @returns {void}
   */
  connect(status) {
    this.options.onStatus(status);
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => this.onOpen(ws);
    ws.onmessage = (event) => this.onMessage(event);
    ws.onclose = (event) => this.onClose(ws, event);
    // onerror is always followed by onclose, which does the work.
  }

  /** @param {WebSocket} ws */
  async onOpen(ws) {
    if (ws !== this.ws) return;
    try {
      const data = /** @type {JoinData} */ (await this.request("join", this.options.join));
      if (ws !== this.ws) return;
      this.joined = true;
      this.attempt = 0;
      this.startPing();
      this.options.onStatus("connected");
      this.options.onJoined(data);
    } catch (error) {
      if (ws !== this.ws) return;
      if (error instanceof ProtocolError && FATAL_JOIN_CODES.has(error.code)) {
        this.stop();
        this.options.onFatal(error);
      } else {
        ws.close(); // let onClose schedule the next attempt
      }
    }
  }

  /** @param {MessageEvent} event */
  onMessage(event) {
    /** @type {any} */
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch {
      return;
    }
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "error" && msg.re == null) {
      // Not an answer to a request: the server tells why it is about to close the socket.
      this.lastServerError = new ProtocolError(msg.code, msg.message);
      return;
    }
    if (msg.type === "reply" || msg.type === "error") {
      const entry = this.pending.get(msg.re);
      if (!entry) return;
      this.pending.delete(msg.re);
      clearTimeout(entry.timer);
      if (msg.type === "reply") entry.resolve(msg.data ?? {});
      else entry.reject(new ProtocolError(msg.code, msg.message));
      return;
    }
    this.options.onPush(msg);
  }

  /**
   * @param {WebSocket} ws
   * @param {CloseEvent} event
   */
  onClose(ws, event) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.stopPing();
    this.failPending();
    const wasJoined = this.joined;
    this.joined = false;
    if (wasJoined) this.options.onDisconnected();
    if (this.stopped) {
      this.options.onStatus("closed");
      return;
    }
    if (event.code === CLOSE_VERSION || event.code === CLOSE_REPLACED || event.code === CLOSE_REMOVED) {
      // Retrying cannot help, and after "replaced" two screens would take turns forever.
      this.stop();
      const code = { [CLOSE_VERSION]: "bad_version", [CLOSE_REPLACED]: "replaced", [CLOSE_REMOVED]: "removed" }[event.code];
      this.options.onFatal(this.lastServerError?.code === code
        ? this.lastServerError : new ProtocolError(code, undefined));
      return;
    }
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    this.options.onStatus("reconnecting");
    this.retryTimer = window.setTimeout(() => {
      if (!this.stopped) this.connect("reconnecting");
    }, delay * (0.8 + Math.random() * 0.4));
  }

  /** Reject every open request: its socket is gone. */
  failPending() {
    for (const entry of this.pending.values()) {
      clearTimeout(entry.timer);
      entry.reject(new ConnectionLost());
    }
    this.pending.clear();
  }

  /**
   * Send a request and wait for its answer.
   * @param {string} type
   * @param {Record<string, any>} [fields]
   * @returns {Promise<any>} the reply's `data`
   */
  request(type, fields = {}) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new ConnectionLost());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = window.setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${type} timed out`));
        if (ws === this.ws) ws.close(); // an unanswered socket is a dead socket
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      ws.send(JSON.stringify({ v: PROTOCOL_VERSION, id, type, ...fields }));
    });
  }

  /** Drop the current socket on purpose and reconnect (e.g. after a media failure). */
  reconnect() {
    if (this.ws) this.ws.close(CLOSE_RECONNECT, "reconnect");
  }

  /**
   * Ping regularly: a socket that stops answering is closed and reconnected.
   * @returns {void}
   */
  startPing() {
    this.stopPing();
    this.pingTimer = window.setInterval(() => {
      this.request("ping").catch(() => { /* the timeout closes the socket */ });
    }, PING_INTERVAL_MS);
  }

  /**
   * @returns {void}
   */
  stopPing() {
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  /**
   * Leave the meeting: tell the server, then close for good.
   * @returns {Promise<void>}
   */
  async leave() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    if (this.joined) {
      try {
        await this.request("leave");
      } catch { /* leaving anyway */ }
    }
    this.stop();
  }

  /** Close without retrying. */
  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stopPing();
    if (this.ws) this.ws.close(1000);
  }
}
