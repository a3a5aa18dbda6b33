/**
 * One participant's tile: video (or their name when the camera is off), name and role,
 * a "mic off" label, and a thick border while they speak. Remote audio plays through
 * the tile's own <audio> element; the self tile has none and its video is muted.
 */
import { t } from "../i18n.js";
import { LevelMeter, SpeakingDetector } from "../media.js";
import { h } from "./dom.js";

/** @typedef {import("../signaling.js").RosterEntry} RosterEntry */

export const MIC_OFF_ICON = `<svg viewBox="0 0 24 24" width="1em" height="1em" aria-hidden="true" focusable="false">
<path fill="currentColor" d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5.3-3a5.3 5.3 0 0 1-10.6 0H5a7 7 0 0 0 6 6.9V21h2v-3.1a7 7 0 0 0 6-6.9z"/>
<path stroke="currentColor" stroke-width="2.4" stroke-linecap="round" d="M4 3l16 18"/></svg>`;

/**
 * Called once per tile when its first remote frame is shown.
 * @typedef {(participantId: string, video: HTMLVideoElement) => void} FirstFrameHook
 */

export class Tile {
  /**
   * @param {RosterEntry} entry
   * @param {{self: boolean, onFirstFrame?: FirstFrameHook}} options
   */
  constructor(entry, options) {
    this.id = entry.id;
    this.self = options.self;
    this.onFirstFrame = options.onFirstFrame;
    /** @type {RosterEntry} */
    this.entry = entry;
    /** @type {MediaStreamTrack | null} */
    this.videoTrack = null;
    /** @type {MediaStreamTrack | null} */
    this.audioTrack = null;
    /** @type {LevelMeter | null} */
    this.meter = null;
    this.detector = new SpeakingDetector();
    this.speaking = false;
    this.lastLevel = 0;
    this.framesShown = 0;

    const el = h("article", {
      class: "tile", "data-testid": "tile", "data-participant-id": entry.id, "data-self": String(this.self),
    });
    el.innerHTML = `
      <video class="tile-video" data-testid="tile-video" autoplay playsinline muted></video>
      <div class="placeholder" aria-hidden="true"><span class="placeholder-name"></span></div>
      <div class="badges">
        <span class="badge badge-presence" data-testid="tile-presence" hidden></span>
        <span class="badge badge-muted" data-testid="tile-muted" hidden>${MIC_OFF_ICON}<span class="text"></span></span>
        <span class="badge badge-camera" data-testid="tile-camera-off" hidden></span>
        <span class="badge badge-speaking" data-testid="tile-speaking" hidden></span>
      </div>
      <p class="tile-notice" data-testid="tile-notice" hidden></p>
      <div class="caption">
        <span class="role" data-testid="tile-role"></span>
        <span class="name" data-testid="tile-name"></span>
        <span class="you" data-testid="tile-you"></span>
      </div>`;
    this.el = el;
    this.video = /** @type {HTMLVideoElement} */ (el.querySelector("video"));
    this.placeholderName = /** @type {HTMLElement} */ (el.querySelector(".placeholder-name"));
    this.mutedBadge = /** @type {HTMLElement} */ (el.querySelector(".badge-muted"));
    this.speakingBadge = /** @type {HTMLElement} */ (el.querySelector(".badge-speaking"));
    this.cameraBadge = /** @type {HTMLElement} */ (el.querySelector(".badge-camera"));
    this.presenceBadge = /** @type {HTMLElement} */ (el.querySelector(".badge-presence"));
    this.notice = /** @type {HTMLElement} */ (el.querySelector(".tile-notice"));
    /** What the server's camera analysis says of this participant ("" when not judged by camera). */
    this.presence = "";
    this.counted = false;
    this.roleEl = /** @type {HTMLElement} */ (el.querySelector(".role"));
    this.nameEl = /** @type {HTMLElement} */ (el.querySelector(".name"));
    this.youEl = /** @type {HTMLElement} */ (el.querySelector(".you"));
    if (this.self) this.video.classList.add("mirror");
    else this.youEl.remove();
    /** @type {HTMLAudioElement | null} */
    this.audio = null;
    if (!this.self) {
      this.audio = h("audio", { autoplay: true, "data-testid": "tile-audio" });
      el.append(this.audio);
    }
    this.update(entry);
  }

  /**
   * Show the roster entry's name, role and mute state.
   * @param {RosterEntry} entry
   * @returns {void}
   */
  update(entry) {
    this.entry = entry;
    const role = entry.role ? t(`role.${entry.role}`) : "";
    this.roleEl.textContent = role;
    this.roleEl.hidden = !role;
    this.nameEl.textContent = entry.name;
    if (entry.reading) this.nameEl.title = entry.reading;
    this.youEl.textContent = this.self ? t("meeting.you") : "";
    this.youEl.hidden = !this.self;
    this.placeholderName.textContent = entry.name;
    this.mutedBadge.hidden = !entry.audio_muted;
    /** @type {HTMLElement} */ (this.mutedBadge.querySelector(".text")).textContent = t("meeting.muted");
    this.speakingBadge.textContent = t("meeting.speaking");
    // The presence badge already says "camera off" once the server has noticed.
    this.cameraBadge.hidden = !entry.video_muted || this.presence === "camera_off";
    this.cameraBadge.textContent = t("meeting.camera_off");
    this.presenceBadge.hidden = !this.presence;
    this.presenceBadge.dataset.state = this.presence;
    const label = this.presence ? t(`presence.${this.presence}`) : "";
    const notCounted = !!this.presence && this.presence !== "present" && this.presence !== "disconnected"
      && !(this.presence === "not_alone" && this.counted);
    this.presenceBadge.textContent = label;
    this.presenceBadge.title = notCounted ? t("tile.not_counted") : "";
    // On my own tile, say what it means for me, across my picture.
    this.notice.hidden = !(this.self && notCounted);
    this.notice.textContent = t("tile.not_counted");
    const parts = [role, entry.name, this.self ? t("meeting.you") : "",
      this.presence ? t(`presence.${this.presence}`) : "",
      entry.audio_muted ? t("meeting.muted") : "",
      entry.video_muted && this.presence !== "camera_off" ? t("meeting.camera_off") : ""];
    this.el.setAttribute("aria-label", parts.filter(Boolean).join("、"));
    this.renderVideoState();
  }

  /**
   * Show whether the server counts this participant present on camera: a text badge
   * (出席 / カメラオフ / 離席 / 接続不良 / 未接続 / ほかの人が映っています), not a colour alone.
   * @param {string} presence "" when attendance is not judged by camera
   * @param {boolean} [counted] counted all the same (someone else on camera, where the rules only warn)
   * @returns {void}
   */
  setPresence(presence, counted = false) {
    if (presence === this.presence && counted === this.counted) return;
    this.presence = presence;
    this.counted = counted;
    this.el.dataset.presence = presence;
    this.update(this.entry);
  }

  /**
   * Show the video, or the name when the camera is off or no frame has come yet.
   * @returns {void}
   */
  renderVideoState() {
    const showVideo = !!this.videoTrack && !this.entry.video_muted && this.framesShown > 0;
    this.el.classList.toggle("no-video", !showVideo);
    this.el.dataset.videoMuted = String(!!this.entry.video_muted);
  }

  /**
   * Give the tile its media; tracks that did not change keep playing undisturbed.
   * @param {{video: MediaStream | null, audio: MediaStream | null}} media
   * @returns {void}
   */
  setMedia(media) {
    const videoTrack = media.video?.getVideoTracks()[0] || null;
    if (videoTrack !== this.videoTrack) {
      this.videoTrack = videoTrack;
      this.framesShown = 0;
      this.video.srcObject = videoTrack && media.video ? media.video : null;
      if (videoTrack) this.watchFrames();
    }
    const audioTrack = media.audio?.getAudioTracks()[0] || null;
    if (audioTrack !== this.audioTrack) {
      this.audioTrack = audioTrack;
      this.meter?.close();
      this.meter = null;
      if (this.audio) this.audio.srcObject = audioTrack && media.audio ? media.audio : null;
      if (audioTrack && media.audio) {
        try {
          this.meter = new LevelMeter(media.audio);
        } catch { /* no WebAudio: no speaking indicator */ }
      }
    }
    this.renderVideoState();
  }

  /** Count shown frames and report the first one (requestVideoFrameCallback). */
  watchFrames() {
    const video = this.video;
    const track = this.videoTrack;
    if (typeof video.requestVideoFrameCallback !== "function") {
      video.addEventListener("loadeddata", () => this.frameShown(), { once: true });
      return;
    }
    /** @type {VideoFrameRequestCallback} */
    const onFrame = () => {
      if (this.videoTrack !== track) return;
      this.frameShown();
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }

  /**
   * One more frame was shown; the first one is reported.
   * @returns {void}
   */
  frameShown() {
    this.framesShown += 1;
    if (this.framesShown === 1) {
      this.renderVideoState();
      if (!this.self && this.onFirstFrame) this.onFirstFrame(this.id, this.video);
    }
  }

  /**
   * Re-read the audio level and show or hide the speaking border.
   * @param {number} now ms
   * @param {boolean} [silenced] e.g. the own microphone is off
   * @returns {void}
   */
  tick(now, silenced = false) {
    this.lastLevel = this.meter && !silenced ? this.meter.level() : 0;
    const speaking = this.detector.update(this.lastLevel, now) && !silenced;
    if (speaking !== this.speaking) {
      this.speaking = speaking;
      this.el.classList.toggle("speaking", speaking);
      this.speakingBadge.hidden = !speaking;
    }
  }

  /**
   * Decoded-and-shown frame count of this tile's video, for tests.
   * @returns {number}
   */
  totalVideoFrames() {
    const quality = this.video.getVideoPlaybackQuality?.();
    return quality ? quality.totalVideoFrames : this.framesShown;
  }

  /**
   * Stop playback and remove the tile.
   * @returns {void}
   */
  destroy() {
    this.meter?.close();
    this.video.srcObject = null;
    if (this.audio) this.audio.srcObject = null;
    this.el.remove();
  }
}
