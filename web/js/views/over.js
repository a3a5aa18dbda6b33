/**
 * The meeting-over screen: after 散会, over the gallery and the panel, what happens next
 * (the minutes, the record of the sitting) and the two ways on: leave, or look at the panel
 * once more. Shown once per sitting on this screen; DOM only.
 */
import { t } from "../i18n.js";
import { h, button } from "./dom.js";

/**
 * @typedef {import("../store.js").State} State
 * @typedef {object} OverCallbacks
 * @property {() => void} leave
 */

export class MeetingOver {
  /**
   * @param {HTMLElement} root the section (empty, hidden)
   * @param {OverCallbacks} callbacks
   */
  constructor(root, callbacks) {
    this.root = root;
    this.callbacks = callbacks;
    /** @type {string} the sitting whose end was put away with 会議の画面に戻る */
    this.dismissed = "";
    /** @type {State | null} */
    this.state = null;
    // Made by build() (again after a language change).
    /** @type {HTMLElement} */ this.title;
    /** @type {HTMLAnchorElement} */ this.archive;
    this.build();
  }

  /** Build the texts (again after a language change). */
  build() {
    this.title = h("h2", { id: "over-title", tabindex: "-1", "data-testid": "over-title" }, t("over.title"));
    this.archive = h("a", { class: "btn secondary big", "data-testid": "over-archive", href: "/archive" }, t("over.archive"));
    this.root.replaceChildren(h("div", { class: "over-card" },
      this.title,
      h("p", { class: "lead", "data-testid": "over-text" }, t("over.text")),
      h("ul", { class: "over-next" },
        h("li", {}, t("over.next.minutes")),
        h("li", {}, t("over.next.archive"))),
      h("div", { class: "over-buttons" },
        this.archive,
        button(t("over.back"), "over-back", () => this.dismiss()),
        button(t("over.leave"), "over-leave", () => this.callbacks.leave(), { kind: "primary big" }))));
  }

  /**
   * @param {State} state
   * @returns {void}
   */
  render(state) {
    this.state = state;
    const sitting = state.sitting;
    const show = !!sitting && sitting.state === "adjourned" && this.dismissed !== sitting.meeting_id;
    const was = !this.root.hidden;
    this.root.hidden = !show;
    if (!show || !sitting) return;
    this.archive.setAttribute("href", `/archive/${encodeURIComponent(sitting.meeting_id)}`);
    // Keyboards and screen readers start at the news.
    if (!was) this.title.focus({ preventScroll: true });
  }

  dismiss() {
    this.dismissed = this.state?.sitting?.meeting_id || "";
    if (this.state) this.render(this.state);
  }

  /** Rebuild every text after a language change. */
  retranslate() {
    const shown = !this.root.hidden;
    this.build();
    this.root.hidden = !shown;
    if (this.state) this.render(this.state);
  }
}
