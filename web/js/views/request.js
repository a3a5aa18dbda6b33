/**
 * A member's own request for the floor, in the sitting panel: choose a kind and ask, or see
 * the place in the queue and withdraw. Shown to members who do not preside, while they do not
 * hold the floor.
 */
import { t } from "../i18n.js";
import { h, button } from "./dom.js";
import { REQUEST_KINDS, requestKinds, isMemberRole, myRequest, holdsFloor, selfId } from "../sitting.js";
import { watchOnly } from "./remote.js";

/**
 * @typedef {import("../store.js").State} State
 * @typedef {import("./lists.js").Command} Command
 */

export class FloorRequestBlock {
  /**
   * @param {Command} command send a sitting command
   * @param {string} kind the kind chosen before (kept over a language change)
   */
  constructor(command, kind) {
    this.command = command;
    this.requestKind = kind;
    /** @type {State | null} */
    this.state = null;
    this.kindSelect = h("select", {
      id: "request-kind", class: "select", "data-testid": "request-kind",
      onchange: () => { this.requestKind = this.kindSelect.value; },
    }, ...REQUEST_KINDS.map((k) => new Option(t(`speech.${k}`), k, false, k === this.requestKind)));
    this.kindsShown = REQUEST_KINDS.join();
    this.requestButton = button(t("member.request"), "request-floor",
      () => this.command("request_floor", { kind: this.kindSelect.value }), { kind: "primary big" });
    this.requestHint = h("p", { class: "hint", "data-testid": "request-hint" });
    this.idleBlock = h("div", { class: "request-block" },
      h("label", { class: "kind-field", for: "request-kind" }, h("span", {}, t("member.kind")), this.kindSelect),
      this.requestButton, this.requestHint);
    this.myRequestText = h("p", { class: "my-request", "data-testid": "my-request" });
    this.withdrawButton = button(t("member.withdraw"), "withdraw", () => this.withdraw(), { kind: "secondary big" });
    this.pendingBlock = h("div", { class: "pending-block" }, this.myRequestText, this.withdrawButton);
    this.el = h("div", { class: "member-actions", "data-testid": "member-actions" }, this.idleBlock, this.pendingBlock);
  }

  /**
   * @param {State} state
   * @param {boolean} presiding
   * @param {boolean} online
   * @returns {void}
   */
  render(state, presiding, online) {
    this.state = state;
    const sitting = /** @type {NonNullable<State["sitting"]>} */ (state.sitting);
    const show = isMemberRole(state.self?.role) && !presiding && !sitting.removed.includes(selfId(state));
    this.el.hidden = !show || holdsFloor(state);
    if (!show) return;
    const kinds = requestKinds(state);
    this.showKinds(kinds);
    const pending = myRequest(state);
    const hadFocus = this.el.contains(document.activeElement);
    this.idleBlock.hidden = !!pending;
    this.pendingBlock.hidden = !pending;
    if (pending) {
      this.myRequestText.textContent = t("member.pending", {
        kind: t(`speech.${pending.request.kind}`), position: pending.position,
      });
    }
    const open = sitting.state === "open";
    const watching = watchOnly(state); // remote without the permission the rules require
    this.requestButton.disabled = !open || !online || !kinds.length || watching;
    this.withdrawButton.disabled = !online;
    this.kindSelect.disabled = !open || !kinds.length;
    this.requestHint.textContent = watching ? t("remote.watch_only_short") : !kinds.length ? t("member.request_remote_none")
      : t(open ? "member.request_hint" : `member.request_when.${sitting.state}`);
    // The button pressed has just been hidden: keep the keyboard in the block.
    if (hadFocus && !this.el.contains(document.activeElement)) {
      (pending ? this.withdrawButton : this.requestButton).focus({ preventScroll: true });
    }
  }

  /**
   * The choice of kinds, rebuilt when the kinds allowed change (plenary, chamber or remote).
   * @param {string[]} kinds
   * @returns {void}
   */
  showKinds(kinds) {
    if (kinds.join() === this.kindsShown) return;
    this.kindsShown = kinds.join();
    if (!kinds.includes(this.requestKind)) this.requestKind = kinds[0] || "speech";
    this.kindSelect.replaceChildren(...kinds.map((k) => new Option(t(`speech.${k}`), k, false, k === this.requestKind)));
    this.kindSelect.value = this.requestKind;
  }

  async withdraw() {
    const pending = this.state && myRequest(this.state);
    if (pending) await this.command("withdraw_request", { request_id: pending.request.id });
  }
}
