/**
 * Procedural motions (動議: 休憩, 閉議, 延会): the clerk or the chair receives a motion moved by a
 * member with its supporters (賛成者, as many as the body's rules say); the chair puts it to a
 * ballot of its own; everyone sees each motion and its result. An adopted 休憩 motion reminds the
 * chair to take the recess (the chair's 休憩 button does it: the vote decides, the chair acts).
 * DOM only.
 */
import { t } from "../i18n.js";
import { h, button, replaceKeepingFocus, formDialog } from "./dom.js";
import { isMemberRole, inSeatOrder } from "../sitting.js";
import { nameWithRole } from "./lists.js";
import { ballotDialog } from "./ballotconsole.js";
import { moverFields } from "./amendments.js";

/**
 * @typedef {import("../store.js").State} State
 * @typedef {import("./lists.js").Command} Command
 * @typedef {import("./ballotconsole.js").BallotAction} BallotAction
 * @typedef {{id: string, kind: string, mover_id: string, supporters: string[], outcome: string | null}} MotionView
 */

const KINDS = ["recess", "close", "adjourn"];

export class MotionsPanel {
  /**
   * @param {Command} command
   * @param {BallotAction} ballot
   */
  constructor(command, ballot) {
    this.command = command;
    this.ballot = ballot;
    this.key = "";
    this.body = h("div", {});
    this.el = h("section", { class: "panel-section motions", "data-testid": "motions", "aria-labelledby": "motions-title" },
      h("h3", { id: "motions-title" }, t("motions.title")), this.body);
  }

  /**
   * @param {State} state
   * @param {"chair" | "clerk" | "other"} who
   * @returns {void}
   */
  render(state, who) {
    const sitting = state.sitting;
    const motions = sitting?.motions || [];
    const online = state.connection === "connected";
    const open = sitting?.state === "open" && online;
    const ballotOpen = state.ballot?.state === "open" || state.ballot?.state === "closed";
    const key = JSON.stringify([motions, who, open, ballotOpen, state.participants.length, document.documentElement.lang]);
    if (key === this.key) return;
    this.key = key;
    this.el.hidden = !sitting || (who === "other" && !motions.length) || (!motions.length && !open);
    if (this.el.hidden) return;
    /** @type {Node[]} */
    const parts = motions.map((m) => h("article", { class: "amendment motion", "data-testid": "motion",
      "data-outcome": m.outcome || "pending" },
    h("p", { class: "amendment-head" }, h("strong", {}, t(`motions.kind.${m.kind}`)), " ",
      h("span", { class: "chip kind" }, m.outcome ? t(`outcome.${m.outcome}`) : t("amendments.pending"))),
    h("p", { class: "amendment-who" }, t("amendments.moved_by", {
      mover: nameWithRole(state, m.mover_id), supporters: m.supporters.map((id) => nameWithRole(state, id)).join("、"),
    })),
    who === "chair" && !m.outcome ? button(t("motions.vote"), "motion-vote",
      () => this.startVote(m), { kind: "primary", disabled: !open || ballotOpen, key: `motion-vote-${m.id}` }) : null,
    who === "chair" && m.outcome === "adopted" && m.kind === "recess" && sitting?.state === "open"
      ? h("p", { class: "note", "data-testid": "motion-recess-hint" }, t("motions.recess_now")) : null));
    if (who !== "other" && open) {
      parts.push(button(t("motions.receive"), "motion-receive", () => this.receive(state), { kind: "secondary" }));
    }
    replaceKeepingFocus(this.body, parts);
  }

  /** @param {MotionView} m */
  async startVote(m) {
    const settings = await ballotDialog(t(`motions.kind.${m.kind}`));
    if (settings) await this.ballot("open", { ...settings, target: `motion:${m.id}` });
  }

  /** @param {State} state */
  async receive(state) {
    const members = inSeatOrder(state.participants).filter((p) => isMemberRole(p.role)
      && !state.sitting?.removed.includes(p.id)).map((p) => ({ id: p.id, label: nameWithRole(state, p.id) }));
    const kind = h("select", { id: "motion-kind", class: "select", "data-testid": "motion-kind" },
      ...KINDS.map((k) => new Option(t(`motions.kind.${k}`), k)));
    const who = moverFields(members);
    const moved = await formDialog({ title: t("motions.receive"), testid: "amendment-dialog" }, [
      h("label", { class: "field", for: "motion-kind" }, h("span", {}, t("motions.dialog.kind")), kind), ...who.nodes,
    ], t("amendments.dialog.confirm"), () => {
      const read = who.read();
      return read ? { kind: kind.value, ...read } : (who.focus(), null);
    }, () => kind.focus());
    if (moved) await this.command("move_motion", moved);
  }
}
