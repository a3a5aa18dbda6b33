/**
 * The quorum alarm on the chair's and the clerk's screens: while the sitting is open, a loss
 * of quorum shows a large banner that stays until the quorum is back, and is read out at once
 * (aria-live assertive); its return is shown and read out too, for a short while. DOM only.
 */
import { t } from "../i18n.js";
import { h } from "./dom.js";

/** @typedef {import("../store.js").State} State */

const RESTORED_MS = 15_000; // how long "quorum reached" stays up

export class QuorumAlarm {
  constructor() {
    this.title = h("strong", { class: "quorum-banner-title" });
    this.detail = h("span", { class: "quorum-banner-detail" });
    this.banner = h("div", { class: "quorum-banner", "data-testid": "quorum-banner", hidden: true },
      this.title, this.detail);
    // Always in the page, so screen readers pick up what is written into it.
    this.announcer = h("p", {
      class: "visually-hidden", role: "alert", "aria-live": "assertive", "data-testid": "quorum-announce",
    });
    /** @type {boolean | null} null until the first open sitting is seen */
    this.wasMet = null;
    this.restoredUntil = 0;
    /** @type {number | undefined} */
    this.timer = undefined;
    /** @type {{state: State, watching: boolean} | null} */
    this.last = null;
  }

  /**
   * @param {State} state
   * @param {boolean} watching whether this screen keeps watch (the chair, the clerk)
   * @returns {void}
   */
  render(state, watching) {
    this.last = { state, watching };
    const sitting = state.sitting;
    if (!sitting || !watching || sitting.state !== "open") {
      this.wasMet = sitting && sitting.state === "open" ? sitting.quorum.met : null;
      this.restoredUntil = 0;
      this.banner.hidden = true;
      return;
    }
    const q = sitting.quorum;
    const counted = q.counted.length;
    const numbers = { counted, needed: q.needed, missing: Math.max(0, q.needed - counted) };
    if (this.wasMet !== null && this.wasMet !== q.met) {
      this.announcer.textContent = t(q.met ? "quorum.announce.restored" : "quorum.announce.lost", numbers);
      this.restoredUntil = q.met ? Date.now() + RESTORED_MS : 0;
      if (q.met) {
        window.clearTimeout(this.timer);
        this.timer = window.setTimeout(() => this.last && this.render(this.last.state, this.last.watching),
          RESTORED_MS + 50);
      }
    }
    this.wasMet = q.met;
    const restored = q.met && Date.now() < this.restoredUntil;
    this.banner.hidden = q.met && !restored;
    this.banner.dataset.state = q.met ? "restored" : "lost";
    this.title.textContent = t(q.met ? "quorum.banner.restored" : "quorum.banner.lost");
    this.detail.textContent = t(q.met ? "quorum.banner.restored_detail" : "quorum.banner.lost_detail", numbers);
  }

}
