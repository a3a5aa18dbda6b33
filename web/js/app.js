/**
 * Wiring: token, devices, signaling, the media peer and the views. The state lives in
 * one place and changes only through `apply` (store.js); views are re-rendered from it.
 * Test hooks are on `window.gikai` (see `exposeHooks`).
 *
 * Two ways in: a rehearsal link `/join#TOKEN`, or a member's page `/meeting/ID` where
 * the session cookie (from a passkey login) says who is joining.
 */
import { Signaling, ProtocolError, ConnectionLost } from "./signaling.js";
import { MediaPeer } from "./peer.js";
import { apply, initialState } from "./store.js";
import { translate, setLanguage, onLanguageChange, TABLES } from "./i18n.js";
import { acquireMedia, listDevices, stopStream, resumeAudio, LevelMeter } from "./media.js";
import { CheckView } from "./views/check.js";
import { MeetingView } from "./views/meeting.js";
import { renderScreens } from "./views/screens.js";
import { SittingView } from "./views/sitting.js";
import { VotePanel } from "./views/vote.js";
import { DocumentsView } from "./views/documents.js";
import { StageView } from "./views/stage.js";
import { ScreenShare } from "./screenshare.js";
import { Votes } from "./voting.js";
import { readToken, meetingIdFromPath, goToLogin, checkLogin } from "./entry.js";
import { exposeHooks } from "./hooks.js";

/**
 * @typedef {import("./store.js").State} State
 * @typedef {import("./store.js").StoreEvent} StoreEvent
 * @typedef {import("./media.js").DeviceChoice} DeviceChoice
 */

const DEVICES_KEY = "gikai.devices";
const TICK_MS = 100;
/** How often the server hears how much of the others' video this screen decodes. */
const RECEPTION_MS = 2000;

/** @returns {DeviceChoice} */
function savedDevices() {
  try {
    const saved = JSON.parse(localStorage.getItem(DEVICES_KEY) || "{}");
    return { audio: String(saved.audio || ""), video: String(saved.video || "") };
  } catch {
    return { audio: "", video: "" };
  }
}

/**
 * A text in a given language (for messages shown in whichever language is chosen later).
 * @param {"ja" | "en"} lang
 * @param {string} key
 * @returns {string}
 */
function translateFor(lang, key) {
  return TABLES[lang][key] ?? key;
}

export class App {
  /** Build the views; nothing talks to the network yet. */
  constructor() {
    /** @type {State} */
    this.state = initialState();
    this.meetingId = meetingIdFromPath();
    this.token = this.meetingId ? "" : readToken();
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
    this.sitting = new SittingView(/** @type {HTMLElement} */ (document.getElementById("sitting")), {
      command: (name, fields) => this.command(name, fields),
      dismissError: () => this.dispatch({ type: "dismiss_error" }),
      attendance: () => this.signaling ? this.signaling.request("attendance") : Promise.reject(new ConnectionLost()),
      ballot: (action, fields) => this.votes.ballotAction(action, fields),
      showResult: (ballotId) => this.vote.showResult(ballotId),
    });
    this.vote = new VotePanel(/** @type {HTMLElement} */ (document.getElementById("vote-panel")), {
      choose: (choice) => this.votes.step("confirm", { choice }),
      back: () => this.votes.step("choose"),
      cast: () => this.votes.cast(),
      dismiss: () => this.votes.step("dismissed"),
    });
    this.documents = new DocumentsView(/** @type {HTMLElement} */ (document.getElementById("screen-meeting")), {
      present: (action, fields) => this.signaling ? this.signaling.request("present", fields) : Promise.reject(new ConnectionLost()),
      token: () => this.token,
    });
    this.stage = new StageView(/** @type {HTMLElement} */ (document.getElementById("screen-meeting")), {
      share: () => { this.screenShare.start(); },
      stop: () => { this.screenShare.end(); },
    });
    this.screenShare = new ScreenShare({
      peer: () => this.peer,
      present: (fields) => this.signaling ? this.signaling.request("present", fields) : Promise.reject(new ConnectionLost()),
      onLocal: (stream) => this.stage.setLocalScreen(stream),
      onRefused: (error) => this.refused(error),
    });
    this.votes = new Votes({
      state: () => this.state,
      dispatch: (event) => this.dispatch(event),
      signaling: () => this.signaling,
      refused: (error) => this.refused(error),
      announced: (before, after, news) => {
        this.sitting.announceBallot(before, after);
        // The announcement is shown to everyone, large, until they close it.
        if (after && news === "published") this.vote.showResult(after.id);
      },
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
      this.sitting.retranslate();
      this.vote.retranslate();
      this.documents.retranslate();
      this.stage.retranslate();
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
    window.setInterval(() => this.reportReception(), RECEPTION_MS);
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
    if (this.state.screen === "meeting") {
      this.meeting.render(this.state);
      this.sitting.render(this.state);
      this.vote.render(this.state);
      this.documents.render(this.state);
      this.stage.render(this.state);
    }
    this.screenShare.follow(this.state);
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
      join: this.meetingId ? { meeting_id: this.meetingId } : { token: this.token },
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
    this.dispatch({ type: "joined", data, receivedAt: Date.now() });
    this.meeting.setLocalMedia(this.localStream);
    this.vote.setLocalStream(this.localStream);
    this.votes.restoreReceipt();
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
      case "sitting":
        if (!push.sitting) break;
        this.dispatch({ type: "sitting", sitting: push.sitting, receivedAt: Date.now() });
        this.sitting.announce(push.events || []);
        this.documents.announce(push.events || []);
        break;
      case "ballot":
        if (push.ballot) this.votes.apply(push.ballot);
        break;
      case "presentation":
        this.dispatch({ type: "presentation", presentation: /** @type {any} */ (push).presentation ?? null });
        break;
      case "screen":
        this.dispatch({ type: "shared_screen", screen: /** @type {any} */ (push).screen ?? null });
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
      onRemoteMedia: (remote) => {
        this.meeting.setRemoteMedia(remote);
        this.stage.setRemoteMedia(remote);
      },
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
    this.screenShare.release();
    this.peer?.close();
    this.peer = null;
    this.meeting.setRemoteMedia(new Map());
    this.stage.setRemoteMedia(new Map());
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
    this.vote.setLocalStream(null);
    stopStream(this.localStream);
    this.localStream = null;
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
    if (error instanceof ProtocolError) {
      this.dispatch({ type: "command_error", code: error.code, message: error.serverMessage });
    } else {
      this.dispatch({ type: "command_error", code: "connection_lost", message: {
        ja: translateFor("ja", "sitting.error.offline"), en: translateFor("en", "sitting.error.offline"),
      } });
    }
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
    this.vote.setLocalStream(null);
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
   * Tell the server how many frames of the others' video this screen has decoded: that is
   * how it knows a remote member is receiving the chamber (presence, docs in README.md).
   * @returns {Promise<void>}
   */
  async reportReception() {
    const signaling = this.signaling;
    const peer = this.peer;
    if (!signaling || !peer || this.state.connection !== "connected") return;
    try {
      const stats = await peer.receiveStats();
      let decoded = 0;
      for (const kinds of Object.values(stats)) decoded += kinds.video?.framesDecoded || 0;
      await signaling.request("reception", { frames_decoded: Math.min(decoded, Number.MAX_SAFE_INTEGER) });
    } catch { /* an older server, or the socket is going: the next report will do */ }
  }

  /**
   * A few times a second: speaking indicators and the level meter.
   * @returns {void}
   */
  tick() {
    const now = performance.now();
    if (this.state.screen === "meeting") {
      this.meeting.tick(now);
      this.sitting.tick();
    }
    if (this.state.screen === "check" && this.checkMeter) this.check.setLevel(this.checkMeter.level());
  }
}


const app = new App();
exposeHooks(app);
app.start();
