/**
 * What the sitting means for me, in plain words: whether the others hear my microphone now, and
 * whether the camera analysis counts me as attending (and what to do if it does not). DOM only.
 */
import { t } from "../i18n.js";
import { h } from "./dom.js";
import { isMemberRole, isPresiding, myRequest, amAudible, selfId, presenceOf, attendanceOf } from "../sitting.js";

/** @typedef {import("../store.js").State} State */

export class MyStatus {
  constructor() {
    this.mic = h("p", { class: "my-mic", "data-testid": "my-mic" });
    this.presence = h("p", { class: "my-presence", "data-testid": "my-presence", "aria-live": "polite", hidden: true });
    this.presenceTitle = h("strong", { class: "my-presence-title" });
    this.presenceText = h("span", { class: "my-presence-text" });
  }

  /** @param {State} state */
  render(state) {
    this.renderMic(state);
    this.renderPresence(state);
  }

  /**
   * Whether my microphone is forwarded to the others now, in plain words.
   * @param {State} state
   * @returns {void}
   */
  renderMic(state) {
    const sitting = /** @type {NonNullable<State["sitting"]>} */ (state.sitting);
    const me = selfId(state);
    /** @type {[string, string]} */
    let shown;
    if (amAudible(state)) {
      shown = state.audioMuted ? ["off", "mic.heard_but_off"] : ["live", "mic.heard"];
    } else if (sitting.muted.includes(me)) {
      shown = ["silent", "mic.muted_by_chair"];
    } else if (myRequest(state)) {
      shown = ["waiting", "mic.waiting"];
    } else if (isMemberRole(state.self?.role) && sitting.state === "open" && !isPresiding(state)) {
      shown = ["silent", "mic.not_heard_ask"];
    } else {
      shown = ["silent", "mic.not_heard"];
    }
    this.mic.dataset.level = shown[0];
    this.mic.textContent = t(shown[1]);
  }

  /**
   * Whether the camera analysis counts me as attending, and what to do if it does not.
   * Only members count toward quorum; someone checked in in the chamber needs no camera.
   * @param {State} state
   * @returns {void}
   */
  renderPresence(state) {
    const sitting = /** @type {NonNullable<State["sitting"]>} */ (state.sitting);
    const me = selfId(state);
    const presence = presenceOf(sitting, me);
    const show = !!presence && presence !== "disconnected" && isMemberRole(state.self?.role)
      && attendanceOf(sitting, me) !== "in_room";
    this.presence.hidden = !show;
    if (!show) return;
    // Not counted: a heading that says so, then why and what to do. Written only when it
    // changes, so the live region does not repeat it on every push.
    const counted = presence === "not_alone" && attendanceOf(sitting, me) === "remote";
    const text = t(`my_presence.${presence}${counted ? "_counted" : ""}`);
    if (this.presence.dataset.text === text) return;
    this.presence.dataset.text = text;
    this.presence.dataset.state = presence;
    const [title, ...rest] = presence === "present" ? [text] : text.split(/(?<=。|\. )/);
    this.presenceTitle.textContent = title.trim();
    this.presenceText.textContent = rest.join("").trim();
    this.presence.replaceChildren(this.presenceTitle, rest.length ? this.presenceText : "");
  }
}
