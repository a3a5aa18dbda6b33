/**
 * The chair names the members who will sign the minutes (会議録署名議員の指名), usually at the
 * opening: the members as big toggle buttons in seat order, then 「指名する」 once the body's
 * number is chosen. Once named, their names show with 「指名し直す」. The naming is on the
 * record; the signing itself is on the archive page after the clerk finalises the minutes.
 */
import { t } from "../i18n.js";
import { h, button, replaceKeepingFocus } from "./dom.js";
import { inSeatOrder, isMemberRole, selfId } from "../sitting.js";
import { nameWithRole } from "./lists.js";

/**
 * @typedef {import("../store.js").State} State
 * @typedef {import("./lists.js").Command} Command
 */

export class SignersPicker {
  /** @param {Command} command */
  constructor(command) {
    this.command = command;
    /** @type {Set<string>} chosen while picking */
    this.chosen = new Set();
    this.picking = false;
    this.hint = h("p", { class: "hint", "data-testid": "signers-hint" });
    this.named = h("p", { class: "signers-named", "data-testid": "signers-named" });
    this.choices = h("div", { class: "signer-choices", role: "group", "aria-labelledby": "signers-title" });
    this.nameButton = button(t("signers.name"), "signers-name", () => this.nameClicked(), { kind: "primary" });
    this.againButton = button(t("signers.again"), "signers-again", () => {
      this.picking = true;
      this.chosen.clear();
      if (this.state) this.render(this.state);
    });
    this.el = h("section", { class: "panel-section signers", "aria-labelledby": "signers-title",
      "data-testid": "signers-section" },
    h("h3", { id: "signers-title" }, t("signers.title")),
    this.hint, this.named, this.choices, h("div", { class: "button-row" }, this.nameButton, this.againButton));
    /** @type {State | null} */
    this.state = null;
  }

  async nameClicked() {
    const ok = await this.command("name_minutes_signers", { members: [...this.chosen] });
    if (ok !== false) this.picking = false;
    if (this.state) this.render(this.state);
  }

  /**
   * @param {State} state
   * @returns {void}
   */
  render(state) {
    this.state = state;
    const sitting = state.sitting;
    const rule = sitting?.minutes_signers;
    this.el.hidden = !sitting || !rule || rule.count === 0;
    if (!sitting || !rule || rule.count === 0) return;
    const open = state.connection === "connected" && sitting.state !== "adjourned";
    const named = rule.named || [];
    const picking = this.picking || named.length === 0;
    this.named.hidden = named.length === 0;
    this.named.textContent = t("signers.named", { names: named.map((id) => nameWithRole(state, id)).join("、") });
    this.hint.textContent = t(picking ? "signers.hint" : "signers.done", { count: rule.count });
    this.choices.hidden = !picking || !open;
    this.nameButton.hidden = !picking || !open;
    this.againButton.hidden = picking || !open;
    if (!picking) return;
    const me = selfId(state);
    const members = inSeatOrder(state.participants).filter((p) =>
      isMemberRole(p.role) && p.id !== me && !sitting.removed.includes(p.id));
    for (const id of [...this.chosen]) if (!members.some((p) => p.id === id)) this.chosen.delete(id);
    replaceKeepingFocus(this.choices, members.map((p) => button(nameWithRole(state, p.id), "signer-choice", () => {
      if (this.chosen.has(p.id)) this.chosen.delete(p.id);
      else if (this.chosen.size < rule.count) this.chosen.add(p.id);
      this.render(state);
    }, { pressed: this.chosen.has(p.id), key: `signer-${p.id}`,
      disabled: !this.chosen.has(p.id) && this.chosen.size >= rule.count })));
    this.nameButton.disabled = this.chosen.size !== rule.count;
  }
}
