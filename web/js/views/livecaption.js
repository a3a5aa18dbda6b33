/**
 * The live caption line on the meeting screen: the newest automatic caption of whoever may be
 * heard (the floor holder, the chair), with their name, hidden a while after it was said.
 * DOM only; the app hands it each `caption` push.
 */
import { t } from "../i18n.js";

const SHOW_MS = 9000; // a caption stays this long after it arrives (a long sentence is read slowly)

/**
 * @typedef {{speaker_id: string, speaker: string, text: string, started_at: number, ended_at: number,
 *   automatic: boolean}} Caption
 */

export class LiveCaption {
  constructor() {
    this.el = /** @type {HTMLElement} */ (document.getElementById("live-caption"));
    this.who = /** @type {HTMLElement} */ (document.getElementById("live-caption-who"));
    this.text = /** @type {HTMLElement} */ (document.getElementById("live-caption-text"));
    /** @type {Caption | null} */
    this.caption = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
  }

  /** @param {Caption} caption */
  show(caption) {
    this.caption = caption;
    this.render();
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.clear(), SHOW_MS);
  }

  clear() {
    this.caption = null;
    this.render();
  }

  render() {
    const c = this.caption;
    this.el.hidden = !c;
    if (!c) return;
    this.who.textContent = t("caption.who", { name: c.speaker });
    this.text.textContent = c.text;
  }
}
