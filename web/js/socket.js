/**
 * The transport under both sockets of this origin (`/ws` for the meeting page, `/gallery/ws` for
 * the public gallery; docs/protocol.md): the `{v, id, type}` envelope, request ids with a promise
 * that the server's `reply` resolves and its `error` rejects, pushes in arrival order, a ping that
 * closes a socket that stops answering, and reconnecting with backoff.
 *
 * What each page says first on a new socket (`join`, `watch`) and which refusals and close codes
 * end the page's visit are the page's protocol, given as options; everything else lives here once.
 */

export const PROTOCOL_VERSION = 1;
const REQUEST_TIMEOUT_MS = 15000;
/** Our own close code for "drop this socket and start over". */
const CLOSE_RECONNECT = 4900;

/**
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
 * @typedef {object} SocketOptions
 * @property {string} path the socket's path on this origin, e.g. "/ws"
 * @property {(socket: Socket) => Promise<any>} greet the first request on every new socket
 *   (`join`, `watch`); its reply makes the socket ready
 * @property {(data: any) => void} onReady the greeting was answered (also after reconnects)
 * @property {(push: Push) => void} onPush server pushes, in arrival order
 * @property {(status: SocketStatus) => void} onStatus socket life cycle
 * @property {(wasReady: boolean) => void} [onClosed] a socket closed (before any reconnect):
 *   its media must be torn down
 * @property {(error: ProtocolError) => void} [onRefused] the greeting was refused and will be
 *   tried again (e.g. the server is full for now): what the server said, to show while waiting
 * @property {(error: ProtocolError) => boolean} [refusalIsFinal] the greeting was refused: true
 *   when another attempt cannot help (then `onFatal`)
 * @property {(code: number, lastServerError: ProtocolError | null) => ProtocolError | null} [finalClose]
 *   the server closed with `code`: the error to end the visit with, or null to reconnect
 * @property {(error: ProtocolError) => void} [onFatal] the visit is over: no more attempts
 * @property {(code: number, backoff: number) => number} [retryDelay] how long to wait before
 *   reconnecting after a close with `code` (defaults to the backoff)
 * @property {number[]} backoffMs waits before the 1st, 2nd, … attempt (the last repeats)
 * @property {number} pingMs how often to ping a ready socket
 * @property {string} [url] defaults to ws(s)://this-host + path
 */

export class Socket {
  /** @param {SocketOptions} options */
  constructor(options) {
    this.options = options;
    this.url = options.url || `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${options.path}`;
    /** @type {WebSocket | null} */
    this.ws = null;
    this.nextId = 1;
    /** @type {Map<number, {resolve: (data: any) => void, reject: (e: Error) => void, timer: number}>} */
    this.pending = new Map();
    /** Attempts since the last ready socket; 0 means the first connection of this visit. */
    this.attempt = 0;
    this.stopped = true;
    this.ready = false;
    /** @type {number | undefined} */
    this.retryTimer = undefined;
    /** @type {number | undefined} */
    this.pingTimer = undefined;
    /** @type {ProtocolError | null} an error push without a request id (e.g. "replaced") */
    this.lastServerError = null;
  }

  /** Open the socket and greet; keeps reconnecting until `stop()`. */
  start() {
    this.stopped = false;
    this.attempt = 0;
    this.connect("connecting");
  }

  /**
   * Start over now with a new socket, without waiting for a planned retry (the gallery's
   * "try again" button). The backoff count is kept.
   * @returns {void}
   */
  restart() {
    clearTimeout(this.retryTimer);
    this.stopped = false;
    const ws = this.ws;
    if (ws) {
      this.ws = null; // its close is not ours to handle any more
      ws.onclose = null;
      this.dropped();
      ws.close(1000);
    }
    this.connect(this.attempt ? "reconnecting" : "connecting");
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
      const data = await this.options.greet(this);
      if (ws !== this.ws) return;
      this.ready = true;
      this.attempt = 0;
      this.startPing();
      this.options.onStatus("connected");
      this.options.onReady(data);
    } catch (error) {
      if (ws !== this.ws) return;
      if (error instanceof ProtocolError && this.options.refusalIsFinal?.(error)) {
        this.stop();
        this.options.onFatal?.(error);
      } else {
        ws.close(); // let onClose schedule the next attempt
        if (error instanceof ProtocolError) this.options.onRefused?.(error);
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
    this.dropped();
    if (this.stopped) {
      this.options.onStatus("closed");
      return;
    }
    const final = this.options.finalClose?.(event.code, this.lastServerError) ?? null;
    if (final) {
      // Retrying cannot help (after "replaced" two screens would take turns forever).
      this.stop();
      this.options.onFatal?.(final);
      return;
    }
    const backoff = this.options.backoffMs;
    const planned = backoff[Math.min(this.attempt, backoff.length - 1)] * (0.8 + Math.random() * 0.4);
    const delay = this.options.retryDelay ? this.options.retryDelay(event.code, planned) : planned;
    this.attempt += 1;
    this.options.onStatus("reconnecting");
    this.retryTimer = window.setTimeout(() => {
      if (!this.stopped) this.connect("reconnecting");
    }, delay);
  }

  /** The current socket is gone: fail its requests, stop its ping, tell the page. */
  dropped() {
    this.stopPing();
    this.failPending();
    const wasReady = this.ready;
    this.ready = false;
    this.options.onClosed?.(wasReady);
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
    }, this.options.pingMs);
  }

  /** @returns {void} */
  stopPing() {
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  /** Close without retrying. */
  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stopPing();
    if (this.ws) this.ws.close(1000);
  }
}
