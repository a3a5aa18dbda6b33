/**
 * The roll call of remote members (遠隔出席者の本人確認) on the main stage: while the chair calls a
 * member, that member's picture is shown large on every screen with their name. The member called
 * sees themselves and one big button 「はい」; the chair sees 「本人と確認しました」 and
 * 「確認できません」. The chair starts (and may end) the roll call from the console
 * (RollCallSection below). DOM only.
 */
import { t } from "../i18n.js";
import { h, button } from "./dom.js";
import { isPresiding, selfId } from "../sitting.js";
import { nameWithRole } from "./lists.js";

/**
 * @typedef {import("../store.js").State} State
 * @typedef {import("../peer.js").RemoteMedia} RemoteMedia
 * @typedef {import("./lists.js").Command} Command
 */

export class RollCallStage {
  /**
   * @param {HTMLElement} screen the meeting screen
   * @param {Command} command
   */
  constructor(screen, command) {
    this.command = command;
    this.caption = h("p", { class: "stage-caption", id: "rollcall-caption", "data-testid": "rollcall-caption",
      "aria-live": "polite" });
    this.video = h("video", { class: "stage-video", "data-testid": "rollcall-video", "aria-labelledby": "rollcall-caption" });
    this.video.autoplay = this.video.muted = this.video.playsInline = true;
    this.buttons = h("div", { class: "button-row rollcall-buttons" });
    this.section = h("section", { class: "screen-stage rollcall-stage", "data-testid": "rollcall-stage",
      "aria-labelledby": "rollcall-caption" }, h("div", { class: "stage-bar" }, this.caption), this.video, this.buttons);
    this.section.hidden = true;
    screen.insertBefore(this.section, screen.querySelector(".controls"));
    /** @type {RemoteMedia} */
    this.remote = new Map();
    /** @type {MediaStream | null} */
    this.local = null;
    /** @type {State | null} */
    this.state = null;
    this.key = "";
  }

  /** @param {RemoteMedia} remote */
  setRemoteMedia(remote) {
    this.remote = remote;
    this.key = "";
    if (this.state) this.render(this.state);
  }

  /** @param {MediaStream | null} stream this device's camera */
  setLocalStream(stream) {
    this.local = stream;
    this.key = "";
    if (this.state) this.render(this.state);
  }

  /** @param {State} state */
  render(state) {
    this.state = state;
    const call = state.sitting?.roll_call;
    const current = call && !call.ended ? call.current : null;
    const me = selfId(state);
    const chair = isPresiding(state);
    const online = state.connection === "connected";
    const key = JSON.stringify([current, call?.answered, chair, online, me, document.documentElement.lang]);
    if (key === this.key) return;
    this.key = key;
    this.section.hidden = !current;
    if (!current) {
      this.video.srcObject = null;
      return;
    }
    const mine = current === me;
    const answered = !!call?.answered.includes(current);
    this.section.classList.toggle("mine", mine);
    this.caption.textContent = mine
      ? t(answered ? "rollcall.you_answered" : "rollcall.you")
      : t(answered ? "rollcall.answered" : "rollcall.calling", { name: nameWithRole(state, current) });
    const stream = mine ? this.local : this.remote.get(current)?.video || null;
    if (this.video.srcObject !== stream) this.video.srcObject = stream;
    /** @type {Node[]} */
    const parts = [];
    if (mine && !answered) {
      parts.push(button(t("rollcall.answer"), "rollcall-answer", () => this.command("answer_roll_call"),
        { kind: "primary big", disabled: !online }));
    }
    if (chair && !mine) {
      parts.push(button(t("rollcall.confirm"), "rollcall-confirm",
        () => this.command("confirm_identity", { participant_id: current, confirmed: true }),
        { kind: "primary big", disabled: !online }),
      button(t("rollcall.not_confirmed"), "rollcall-not-confirmed",
        () => this.command("confirm_identity", { participant_id: current, confirmed: false }),
        { kind: "secondary big", disabled: !online }));
    }
    this.buttons.replaceChildren(...parts);
    this.buttons.hidden = !parts.length;
  }
}

/** The chair's console: start the roll call of remote members, follow it, end it early. */
export class RollCallSection {
  /** @param {Command} command */
  constructor(command) {
    this.status = h("p", { class: "hint", "data-testid": "rollcall-status" });
    this.start = button(t("rollcall.start"), "rollcall-start", () => command("start_roll_call"), { kind: "secondary" });
    this.end = button(t("rollcall.end"), "rollcall-end", () => command("end_roll_call"), { kind: "secondary" });
    this.el = h("section", { class: "panel-section", "aria-labelledby": "rollcall-title", "data-testid": "rollcall-section" },
      h("h3", { id: "rollcall-title" }, t("rollcall.title")), this.status, h("div", { class: "button-row" }, this.start, this.end));
  }

  /** @param {State} state */
  render(state) {
    const sitting = state.sitting;
    const call = sitting?.roll_call;
    const online = state.connection === "connected";
    const running = !!call && !call.ended;
    const done = call ? Object.values(call.confirmed) : [];
    this.status.textContent = !call ? t("rollcall.hint")
      : running ? t("rollcall.running", { done: done.length, total: call.order.length })
        : t("rollcall.done", { confirmed: done.filter(Boolean).length, total: call.order.length });
    this.start.hidden = running;
    this.start.disabled = !online || sitting?.state !== "open";
    this.end.hidden = !running;
    this.end.disabled = !online;
  }
}
