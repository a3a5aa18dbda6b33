/**
 * Sharing this device's screen: the browser asks which screen or window (getDisplayMedia),
 * the picture goes on the peer's screen slot (no renegotiation), and the server is asked to
 * send it to everyone (`present` `share_screen`). It ends when the member stops it here or in
 * the browser's own "stop sharing" bar, or when the server ends it (the floor ended, the chair
 * stopped it): then the capture is released here too.
 */

/**
 * @typedef {import("./store.js").State} State
 * @typedef {import("./peer.js").MediaPeer} MediaPeer
 * @typedef {object} ScreenShareOptions
 * @property {() => MediaPeer | null} peer the current media connection
 * @property {(fields: Record<string, any>) => Promise<any>} present a `present` request
 * @property {(stream: MediaStream | null) => void} onLocal what this device shares now
 * @property {(error: unknown) => void} onRefused the server or the connection said no
 */

/** Slides and documents: sharp text, few frames. */
const CAPTURE = { video: { width: { max: 1920 }, height: { max: 1080 }, frameRate: { ideal: 5, max: 10 } }, audio: false };

export class ScreenShare {
  /** @param {ScreenShareOptions} options */
  constructor(options) {
    this.options = options;
    /** @type {MediaStream | null} */
    this.stream = null;
    this.starting = false;
  }

  /**
   * Ask the browser for a screen and share it. Choosing nothing in the browser's picker
   * changes nothing.
   * @returns {Promise<void>}
   */
  async start() {
    if (this.stream || this.starting) return;
    this.starting = true;
    try {
      let stream;
      try {
        stream = await navigator.mediaDevices.getDisplayMedia(CAPTURE);
      } catch (error) {
        if (/** @type {any} */ (error)?.name !== "NotAllowedError") this.options.onRefused(error);
        return; // the member closed the picker
      }
      const track = stream.getVideoTracks()[0];
      if ("contentHint" in track) track.contentHint = "detail";
      const peer = this.options.peer();
      if (!track || !peer || !(await peer.replaceLocalTrack("screen", track))) {
        for (const each of stream.getTracks()) each.stop();
        this.options.onRefused(new Error("no media connection"));
        return;
      }
      this.stream = stream;
      track.addEventListener("ended", () => { this.stop(); }); // the browser's own "stop sharing"
      this.options.onLocal(stream);
      try {
        await this.options.present({ action: "share_screen" });
      } catch (error) {
        await this.release();
        this.options.onRefused(error);
      }
    } finally {
      this.starting = false;
    }
  }

  /**
   * Stop sharing here and tell the server.
   * @returns {Promise<void>}
   */
  async stop() {
    const had = !!this.stream;
    await this.release();
    if (had) await this.options.present({ action: "stop_screen" }).catch(() => { /* ended with the connection */ });
  }

  /**
   * End the share on the stage: this device's own, or (the chair) someone else's.
   * @returns {Promise<void>}
   */
  async end() {
    if (this.stream) {
      await this.stop();
      return;
    }
    await this.options.present({ action: "stop_screen" }).catch((error) => this.options.onRefused(error));
  }

  /**
   * The server's word on who shares: if it is no longer this device, let go of the capture.
   * @param {State} state
   * @returns {void}
   */
  follow(state) {
    if (!this.stream || this.starting) return;
    if (state.sharedScreen?.presenter_id !== state.self?.id || state.connection !== "connected") this.release();
  }

  /**
   * End the capture and empty the screen slot.
   * @returns {Promise<void>}
   */
  async release() {
    const stream = this.stream;
    if (!stream) return;
    this.stream = null;
    for (const track of stream.getTracks()) track.stop();
    this.options.onLocal(null);
    await this.options.peer()?.replaceLocalTrack("screen", null).catch(() => false);
  }
}
