/**
 * Wiring: token, devices, signaling, the media peer and the views. The state lives in
 * one place and changes only through `apply` (store.js); views are re-rendered from it.
 * Test hooks are on `window.gikai` (see `exposeHooks`).
 */
import { Signaling, ProtocolError } from "./signaling.js";
import { MediaPeer } from "./peer.js";
import { apply, initialState } from "./store.js";
import { translate, setLanguage, onLanguageChange, language } from "./i18n.js";
import { acquireMedia, listDevices, stopStream, resumeAudio, LevelMeter } from "./media.js";
import { CheckView } from "./views/check.js";
import { MeetingView } from "./views/meeting.js";
import { renderScreens } from "./views/screens.js";

/**
 * @typedef {import("./store.js").State} State
 * @typedef {import("./store.js").StoreEvent} StoreEvent
 * @typedef {import("./media.js").DeviceChoice} DeviceChoice
 */

const TOKEN_KEY = "gikai.token";
const DEVICES_KEY = "gikai.devices";
const TICK_MS = 100;

/**
 * The join token from the link's fragment (`/join#TOKEN`), kept for this tab so that a
 * reload works; it is taken out of the address bar so it is not shown or bookmarked.
 * @returns {string}
 */
function readToken() {
  let fromHash = location.hash.replace(/^#/, "");
  try { fromHash = decodeURIComponent(fromHash); } catch { /* keep raw */ }
  try {
    if (fromHash) {
      sessionStorage.setItem(TOKEN_KEY, fromHash);
      history.replaceState(null, "", location.pathname + location.search);
      return fromHash;
    }
    return sessionStorage.getItem(TOKEN_KEY) || "";
  } catch {
    return fromHash;
  }
}

/** @returns {DeviceChoice} */
function savedDevices() {
  try {
    const saved = JSON.parse(localStorage.getItem(DEVICES_KEY) || "{}");
    return { audio: String(saved.audio || ""), video: String(saved.video || "") };
  } catch {
    return { audio: "", video: "" };
  }
}

class App {
  /** Build the views; nothing talks to the network yet. */
  constructor() {
    /** @type {State} */
    this.state = initialState();
    this.token = readToken();
    /** @type {DeviceChoice} */
    this.choice = savedDevices();
    /** @type {MediaStream | null} */
    this.localStream = null;
    /** @type {Promise<void> | null} */
    this.acquiring = null;
    /** @type {LevelMeter | null} */
    this.checkMeter = null;
    /** @type {Signaling | null} */
    this.signaling = null;
    /** @type {MediaPeer | null} */
    this.peer = null;
    this.leaving = false;
    /** @type {number | null} */
    this.firstRemoteFrameMs = null;
    /** @type {Record<string, number>} */
    this.firstFrameByParticipant = {};
    /** @type {Record<string, number>} first time each step happened, ms since page load */
    this.timeline = {};

    this.check = new CheckView({
      onJoin: () => this.join(),
      onDeviceChange: (kind, id) => this.changeDevice(kind, id),
    });
    this.meeting = new MeetingView({
      onToggleMic: () => this.toggle("audio"),
      onToggleCamera: () => this.toggle("video"),
      onLeave: () => this.leave(),
      onFirstRemoteFrame: (id) => this.firstFrame(id),
    });
    for (const id of ["rejoin-button", "retry-button"]) {
      /** @type {HTMLElement} */ (document.getElementById(id)).addEventListener("click", () => this.rejoin());
    }
    for (const button of document.querySelectorAll(".lang-button")) {
      button.addEventListener("click", () => setLanguage(/** @type {any} */ (button).dataset.lang));
    }
    onLanguageChange(() => {
      this.check.retranslate();
      this.meeting.retranslate();
      this.render();
    });
    // A headset plugged in during the check shows up in the lists at once.
    navigator.mediaDevices?.addEventListener?.("devicechange", () => {
      if (this.state.screen !== "check") return;
      listDevices().then((devices) => this.check.setDevices(devices, this.check.selected)).catch(() => {});
    });
    // Browsers keep audio stopped until the member touches the page.
    document.addEventListener("pointerdown", () => resumeAudio(), { once: true });
    window.setInterval(() => this.tick(), TICK_MS);
  }

  /**
   * Note the first time a step happens (for tests and support: where does joining take time?).
   * @param {string} step
   * @returns {void}
   */
  mark(step) {
    this.timeline[step] ??= Math.round(performance.now());
  }

  /**
   * Show the first screen and start the camera and microphone.
   * @returns {void}
   */
  start() {
    this.mark("app_started");
    translate(document);
    this.render();
    if (!this.token) {
      this.dispatch({ type: "fatal", code: "no_token" });
      return;
    }
    this.acquiring = this.acquire();
  }

  /**
   * @param {StoreEvent} event
   * @returns {void}
   */
  dispatch(event) {
    this.state = apply(this.state, event);
    this.render();
  }

  /**
   * Re-render every view from the state.
   * @returns {void}
   */
  render() {
    renderScreens(this.state);
    if (this.state.screen === "meeting") this.meeting.render(this.state);
  }

  // -- device check ------------------------------------------------------------------
  /** Get camera and microphone for the current choice and show them. */
  async acquire() {
    this.check.setProblems(null);
    const { stream, problems } = await acquireMedia(this.choice);
    this.mark("camera_ready");
    this.setLocalStream(stream);
    this.check.setProblems(problems);
    const devices = await listDevices().catch(() => ({ audio: [], video: [] }));
    this.check.setDevices(devices, {
      audio: stream?.getAudioTracks()[0]?.getSettings().deviceId || "",
      video: stream?.getVideoTracks()[0]?.getSettings().deviceId || "",
    });
  }

  /**
   * @param {MediaStream | null} stream
   * @returns {void}
   */
  setLocalStream(stream) {
    this.localStream = stream;
    for (const track of stream?.getAudioTracks() || []) track.enabled = !this.state.audioMuted;
    for (const track of stream?.getVideoTracks() || []) track.enabled = !this.state.videoMuted;
    this.check.setStream(stream);
    this.checkMeter?.close();
    this.checkMeter = null;
    if (stream?.getAudioTracks().length) {
      try {
        this.checkMeter = new LevelMeter(new MediaStream(stream.getAudioTracks()));
      } catch { /* no WebAudio */ }
    }
  }

  /**
   * @param {"audio" | "video"} kind
   * @param {string} deviceId
   */
  async changeDevice(kind, deviceId) {
    this.choice = { ...this.choice, [kind]: deviceId };
    try { localStorage.setItem(DEVICES_KEY, JSON.stringify(this.choice)); } catch { /* not kept */ }
    await this.acquiring;
    stopStream(this.localStream); // some cameras cannot be opened twice
    this.acquiring = this.acquire();
    await this.acquiring;
  }

  // -- joining -----------------------------------------------------------------------
  /**
   * Leave the device check and connect; Signaling keeps the connection up from here.
   * @returns {Promise<void>}
   */
  async join() {
    this.mark("join_clicked");
    this.check.setJoining(true);
    await resumeAudio();
    await this.acquiring;
    this.mark("media_ready");
    this.checkMeter?.close();
    this.checkMeter = null;
    this.check.setStream(null);
    this.leaving = false;
    this.dispatch({ type: "screen", screen: "meeting" });
    this.dispatch({ type: "connection", connection: "connecting" });
    // Callbacks of a socket that was replaced (leave, rejoin) must not touch the new one.
    /** @type {Signaling} */
    const signaling = new Signaling({
      token: this.token,
      onJoined: (data) => { if (this.signaling === signaling) this.joined(data); },
      onPush: (push) => { if (this.signaling === signaling) this.onPush(push); },
      onStatus: (status) => {
        if (this.signaling !== signaling) return;
        if (status === "connecting" || status === "reconnecting") this.dispatch({ type: "connection", connection: status });
      },
      onDisconnected: () => { if (this.signaling === signaling) this.disconnected(); },
      onFatal: (error) => { if (this.signaling === signaling) this.fatal(error); },
    });
    this.signaling = signaling;
    this.signaling.start();
  }

  /** @param {import("./signaling.js").JoinData} data */
  joined(data) {
    this.mark("joined");
    this.dispatch({ type: "joined", data });
    this.meeting.setLocalMedia(this.localStream);
    if (this.state.audioMuted || this.state.videoMuted) this.sendMediaState();
  }

  /** @param {import("./signaling.js").Push} push */
  onPush(push) {
    switch (push.type) {
      case "offer":
        this.mark("offer_received");
        this.ensurePeer().handleOffer(/** @type {any} */ (push)).catch((error) => {
          console.error("offer failed", error);
          this.signaling?.reconnect(); // start over with a fresh connection and offer
        });
        break;
      case "participant_joined":
      case "participant_updated":
      case "participant_left":
        this.dispatch(/** @type {StoreEvent} */ (push));
        break;
      default:
        break; // newer servers may push more; ignore what we do not know
    }
  }

  /** @returns {MediaPeer} */
  ensurePeer() {
    if (this.peer) return this.peer;
    const signaling = /** @type {Signaling} */ (this.signaling);
    const peer = new MediaPeer({
      localStream: this.localStream,
      sendAnswer: (sdp, revision) => {
        this.mark("answer_sent");
        return signaling.request("answer", { sdp, revision });
      },
      onRemoteMedia: (remote) => this.meeting.setRemoteMedia(remote),
      onFailed: () => {
        if (this.peer !== peer) return;
        this.dispatch({ type: "connection", connection: "media_failed" });
        signaling.reconnect();
      },
    });
    this.peer = peer;
    return peer;
  }

  /**
   * Close the media connection; tiles keep their names but lose their media.
   * @returns {void}
   */
  teardownPeer() {
    this.peer?.close();
    this.peer = null;
    this.meeting.setRemoteMedia(new Map());
  }

  /**
   * The socket dropped: the server ended our media too, so drop ours and wait for the rejoin.
   * @returns {void}
   */
  disconnected() {
    this.teardownPeer();
    if (!this.leaving) this.dispatch({ type: "disconnected" });
  }

  /** @param {ProtocolError} error */
  fatal(error) {
    this.teardownPeer();
    this.dispatch({ type: "fatal", code: error.code, message: error.serverMessage });
  }

  // -- in the meeting ----------------------------------------------------------------
  /** @param {"audio" | "video"} kind */
  toggle(kind) {
    const muted = kind === "audio" ? !this.state.audioMuted : !this.state.videoMuted;
    const tracks = kind === "audio" ? this.localStream?.getAudioTracks() : this.localStream?.getVideoTracks();
    for (const track of tracks || []) track.enabled = !muted;
    this.dispatch(kind === "audio" ? { type: "local_media", audioMuted: muted } : { type: "local_media", videoMuted: muted });
    this.sendMediaState();
  }

  /**
   * Tell the others whether our microphone and camera are on.
   * @returns {void}
   */
  sendMediaState() {
    this.signaling?.request("media_state", {
      audio_muted: this.state.audioMuted,
      video_muted: this.state.videoMuted,
    }).catch(() => { /* resent after the next join */ });
  }

  /**
   * Leave the meeting on purpose and release the camera.
   * @returns {Promise<void>}
   */
  async leave() {
    this.leaving = true;
    const signaling = this.signaling;
    this.signaling = null;
    await signaling?.leave();
    this.teardownPeer();
    this.meeting.clear();
    stopStream(this.localStream); // the camera light goes off
    this.localStream = null;
    this.dispatch({ type: "left" });
  }

  /** Join again after leaving or after another screen took over. */
  async rejoin() {
    this.signaling?.stop();
    this.signaling = null;
    this.teardownPeer();
    this.meeting.clear();
    stopStream(this.localStream);
    this.localStream = null;
    this.acquiring = this.acquire();
    await this.join();
  }

  /** @param {string} participantId */
  firstFrame(participantId) {
    const now = performance.now();
    this.mark("first_remote_frame");
    this.firstFrameByParticipant[participantId] ??= now;
    if (this.firstRemoteFrameMs === null) this.firstRemoteFrameMs = now;
  }

  /**
   * A few times a second: speaking indicators and the level meter.
   * @returns {void}
   */
  tick() {
    const now = performance.now();
    if (this.state.screen === "meeting") this.meeting.tick(now);
    if (this.state.screen === "check" && this.checkMeter) this.check.setLevel(this.checkMeter.level());
  }
}

/**
 * Read-only hooks for end-to-end tests and for support staff in the console.
 * @param {App} app
 * @returns {void}
 */
function exposeHooks(app) {
  /** @type {any} */ (window).gikai = {
    get state() { return app.state; },
    get language() { return language(); },
    get firstRemoteFrameMs() { return app.firstRemoteFrameMs; },
    get firstFrameByParticipant() { return { ...app.firstFrameByParticipant }; },
    get timeline() { return { ...app.timeline }; },
    get peerTimeline() { return app.peer ? { ...app.peer.timeline } : {}; },
    /** Remote videos shown now, with their decoded frame counts. */
    remoteVideos() {
      return [...app.meeting.tiles.values()].filter((tile) => tile.videoTrack).map((tile) => ({
        participant: tile.id,
        frames: tile.totalVideoFrames(),
        shown: tile.framesShown,
        width: tile.video.videoWidth,
        height: tile.video.videoHeight,
      }));
    },
    /** Received audio level per participant (analyser, 0..1 on a 60 dB scale). */
    audioLevels() {
      /** @type {Record<string, number>} */
      const out = {};
      for (const tile of app.meeting.tiles.values()) if (tile.meter) out[tile.id] = tile.meter.level();
      return out;
    },
    /** inbound-rtp statistics per participant and kind. */
    stats() { return app.peer ? app.peer.receiveStats() : Promise.resolve({}); },
    get connectionState() { return app.peer ? app.peer.pc.connectionState : "none"; },
    /** Drop the socket as a network failure would; the client must rejoin by itself. */
    dropConnection() { app.signaling?.reconnect(); },
  };
}

const app = new App();
exposeHooks(app);
app.start();
