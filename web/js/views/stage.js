/**
 * The shared screen on the main stage: while someone shares their screen it takes the place
 * of the tiles and the documents for everyone, with whose screen it is in words. The sharer
 * sees what they are sending; they and the chair get a large button to end it. The "share
 * my screen" button sits in the control bar for those who may present. DOM only.
 */
import { t } from "../i18n.js";
import { h } from "./dom.js";

/**
 * @typedef {import("../store.js").State} State
 * @typedef {import("../peer.js").RemoteMedia} RemoteMedia
 * @typedef {object} StageCallbacks
 * @property {() => void} share start sharing this device's screen (a tap: the browser asks which)
 * @property {() => void} stop end the screen share shown now
 */

const SCREEN_ICON = `<svg viewBox="0 0 24 24" width="1em" height="1em" aria-hidden="true" focusable="false">
<path fill="currentColor" d="M3 4h18a1 1 0 0 1 1 1v11a1 1 0 0 1-1 1h-7v2h3v2H7v-2h3v-2H3a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1zm1 2v9h16V6z"/></svg>`;

/** Whether this browser can share a screen at all (tablets mostly cannot). */
export function canShareScreen() {
  return typeof navigator.mediaDevices?.getDisplayMedia === "function";
}

export class StageView {
  /**
   * @param {HTMLElement} screen the meeting screen: the stage and its button are added to it
   * @param {StageCallbacks} callbacks
   */
  constructor(screen, callbacks) {
    this.callbacks = callbacks;
    // Read out when a share starts or changes hands (the tiles it covers are not).
    this.caption = h("p", { class: "stage-caption", id: "stage-caption", "data-testid": "stage-caption", "aria-live": "polite" });
    this.stopButton = h("button", {
      type: "button", class: "big danger", "data-testid": "stage-stop", onclick: () => callbacks.stop() });
    this.video = h("video", {
      class: "stage-video", "data-testid": "stage-video", "aria-labelledby": "stage-caption" });
    this.video.autoplay = this.video.muted = this.video.playsInline = true;
    this.section = h("section", { class: "screen-stage", "data-testid": "screen-stage", "aria-labelledby": "stage-caption" },
      h("div", { class: "stage-bar" }, this.caption, this.stopButton), this.video);
    this.section.hidden = true;
    screen.insertBefore(this.section, screen.querySelector(".controls"));
    this.shareButton = h("button", {
      type: "button", class: "big toggle share-toggle", "data-testid": "share-screen", "aria-pressed": "false",
      onclick: () => (this.mine() ? callbacks.stop() : callbacks.share()) });
    this.shareButton.innerHTML = `<span class="icon">${SCREEN_ICON}</span><span class="label"></span>`;
    this.shareButton.hidden = true;
    screen.querySelector(".controls")?.insertBefore(this.shareButton, screen.querySelector("#leave-button"));
    /** @type {State | null} */
    this.state = null;
    /** @type {RemoteMedia} */
    this.remote = new Map();
    /** @type {MediaStream | null} this device's own screen, while it shares */
    this.local = null;
  }

  /** @returns {boolean} this device's member is the one sharing */
  mine() {
    const shared = this.state?.sharedScreen;
    return !!shared && shared.presenter_id === this.state?.self?.id;
  }

  /** @param {RemoteMedia} remote */
  setRemoteMedia(remote) {
    this.remote = remote;
    this.draw();
  }

  /** @param {MediaStream | null} stream this device's screen while it is shared */
  setLocalScreen(stream) {
    this.local = stream;
    this.draw();
  }

  /** @param {State} state */
  render(state) {
    this.state = state;
    this.draw();
  }

  draw() {
    const state = this.state;
    const shared = state?.sharedScreen ?? null;
    const me = state?.self?.id;
    const sitting = /** @type {any} */ (state?.sitting);
    const chair = !!me && sitting?.acting_chair_id === me;
    const mayPresent = !!me && (chair || sitting?.floor?.holder_id === me);
    const mine = this.mine();

    this.shareButton.hidden = !(mine || (mayPresent && canShareScreen() && (!shared || chair)));
    this.shareButton.setAttribute("aria-pressed", String(mine));
    this.shareButton.classList.toggle("off", mine);
    /** @type {HTMLElement} */ (this.shareButton.querySelector(".label")).textContent =
      t(mine ? "stage.stop_mine" : "stage.share");

    this.section.hidden = !shared;
    if (!shared) {
      if (this.video.srcObject) this.video.srcObject = null;
      return;
    }
    const name = state?.participants.find((p) => p.id === shared.presenter_id)?.name
      ?? state?.roster.find((p) => p.id === shared.presenter_id)?.name ?? "";
    this.caption.textContent = mine ? t("stage.yours") : t("stage.whose", { name });
    this.stopButton.hidden = !(mine || chair);
    this.stopButton.textContent = t(mine ? "stage.stop_mine" : "stage.stop_other");
    this.section.classList.toggle("mine", mine);
    const stream = mine ? this.local : this.remote.get(shared.presenter_id)?.screen ?? null;
    if (this.video.srcObject !== stream) {
      this.video.srcObject = stream;
      if (stream) this.video.play().catch(() => { /* autoplay of a muted video: retried by the browser */ });
    }
  }

  retranslate() {
    this.draw();
  }
}
