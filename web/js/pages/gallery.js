/**
 * The public gallery (傍聴席) at /gallery/<meeting id>: no login, watch and listen only.
 *
 * One WebSocket to /gallery/ws (the shared transport, `socket.js`) with three requests
 * (docs/protocol.md, "The public gallery"): `watch`, `answer`, `ping`. The server pushes
 * `gallery` (the whole view, the same for every viewer) and `offer`s; the browser answers and
 * only receives. Sound needs a press of the
 * sound button (browsers do not play sound by themselves).
 *
 * When the seats are full (満席) or WebRTC fails, and the sitting is being broadcast, the page
 * watches without media (as a chamber display does: no seat) and plays the broadcast's HLS stream
 * instead (`gallery/hls.js`), a few seconds behind, with its caption band in the picture.
 */
import { TABLES, t, translate, setLanguage, onLanguageChange, language } from "../i18n.js";
import strings from "../i18n/gallery.js";
import { GalleryPeer } from "../gallery/peer.js";
import { HlsPlayer, broadcastAvailable, canPlayBroadcast } from "../gallery/hls.js";
import { exposeHooks } from "../gallery/hooks.js";
import { LevelMeter, resumeAudio } from "../media.js";
import { Socket, ProtocolError } from "../socket.js";
import { h, byId as $ } from "../views/dom.js";
import { LiveCaption } from "../views/livecaption.js";

Object.assign(TABLES.ja, strings.ja);
Object.assign(TABLES.en, strings.en);

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];
const FULL_RETRY_MS = 30000;
const PING_MS = 15000;
const CLOSE_FULL = 4004;
const CLOSE_NO_MEDIA = 4005;
const FALLBACK_RETRY_MS = 300; // after turning to the broadcast: watch again, without media, at once

/**
 * @typedef {{name: string, role: string, kind?: string}} Person
 * @typedef {{id: string, position: number, title: string, state: string, result: string}} Item
 * @typedef {{id: string, motion: string, kind: string, majority: string, outcome: string, yes: number,
 *   no: number, abstain: number, decided_by_chair: boolean,
 *   votes: {name: string, choice: string}[] | null}} Result
 * @typedef {{meeting_id: string, title: string, body: string, plenary: boolean, state: string,
 *   agenda: Item[], current_item_id: string | null, speaker: Person | null, chair: Person | null,
 *   on_screen: "speaker" | "chair" | "screen" | null,
 *   screen_of?: "speaker" | "chair" | null, result: Result | null}} View
 */

export class GalleryPage {
  /** @param {string} meetingId */
  constructor(meetingId) {
    this.meetingId = meetingId;
    /** @type {View | null} */
    this.view = null;
    /** @type {GalleryPeer | null} */
    this.peer = null;
    /** @type {RTCIceServer[]} TURN relays and credentials from the latest watch reply or renewal */
    this.iceServers = [];
    this.soundOn = false;
    this.framesShown = 0;
    /** Watching the broadcast (HLS) instead of WebRTC: the seats were full or WebRTC failed. */
    this.fallback = false;
    /** @type {HlsPlayer | null} */
    this.hls = null;
    /** @type {LevelMeter | null} the broadcast's sound level, from the video element's own stream */
    this.hlsMeter = null;
    this.broadcastUrl = `/broadcast/${encodeURIComponent(meetingId)}/index.m3u8`;
    /** @type {Promise<boolean> | null} whether the broadcast can be had, being found out */
    this.fallbackCheck = null;
    this.fallbackCheckedAt = -Infinity;
    /** @type {"watching" | "full" | "missing" | "connecting"} */
    this.mode = "connecting";
    /** @type {Map<string, {audio: HTMLAudioElement, stream: MediaStream, meter: LevelMeter | null}>} */
    this.sinks = new Map();
    this.caption = new LiveCaption();
    this.socket = new Socket({
      path: "/gallery/ws",
      greet: (socket) => this.watch(socket),
      onReady: (data) => {
        this.show("watching");
        this.status("");
        this.render(data.view);
        if (this.fallback) this.startBroadcast();
      },
      onPush: (push) => this.receive(push),
      onStatus: (status) => {
        // The full page says itself that it tries again; the status line stays empty under it.
        if (this.mode === "full") return;
        if (status === "connecting" || status === "reconnecting") this.status(`gallery.status.${status}`);
      },
      onClosed: () => this.closeMedia(),
      refusalIsFinal: (error) => error.code === "not_found",
      onFatal: () => this.show("missing"),
      // A full gallery is tried again every 30 s, whatever the backoff says.
      retryDelay: (code, backoff) => {
        if ((this.fallback && !this.hls) || (code === CLOSE_FULL && this.fallbackCheck)) return FALLBACK_RETRY_MS;
        if (code === CLOSE_NO_MEDIA) this.fallBack(); // WebRTC never started: the broadcast, if there is one
        return code === CLOSE_FULL || this.mode === "full" ? FULL_RETRY_MS : backoff;
      },
      backoffMs: BACKOFF_MS,
      pingMs: PING_MS,
    });
    this.video = /** @type {HTMLVideoElement} */ ($("video"));
    $("sound").addEventListener("click", () => this.toggleSound());
    $("retry").addEventListener("click", () => {
      this.status("gallery.status.reconnecting");
      this.socket.restart();
    });
    this.countFrames();
    this.meterLoop();
  }

  // -- the socket ----------------------------------------------------------------------------
  /**
   * The greeting on every new socket; "full" is shown at once (the server then closes with 4004).
   * @param {Socket} socket
   * @returns {Promise<{view: View, ice_servers?: RTCIceServer[]}>}
   */
  async watch(socket) {
    if (this.fallbackCheck) {
      await this.fallbackCheck; // the seats were full: watch again only once the broadcast is known
      this.fallbackCheck = null;
    }
    try {
      /** @type {{view: View, ice_servers?: RTCIceServer[]}} */
      const reply = await socket.request("watch", { meeting_id: this.meetingId, media: !this.fallback });
      this.iceServers = reply.ice_servers ?? [];
      return reply;
    } catch (error) {
      if (error instanceof ProtocolError && error.code === "gallery_full") {
        this.show("full");
        // The server closes the socket now; the retry waits for this check (at most one per 30 s).
        if (performance.now() - this.fallbackCheckedAt > FULL_RETRY_MS) {
          this.fallbackCheckedAt = performance.now();
          this.fallbackCheck = this.fallBack();
        }
      }
      throw error;
    }
  }

  // -- the broadcast, when WebRTC cannot be had ----------------------------------------------
  /** Turn to the broadcast if the sitting has one; false when it has none. */
  async fallBack() {
    if (this.fallback) return true;
    if (!canPlayBroadcast() || !(await broadcastAvailable(this.broadcastUrl))) return false;
    this.fallback = true;
    return true;
  }

  startBroadcast() {
    if (this.hls) return;
    this.closeMedia();
    this.video.muted = !this.soundOn;
    this.hls = new HlsPlayer(this.video, this.broadcastUrl);
    this.hls.start();
    if (this.view) this.render(this.view);
  }

  async mediaFailed() {
    if (await this.fallBack()) this.closeMedia();
    this.socket.reconnect(); // with a new peer, or without media when the broadcast plays
  }

  /** @param {import("../socket.js").Push} message */
  receive(message) {
    if (message.type === "gallery") {
      this.render(message.view);
    } else if (message.type === "ice_servers") {
      this.iceServers = /** @type {any} */ (message).ice_servers ?? [];
      this.peer?.setIceServers(this.iceServers);
    } else if (message.type === "offer") {
      if (!this.peer) {
        this.peer = new GalleryPeer((sdp, revision) => this.answer(sdp, revision), (event) => this.track(event),
          this.iceServers);
        this.peer.onFailed = () => this.mediaFailed();
      }
      this.peer.offer({ sdp: message.sdp, revision: message.revision });
    } else if (message.type === "caption") {
      this.caption.show(/** @type {any} */ (message).caption);
    }
  }

  /**
   * @param {string} sdp
   * @param {number} revision
   */
  answer(sdp, revision) {
    this.socket.request("answer", { sdp, revision }).catch((error) => {
      console.warn("gallery:", error instanceof ProtocolError ? error.code : error);
    });
  }

  // -- media ---------------------------------------------------------------------------------
  /** @param {RTCTrackEvent} event */
  track(event) {
    const stream = new MediaStream([event.track]);
    if (event.track.kind === "video") {
      this.video.srcObject = stream;
      this.video.play().catch(() => {});
      return;
    }
    const key = event.transceiver.mid || String(this.sinks.size);
    const sink = { audio: h("audio"), stream, meter: /** @type {LevelMeter | null} */ (null) };
    sink.audio.autoplay = true;
    sink.audio.muted = !this.soundOn;
    sink.audio.srcObject = stream;
    $("audio-sinks").append(sink.audio);
    if (this.soundOn) sink.meter = new LevelMeter(stream);
    this.sinks.get(key)?.audio.remove();
    this.sinks.set(key, sink);
  }

  async toggleSound() {
    this.soundOn = !this.soundOn;
    if (this.soundOn) await resumeAudio();
    if (this.hls) {
      this.video.muted = !this.soundOn;
      if (this.soundOn) this.video.play().catch(() => {});
      const capture = /** @type {any} */ (this.video).captureStream;
      if (this.soundOn && !this.hlsMeter && typeof capture === "function") {
        const stream = /** @type {MediaStream} */ (capture.call(this.video));
        if (stream.getAudioTracks().length) this.hlsMeter = new LevelMeter(stream);
      }
    }
    for (const sink of this.sinks.values()) {
      sink.audio.muted = !this.soundOn;
      if (this.soundOn) {
        sink.audio.play().catch(() => {});
        sink.meter ??= new LevelMeter(sink.stream);
      }
    }
    this.renderSound();
  }

  closeMedia() {
    if (this.hls) return; // the broadcast plays on without the socket
    this.peer?.close();
    this.peer = null;
    for (const sink of this.sinks.values()) {
      sink.meter?.close();
      sink.audio.remove();
    }
    this.sinks.clear();
    this.video.srcObject = null;
  }

  /** The loudest received voice now, 0..1 (only while sound is on). */
  audioLevel() {
    let level = this.soundOn && this.hlsMeter ? this.hlsMeter.level() : 0;
    for (const sink of this.sinks.values()) if (sink.meter) level = Math.max(level, sink.meter.level());
    return level;
  }

  meterLoop() {
    const bar = $("sound-meter-bar");
    const tick = () => {
      bar.style.transform = `scaleX(${this.audioLevel().toFixed(3)})`;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  countFrames() {
    const video = /** @type {any} */ (this.video);
    if (typeof video.requestVideoFrameCallback !== "function") return;
    const next = () => video.requestVideoFrameCallback(() => { this.framesShown += 1; next(); });
    next();
  }

  // -- what is shown -------------------------------------------------------------------------
  /** @param {"watching" | "full" | "missing" | "connecting"} mode */
  show(mode) {
    this.mode = mode;
    $("screen-watch").hidden = mode !== "watching";
    $("screen-full").hidden = mode !== "full";
    $("screen-missing").hidden = mode !== "missing";
    if (mode !== "watching") this.status("");
    this.renderOtherLanguage();
  }

  /** @param {string} key */
  status(key) {
    const status = $("status");
    status.textContent = key ? t(key) : "";
    status.hidden = !key;
  }

  /**
   * @param {string} role
   * @returns {string}
   */
  role(role) {
    const plenary = this.view?.plenary && ["chair", "vice_chair", "member"].includes(role);
    return t(`gallery.role.${role}${plenary ? "_plenary" : ""}`);
  }

  /** @param {Person} person @returns {string} */
  person(person) {
    return t("gallery.speaker.line", { name: person.name, role: this.role(person.role) });
  }

  /** @param {View} view */
  render(view) {
    this.view = view;
    $("title").textContent = view.title;
    $("body-name").textContent = view.body;
    document.title = `${view.title} — ${t("gallery.page_title")}`;
    const badge = $("state-badge");
    badge.textContent = t(`gallery.state.${view.state}`);
    badge.dataset.state = view.state;
    const notice = view.state !== "open" ? t(`gallery.notice.${view.state}`)
      : view.on_screen ? "" : t("gallery.notice.no_video");
    $("screen-notice").textContent = notice;
    $("screen-notice").hidden = !notice;
    this.video.hidden = !!notice;
    const whose = view.on_screen === "screen" ? view.screen_of : view.on_screen;
    const shown = whose === "speaker" ? view.speaker : whose === "chair" ? view.chair : null;
    // The broadcast carries its own caption band in the picture.
    $("caption").hidden = !shown || !!notice || !!this.hls;
    $("broadcast-note").hidden = !this.hls;
    $("caption-tag").textContent = view.on_screen ? t(`gallery.on_screen.${view.on_screen}`) : "";
    $("caption-name").textContent = shown ? this.person(shown) : "";
    const speaker = $("speaker");
    speaker.replaceChildren(...(view.speaker
      ? [h("span", { class: "speaker-name", "data-testid": "gallery-speaker-name" }, this.person(view.speaker)),
        h("span", { class: "chip" }, t(`gallery.kind.${view.speaker.kind}`))]
      : [h("span", { class: "none" }, t("gallery.speaker.none"))]));
    this.renderAgenda(view);
    this.renderResult(view.result);
    this.renderSound();
  }

  /** @param {View} view */
  renderAgenda(view) {
    const items = view.agenda.map((item) => {
      const current = item.id === view.current_item_id;
      return h("li", {
        class: `item${current ? " current" : ""}`, "data-state": item.state, "aria-current": current ? "step" : null,
      },
      h("span", { class: "item-title" }, item.title),
      h("span", { class: "chip" }, current ? t("gallery.agenda.current") : t(`gallery.item.${item.state}`)),
      item.result ? h("span", { class: "item-result" }, t("gallery.agenda.result", { result: item.result })) : null);
    });
    $("agenda").replaceChildren(...(items.length ? items : [h("li", { class: "none" }, t("gallery.agenda.none"))]));
  }

  /** @param {Result | null} result */
  renderResult(result) {
    const box = $("result");
    if (!result) {
      box.replaceChildren(h("p", { class: "none" }, t("gallery.result.none")));
      return;
    }
    const parts = [
      h("p", { class: "motion", "data-testid": "gallery-motion" }, result.motion),
      h("p", { class: `outcome ${result.outcome}`, "data-testid": "gallery-outcome" }, t(`gallery.result.${result.outcome}`)),
      h("p", { class: "counts", "data-testid": "gallery-counts" },
        t("gallery.result.counts", { yes: result.yes, no: result.no }),
        result.abstain ? "・" : null, result.abstain ? t("gallery.result.abstain", { abstain: result.abstain }) : null),
      h("p", { class: "hint" }, t(`gallery.result.${result.kind}`)),
    ];
    if (result.decided_by_chair) parts.push(h("p", { class: "by-chair" }, t("gallery.result.by_chair", { chair: this.role("chair") })));
    if (result.votes && result.votes.length) {
      const rows = result.votes.map((v) => h("tr", {}, h("th", { scope: "row" }, v.name),
        h("td", { class: `choice ${v.choice}` }, t(`gallery.choice.${v.choice}`))));
      parts.push(h("table", { class: "votes", "data-testid": "gallery-votes" },
        h("caption", {}, t("gallery.result.votes")), h("tbody", {}, ...rows)));
    }
    box.replaceChildren(...parts);
  }

  renderSound() {
    const button = $("sound");
    button.textContent = t(this.soundOn ? "gallery.sound.off" : "gallery.sound.on");
    button.classList.toggle("primary", !this.soundOn);
    button.classList.toggle("secondary", this.soundOn);
    $("sound-hint").hidden = this.soundOn;
  }

  renderOtherLanguage() {
    const other = /** @type {HTMLElement} */ (document.querySelector("#screen-full .other-lang"));
    const ja = language() === "ja";
    other.lang = ja ? "en" : "ja";
    other.textContent = ja ? strings.en["gallery.full.title"] : strings.ja["gallery.full.title"];
  }

  rerender() {
    translate(document);
    for (const button of document.querySelectorAll(".lang-button")) {
      button.setAttribute("aria-pressed", String(/** @type {HTMLElement} */ (button).dataset.lang === language()));
    }
    document.title = this.view ? `${this.view.title} — ${t("gallery.page_title")}` : t("gallery.app");
    if (this.view) this.render(this.view);
    else this.renderSound();
    this.renderOtherLanguage();
    this.caption.render();
    if (!$("status").hidden) {
      this.status(this.socket.attempt ? "gallery.status.reconnecting" : "gallery.status.connecting");
    }
  }
}

const meetingId = decodeURIComponent(location.pathname.replace(/\/+$/, "").split("/").pop() || "");
const page = new GalleryPage(meetingId);
for (const button of document.querySelectorAll(".lang-button")) {
  button.addEventListener("click", () => setLanguage(/** @type {any} */ (button).dataset.lang));
}
onLanguageChange(() => page.rerender());
page.rerender();
exposeHooks(page);
page.socket.start();
