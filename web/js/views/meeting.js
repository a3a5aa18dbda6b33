/**
 * The meeting screen: a gallery of tiles laid out as large as the screen allows, and
 * the control bar (microphone, camera, leave). DOM only.
 */
import { t } from "../i18n.js";
import { othersPresent, selfEntry } from "../store.js";
import { amAudible, presenceOf, attendanceOf } from "../sitting.js";
import { Tile, MIC_OFF_ICON } from "./tile.js";
import { confirmDialog } from "./dom.js";

/**
 * @typedef {import("../store.js").State} State
 * @typedef {import("../peer.js").RemoteMedia} RemoteMedia
 * @typedef {object} MeetingCallbacks
 * @property {() => void} onToggleMic
 * @property {() => void} onToggleCamera
 * @property {() => void} onLeave
 * @property {(participantId: string, video: HTMLVideoElement) => void} onFirstRemoteFrame
 */

const MIC_ON_ICON = `<svg viewBox="0 0 24 24" width="1em" height="1em" aria-hidden="true" focusable="false">
<path fill="currentColor" d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5.3-3a5.3 5.3 0 0 1-10.6 0H5a7 7 0 0 0 6 6.9V21h2v-3.1a7 7 0 0 0 6-6.9z"/></svg>`;
const CAMERA_ICON = `<svg viewBox="0 0 24 24" width="1em" height="1em" aria-hidden="true" focusable="false">
<path fill="currentColor" d="M3 6h12a2 2 0 0 1 2 2v2.5l4-3v9l-4-3V16a2 2 0 0 1-2 2H3a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2z"/></svg>`;
const CAMERA_OFF_ICON = CAMERA_ICON.replace("</svg>",
  `<path stroke="currentColor" stroke-width="2.4" stroke-linecap="round" d="M3 3l18 18"/></svg>`);
const ASPECT = 16 / 9;
const GAP = 12;

export class MeetingView {
  /** @param {MeetingCallbacks} callbacks */
  constructor(callbacks) {
    this.callbacks = callbacks;
    this.gallery = /** @type {HTMLElement} */ (document.getElementById("gallery"));
    this.alone = /** @type {HTMLElement} */ (document.getElementById("alone"));
    this.count = /** @type {HTMLElement} */ (document.getElementById("participant-count"));
    this.micButton = /** @type {HTMLButtonElement} */ (document.getElementById("mic-toggle"));
    this.cameraButton = /** @type {HTMLButtonElement} */ (document.getElementById("camera-toggle"));
    this.leaveButton = /** @type {HTMLButtonElement} */ (document.getElementById("leave-button"));
    this.micHeard = /** @type {HTMLElement} */ (document.getElementById("mic-heard"));
    /** @type {Map<string, Tile>} */
    this.tiles = new Map();
    /** @type {Tile | null} */
    this.selfTile = null;
    /** @type {State | null} */
    this.state = null;
    /** @type {RemoteMedia} */
    this.remote = new Map();

    this.micButton.addEventListener("click", () => callbacks.onToggleMic());
    this.cameraButton.addEventListener("click", () => callbacks.onToggleCamera());
    this.leaveButton.addEventListener("click", () => this.confirmLeave());
    new ResizeObserver(() => this.layout()).observe(this.gallery);
  }

  /** Leaving takes one more tap: the button is next to the camera's and stays in view during a vote. */
  async confirmLeave() {
    const ok = await confirmDialog(() => ({
      title: t("leave_confirm.title"), text: t("leave_confirm.text"),
      confirm: t("control.leave"), cancel: t("leave_confirm.stay"), danger: true,
    }));
    if (ok !== null) this.callbacks.onLeave();
  }

  /**
   * Bring tiles and controls in line with the state.
   * @param {State} state
   * @returns {void}
   */
  render(state) {
    this.state = state;
    const me = selfEntry(state);
    if (me && !this.selfTile) {
      this.selfTile = new Tile(me, { self: true });
      this.gallery.prepend(this.selfTile.el);
    }
    if (me && this.selfTile) this.selfTile.update(me);

    const others = othersPresent(state);
    const wanted = new Set(others.map((p) => p.id));
    for (const [id, tile] of this.tiles) {
      if (!wanted.has(id)) {
        tile.destroy();
        this.tiles.delete(id);
      }
    }
    let position = this.selfTile ? 1 : 0;
    for (const entry of others) {
      let tile = this.tiles.get(entry.id);
      if (!tile) {
        tile = new Tile(entry, { self: false, onFirstFrame: this.callbacks.onFirstRemoteFrame });
        this.tiles.set(entry.id, tile);
        tile.setMedia(this.remote.get(entry.id) || { audio: null, video: null });
      } else {
        tile.update(entry);
      }
      // Keep seat order, moving only what is out of place (moving a video restarts nothing
      // in the same task, but there is no reason to do it every render).
      const at = this.gallery.children[position] || null;
      if (at !== tile.el) this.gallery.insertBefore(tile.el, at);
      position += 1;
    }
    this.renderPresence(state);
    this.alone.hidden = others.length > 0;
    this.count.textContent = t("meeting.participants", { n: others.length + (me ? 1 : 0) });
    this.renderControls(state);
    this.layout();
  }

  /**
   * Each tile's presence badge; someone checked in in the chamber needs no camera.
   * @param {State} state
   * @returns {void}
   */
  renderPresence(state) {
    const sitting = state.sitting;
    const of = (/** @type {string} */ id) =>
      !sitting || attendanceOf(sitting, id) === "in_room" ? "" : presenceOf(sitting, id);
    const counted = (/** @type {string} */ id) => !!sitting && attendanceOf(sitting, id) === "remote";
    if (this.selfTile) this.selfTile.setPresence(of(this.selfTile.id), counted(this.selfTile.id));
    for (const [id, tile] of this.tiles) tile.setPresence(of(id), counted(id));
  }

  /**
   * @param {State} state
   * @returns {void}
   */
  renderControls(state) {
    setToggle(this.micButton, !state.audioMuted, state.audioMuted ? MIC_OFF_ICON : MIC_ON_ICON,
      t(state.audioMuted ? "control.mic.off" : "control.mic.on"));
    // Whether the others hear me: the floor (the SFU forwards only the speaker's microphone)
    // and my own switch together, in words, next to the switch.
    const heard = !state.audioMuted && state.connection === "connected" && (!state.sitting || amAudible(state));
    const heardText = t(heard ? "control.heard" : "control.not_heard");
    this.micHeard.dataset.heard = String(heard);
    if (this.micHeard.textContent !== heardText) this.micHeard.textContent = heardText;
    setToggle(this.cameraButton, !state.videoMuted, state.videoMuted ? CAMERA_OFF_ICON : CAMERA_ICON,
      t(state.videoMuted ? "control.camera.off" : "control.camera.on"));
  }

  /**
   * @param {MediaStream | null} stream this browser's camera and microphone
   * @returns {void}
   */
  setLocalMedia(stream) {
    if (!this.selfTile) return;
    const video = stream?.getVideoTracks().length ? new MediaStream(stream.getVideoTracks()) : null;
    const audio = stream?.getAudioTracks().length ? new MediaStream(stream.getAudioTracks()) : null;
    this.selfTile.setMedia({ video, audio });
  }

  /**
   * New mapping of received tracks to participants (after every offer, or empty on teardown).
   * @param {RemoteMedia} remote
   * @returns {void}
   */
  setRemoteMedia(remote) {
    this.remote = remote;
    for (const [id, tile] of this.tiles) tile.setMedia(remote.get(id) || { audio: null, video: null });
  }

  /**
   * Update speaking indicators; called a few times per second.
   * @param {number} now
   * @returns {void}
   */
  tick(now) {
    for (const tile of this.tiles.values()) tile.tick(now, !!tile.entry.audio_muted);
    // My own border shows "speaking" only while the others can actually hear me.
    const heard = !this.state?.sitting || amAudible(this.state);
    this.selfTile?.tick(now, !!this.state?.audioMuted || !heard);
  }

  /** Choose the column count that gives the largest 16:9 tiles in the space available. */
  layout() {
    const n = this.gallery.children.length;
    const style = getComputedStyle(this.gallery);
    const width = this.gallery.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const height = this.gallery.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    if (!n || width <= 0 || height <= 0) return;
    let best = { cols: 1, tileWidth: 0 };
    for (let cols = 1; cols <= n; cols++) {
      const rows = Math.ceil(n / cols);
      const w = Math.min((width - GAP * (cols - 1)) / cols, ((height - GAP * (rows - 1)) / rows) * ASPECT);
      if (w > best.tileWidth) best = { cols, tileWidth: w };
    }
    this.gallery.style.setProperty("--cols", String(best.cols));
    this.gallery.style.setProperty("--tile-width", `${Math.floor(best.tileWidth)}px`);
  }

  /** Forget every tile (after leaving). */
  clear() {
    for (const tile of this.tiles.values()) tile.destroy();
    this.tiles.clear();
    this.selfTile?.destroy();
    this.selfTile = null;
    this.remote = new Map();
  }

  /**
   * Rebuild texts after a language change.
   * @returns {void}
   */
  retranslate() {
    if (this.state) this.render(this.state);
  }
}

/**
 * @param {HTMLButtonElement} button
 * @param {boolean} on
 * @param {string} icon
 * @param {string} label
 * @returns {void}
 */
function setToggle(button, on, icon, label) {
  button.setAttribute("aria-pressed", String(on));
  button.classList.toggle("off", !on);
  /** @type {HTMLElement} */ (button.querySelector(".icon")).innerHTML = icon;
  /** @type {HTMLElement} */ (button.querySelector(".label")).textContent = label;
}
