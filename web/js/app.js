/**
 * Wiring: token, devices, signaling, the media peer and the views. The state lives in
 * one place and changes only through `apply` (store.js); views are re-rendered from it.
 * Test hooks are on `window.gikai` (see `exposeHooks`).
 *
 * Two ways in: a rehearsal link `/join#TOKEN`, or a member's page `/meeting/ID` where
 * the session cookie (from a passkey login) says who is joining.
 */
import { Signaling, ConnectionLost } from "./signaling.js";
import { MeetingPeer } from "./meetingpeer.js";
import { LocalDevices } from "./devices.js";
import { refusalEvent } from "./commands.js";
import { apply, initialState } from "./store.js";
import { translate, setLanguage, onLanguageChange, setPlenary } from "./i18n.js";
import { resumeAudio } from "./media.js";
import { CheckView } from "./views/check.js";
import { MeetingView } from "./views/meeting.js";
import { renderScreens } from "./views/screens.js";
import { MeetingPanels } from "./panels.js";
import { readToken, meetingIdFromPath, goToLogin, checkLogin } from "./entry.js";
import { exposeHooks } from "./hooks.js";
import { seatInfo } from "./api.js";
import { AudioOnly } from "./audioonly.js";
import { MeetingOver } from "./views/over.js";
import { LiveCaption } from "./views/livecaption.js";
import { byId } from "./views/dom.js";

/**
 * @typedef {import("./store.js").State} State
 * @typedef {import("./store.js").StoreEvent} StoreEvent
 * @typedef {import("./signaling.js").ProtocolError} ProtocolError
 */

const TICK_MS = 100;
/** How often the server hears how much of the others' video this screen decodes. */
const RECEPTION_MS = 2000;

export class App {
  /** Build the views; nothing talks to the network yet. */
  constructor() {
    /** @type {State} */
    this.state = initialState();
    this.meetingId = meetingIdFromPath();
    this.token = this.meetingId ? "" : readToken();
    /** @type {Signaling | null} */
    this.signaling = null;
    this.leaving = false;
    /** @type {number | null} */
    this.firstRemoteFrameMs = null;
    /** @type {Record<string, number>} */
    this.firstFrameByParticipant = {};
    /** @type {Record<string, number>} first time each step happened, ms since page load */
    this.timeline = {};

    this.check = new CheckView({
      onJoin: () => this.join(),
      onDeviceChange: (kind, id) => this.devices.change(kind, id),
    });
    this.devices = new LocalDevices(this.check,
      () => ({ audio: this.state.audioMuted, video: this.state.videoMuted }), () => this.mark("camera_ready"));
    /** @type {RTCIceServer[]} TURN relays and credentials from the latest join reply or renewal */
    this.iceServers = [];
    this.media = new MeetingPeer({
      localStream: () => this.devices.stream,
      iceServers: () => this.iceServers,
      mark: (step) => this.mark(step),
      onRemoteMedia: (remote) => {
        this.meeting.setRemoteMedia(remote);
        this.panels.stage.setRemoteMedia(remote);
        this.panels.rollCall.setRemoteMedia(remote);
      },
      onFailed: (signaling) => {
        this.dispatch({ type: "connection", connection: "media_failed" });
        signaling.reconnect();
      },
    });
    this.meeting = new MeetingView({
      onToggleMic: () => this.toggle("audio"),
      onToggleCamera: () => this.toggle("video"),
      onLeave: () => this.leave(),
      onFirstRemoteFrame: (id) => this.firstFrame(id),
    });
    this.panels = new MeetingPanels({
      state: () => this.state,
      dispatch: (event) => this.dispatch(event),
      signaling: () => this.signaling,
      peer: () => this.peer,
      command: (name, fields) => this.command(name, fields),
      refused: (error) => this.refused(error),
      token: () => this.token,
    });
    this.audioOnly = new AudioOnly({ signaling: () => this.signaling });
    this.over = new MeetingOver(byId("over-panel"), { leave: () => this.leave() });
    this.caption = new LiveCaption();
    for (const id of ["rejoin-button", "retry-button"]) {
      /** @type {HTMLElement} */ (document.getElementById(id)).addEventListener("click", () => this.rejoin());
    }
    for (const button of document.querySelectorAll(".lang-button")) {
      button.addEventListener("click", () => setLanguage(/** @type {any} */ (button).dataset.lang));
    }
    onLanguageChange(() => this.retranslate());
    // A headset plugged in during the check shows up in the lists at once.
    navigator.mediaDevices?.addEventListener?.("devicechange", () => {
      if (this.state.screen === "check") this.devices.relist();
    });
    // Browsers keep audio stopped until the member touches the page.
    document.addEventListener("pointerdown", () => resumeAudio(), { once: true });
    window.setInterval(() => this.tick(), TICK_MS);
    window.setInterval(() => this.reportReception(), RECEPTION_MS);
  }

  /** Rebuild every text (another language, or the body's titles once the sitting is known). */
  retranslate() {
    this.check.retranslate();
    this.meeting.retranslate();
    this.panels.retranslate();
    this.over.retranslate();
    this.caption.render();
    this.render();
  }

  /** @returns {import("./peer.js").MediaPeer | null} the media connection (for the test hooks) */
  get peer() {
    return this.media.peer;
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
    document.body.dataset.entry = this.meetingId ? "member" : "rehearsal";
    translate(document);
    this.render();
    if (!this.token && !this.meetingId) {
      this.dispatch({ type: "fatal", code: "no_token" });
      return;
    }
    if (this.meetingId) checkLogin();
    this.devices.start();
    this.loadSeat();
  }

  /**
   * Name the sitting and the person on the device check; the body's kind sets the titles.
   * @returns {Promise<void>}
   */
  async loadSeat() {
    try {
      const seat = await seatInfo(this.meetingId ? { meeting_id: this.meetingId } : { token: this.token });
      this.check.setSeat(seat);
      if (setPlenary(seat.body.plenary)) this.retranslate();
    } catch { /* not logged in, a bad link or offline: joining says which */ }
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
    if (this.state.screen === "meeting") {
      this.meeting.render(this.state);
      this.panels.render(this.state);
      this.over.render(this.state);
    }
    this.panels.screenShare.follow(this.state);
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
    await this.devices.acquiring;
    this.mark("media_ready");
    this.devices.closeMeter();
    this.check.setStream(null);
    this.leaving = false;
    this.dispatch({ type: "screen", screen: "meeting" });
    this.dispatch({ type: "connection", connection: "connecting", reason: null });
    // Callbacks of a socket that was replaced (leave, rejoin) must not touch the new one.
    /** @type {Signaling} */
    const signaling = new Signaling({
      join: this.meetingId ? { meeting_id: this.meetingId } : { token: this.token },
      onJoined: (data) => { if (this.signaling === signaling) this.joined(data); },
      onPush: (push) => { if (this.signaling === signaling) this.onPush(push); },
      onStatus: (status) => {
        if (this.signaling !== signaling) return;
        if (status === "connecting" || status === "reconnecting") this.dispatch({ type: "connection", connection: status });
      },
      onRefused: (error) => {
        if (this.signaling !== signaling) return;
        this.dispatch({ type: "connection", connection: "reconnecting", reason: error.serverMessage ?? null });
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
    this.iceServers = data.ice_servers ?? [];
    this.dispatch({ type: "joined", data, receivedAt: Date.now() });
    if (setPlenary(!!data.sitting?.plenary)) this.retranslate();
    this.meeting.setLocalMedia(this.devices.stream);
    this.panels.vote.setLocalStream(this.devices.stream);
    this.panels.rollCall.setLocalStream(this.devices.stream);
    this.panels.votes.restoreReceipt();
    if (this.state.audioMuted || this.state.videoMuted) this.sendMediaState();
    this.audioOnly.joined();
  }

  /** @param {import("./signaling.js").Push} push */
  onPush(push) {
    switch (push.type) {
      case "offer":
        this.mark("offer_received");
        this.media.ensure(/** @type {Signaling} */ (this.signaling)).handleOffer(/** @type {any} */ (push)).catch((error) => {
          console.error("offer failed", error);
          // Tell the server why (it logs the reason and ends the media connection at once, then
          // this page reconnects with a fresh connection and offer); if it cannot hear, start over.
          const signaling = this.signaling;
          const reason = String(error?.message || error).slice(0, 500);
          signaling?.request("refuse_offer", { revision: /** @type {any} */ (push).revision, reason })
            .catch(() => signaling.reconnect());
        });
        break;
      case "ice_servers":
        this.iceServers = /** @type {any} */ (push).ice_servers ?? [];
        this.peer?.setIceServers(this.iceServers);
        break;
      case "participant_joined":
      case "participant_updated":
      case "participant_left":
        this.dispatch(/** @type {StoreEvent} */ (push));
        break;
      case "sitting":
        if (!push.sitting) break;
        this.dispatch({ type: "sitting", sitting: push.sitting, receivedAt: Date.now() });
        this.panels.announce(push.events || []);
        break;
      case "ballot":
        if (push.ballot) this.panels.votes.apply(push.ballot);
        break;
      case "presentation":
        this.dispatch({ type: "presentation", presentation: /** @type {any} */ (push).presentation ?? null });
        break;
      case "screen":
        this.dispatch({ type: "shared_screen", screen: /** @type {any} */ (push).screen ?? null });
        break;
      case "audio_only_suggested":
        this.audioOnly.suggest();
        break;
      case "caption":
        if (/** @type {any} */ (push).caption) this.caption.show(/** @type {any} */ (push).caption);
        break;
      default:
        break; // newer servers may push more; ignore what we do not know
    }
  }

  /**
   * Close the media connection; tiles keep their names but lose their media.
   * @returns {void}
   */
  teardownPeer() {
    this.panels.screenShare.release();
    this.media.close();
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
    if (error.code === "not_logged_in") {
      goToLogin();
      return;
    }
    // Nothing follows on this screen: the camera light goes off.
    this.meeting.clear();
    this.panels.vote.setLocalStream(null);
    this.devices.release();
    this.dispatch({ type: "fatal", code: error.code, message: error.serverMessage });
  }

  // -- the sitting -------------------------------------------------------------------
  /**
   * Send a sitting command. A refusal is shown in the panel's banner (the server's own
   * words); the change itself arrives as a `sitting` push to everyone.
   * @param {string} name
   * @param {Record<string, any>} [fields]
   * @returns {Promise<boolean>} whether the server accepted it
   */
  async command(name, fields = {}) {
    const signaling = this.signaling;
    try {
      if (!signaling) throw new ConnectionLost();
      await signaling.request("command", { ...fields, name });
      this.dispatch({ type: "command_ok" });
      return true;
    } catch (error) {
      this.refused(error);
      return false;
    }
  }

  /**
   * Show why the server (or the connection) refused a command, in the panel's banner.
   * @param {unknown} error
   * @returns {void}
   */
  refused(error) {
    this.dispatch(refusalEvent(error));
  }

  // -- in the meeting ----------------------------------------------------------------
  /** @param {"audio" | "video"} kind */
  toggle(kind) {
    const muted = kind === "audio" ? !this.state.audioMuted : !this.state.videoMuted;
    this.devices.setMuted(kind, muted);
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
    this.panels.vote.setLocalStream(null);
    this.panels.vote.forgetResult();
    this.devices.release(); // the camera light goes off
    this.dispatch({ type: "left" });
  }

  /** Join again after leaving or after another screen took over. */
  async rejoin() {
    this.signaling?.stop();
    this.signaling = null;
    this.teardownPeer();
    this.meeting.clear();
    this.devices.release();
    this.devices.start();
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
   * Tell the server how many frames of the others' video this screen has decoded: that is
   * how it knows a remote member is receiving the chamber (presence, docs in README.md).
   * @returns {Promise<void>}
   */
  async reportReception() {
    if (this.signaling && this.state.connection === "connected") {
      await this.media.reportReception(this.signaling, this.audioOnly.on);
    }
  }

  /**
   * A few times a second: speaking indicators and the level meter.
   * @returns {void}
   */
  tick() {
    const now = performance.now();
    if (this.state.screen === "meeting") {
      this.meeting.tick(now);
      this.panels.sitting.tick();
    }
    if (this.state.screen === "check" && this.devices.meter) this.check.setLevel(this.devices.meter.level());
  }
}


const app = new App();
exposeHooks(app);
app.start();
