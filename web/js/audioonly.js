/**
 * Audio only (映像を受け取らない): the member's own choice to receive none of the others'
 * video, for a weak or metered (mobile data) link. Their audio keeps coming and the member's
 * own camera still goes out. The choice is kept in `localStorage` and sent after every join
 * (`reception_mode`, docs/protocol.md); the server's `audio_only_suggested` push shows a gentle
 * suggestion with one button, which goes away by itself after a minute.
 */
import { byId } from "./views/dom.js";

const STORAGE_KEY = "gikai.audioOnly";
const SUGGESTION_MS = 60_000;

/**
 * @typedef {import("./signaling.js").Signaling} Signaling
 * @typedef {object} AudioOnlyHooks
 * @property {() => Signaling | null} signaling the meeting's socket, when there is one
 */

export class AudioOnly {
  /** @param {AudioOnlyHooks} hooks */
  constructor(hooks) {
    this.hooks = hooks;
    this.on = readChoice();
    this.button = /** @type {HTMLButtonElement} */ (byId("audio-only-toggle"));
    this.suggestion = byId("audio-only-suggestion");
    /** @type {number | null} */
    this.timer = null;
    this.button.addEventListener("click", () => this.set(!this.on));
    byId("audio-only-accept").addEventListener("click", () => this.set(true));
    this.render();
  }

  /**
   * A new socket joined: it starts with video, so a member who chose audio only says so again.
   * @returns {void}
   */
  joined() {
    if (this.on) this.send();
  }

  /**
   * @param {boolean} on
   * @returns {void}
   */
  set(on) {
    this.on = on;
    try { localStorage.setItem(STORAGE_KEY, on ? "1" : "0"); } catch { /* not remembered */ }
    this.hideSuggestion();
    this.render();
    this.send();
  }

  /** @returns {void} */
  send() {
    this.hooks.signaling()?.request("reception_mode", { audio_only: this.on })
      .catch(() => { /* sent again after the next join */ });
  }

  /**
   * The server finds this member's link too weak even for the lowest frame rate.
   * @returns {void}
   */
  suggest() {
    if (this.on) return;
    this.suggestion.hidden = false;
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.hideSuggestion(), SUGGESTION_MS);
  }

  /** @returns {void} */
  hideSuggestion() {
    this.suggestion.hidden = true;
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
  }

  /** @returns {void} */
  render() {
    this.button.setAttribute("aria-pressed", String(this.on));
    /** @type {HTMLElement} */ (this.button.querySelector(".icon")).textContent = this.on ? "✓" : "";
    document.body.classList.toggle("audio-only", this.on);
  }
}

/** @returns {boolean} the remembered choice; video unless audio only was chosen */
function readChoice() {
  try {
    return localStorage.getItem(STORAGE_KEY) === "1";
  } catch {
    return false;
  }
}
