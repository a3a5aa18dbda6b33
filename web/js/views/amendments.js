/**
 * Amendments (修正案) to the item under deliberation, and the votes on it in the 会議規則's order.
 * Everyone sees each amendment: who moved it, its supporters (賛成者), and what it changes in
 * the original's words (struck out / added). The clerk or the chair enters an amendment handed
 * in by a member (「修正案を受け付ける」); the chair starts the next vote the rules call for
 * (修正案 first, then 修正部分を除く原案 or 原案), and the item's result follows from the ballots.
 * DOM only: `command` sends sitting commands, `ballot` the ballot actions.
 */
import { t } from "../i18n.js";
import { h, button, replaceKeepingFocus, formDialog } from "./dom.js";
import { textDiff } from "../textdiff.js";
import { isMemberRole, inSeatOrder } from "../sitting.js";
import { nameWithRole } from "./lists.js";
import { ballotDialog } from "./ballotconsole.js";

/**
 * @typedef {import("../store.js").State} State
 * @typedef {import("./lists.js").Command} Command
 * @typedef {import("./ballotconsole.js").BallotAction} BallotAction
 * @typedef {{id: string, mover_id: string, supporters: string[], original: string, text: string,
 *   moved_at: number, outcome: string | null}} AmendmentView
 * @typedef {{amendments: AmendmentView[], next: string | null, result: string | null}} ItemVotesView
 */

export class AmendmentsPanel {
  /**
   * @param {Command} command
   * @param {BallotAction} ballot
   */
  constructor(command, ballot) {
    this.command = command;
    this.ballot = ballot;
    this.key = "";
    this.body = h("div", { class: "amendments-body" });
    this.el = h("section", { class: "panel-section amendments", "data-testid": "amendments",
      "aria-labelledby": "amendments-title" }, h("h3", { id: "amendments-title" }, t("amendments.title")), this.body);
    /** @type {State | null} */
    this.state = null;
    /** @type {"chair" | "clerk" | "other"} */
    this.who = "other";
    this.itemId = ""; // the item shown
  }

  /**
   * @param {State} state
   * @param {"chair" | "clerk" | "other"} who
   * @returns {void}
   */
  render(state, who) {
    this.state = state;
    const sitting = state.sitting;
    // The item under deliberation; once decided by its ballots, it stays shown with its result
    // until another item is taken up.
    const shownId = sitting?.current_item_id || (sitting?.amendments?.[this.itemId]?.result ? this.itemId : "");
    const item = sitting?.agenda.find((i) => i.id === shownId);
    this.itemId = item?.id || "";
    const votes = item ? sitting?.amendments?.[item.id] : undefined;
    const online = state.connection === "connected";
    const open = sitting?.state === "open" && online;
    const ballotOpen = state.ballot?.state === "open" || state.ballot?.state === "closed";
    const key = JSON.stringify([item?.id, votes, who, open, ballotOpen, state.participants.length,
      document.documentElement.lang]);
    if (key === this.key) return;
    this.key = key;
    this.who = who;
    const list = votes?.amendments || [];
    this.el.hidden = !item || (who === "other" && !list.length);
    if (!item || this.el.hidden) return;
    /** @type {Node[]} */
    const parts = [];
    if (!list.length) parts.push(h("p", { class: "hint" }, t("amendments.none")));
    list.forEach((a, n) => parts.push(this.amendmentParts(state, a, n + 1)));
    if (who !== "other" && open && votes?.next) {
      parts.push(button(t("amendments.receive"), "amendment-receive", () => this.receive(state, item.id),
        { kind: "secondary", key: "amendment-receive" }));
    }
    if (who === "chair" && votes?.next) {
      const what = this.targetText(state, votes.next, list);
      parts.push(h("p", { class: "amendment-next", "data-testid": "amendment-next" }, t("amendments.next", { what })),
        button(t("amendments.start_vote"), "amendment-vote", () => this.startVote(votes.next || "", what, item.title),
          { kind: "primary", disabled: !open || ballotOpen, key: "amendment-vote" }));
    }
    if (votes?.result) {
      parts.push(h("p", { class: "amendment-result", "data-testid": "amendment-result" },
        t("amendments.result", { result: votes.result })));
    }
    replaceKeepingFocus(this.body, parts);
  }

  /**
   * @param {State} state
   * @param {AmendmentView} a
   * @param {number} n
   * @returns {Node}
   */
  amendmentParts(state, a, n) {
    const diff = textDiff(a.original, a.text).map((run) => run.kind === "same" ? document.createTextNode(run.text)
      : h(run.kind, { class: `diff-${run.kind}` }, run.text));
    const outcome = a.outcome ? t(`outcome.${a.outcome}`) : t("amendments.pending");
    return h("article", { class: "amendment", "data-testid": "amendment", "data-outcome": a.outcome || "pending" },
      h("p", { class: "amendment-head" },
        h("strong", {}, t("amendments.numbered", { n })), " ",
        h("span", { class: "chip kind" }, outcome)),
      h("p", { class: "amendment-who" }, t("amendments.moved_by", {
        mover: nameWithRole(state, a.mover_id),
        supporters: a.supporters.map((id) => nameWithRole(state, id)).join("、"),
      })),
      h("p", { class: "amendment-diff", "data-testid": "amendment-diff" }, ...diff));
  }

  /**
   * What the next vote is on, in words.
   * @param {State} state
   * @param {string} next
   * @param {AmendmentView[]} list
   * @returns {string}
   */
  targetText(state, next, list) {
    if (!next.startsWith("amendment:")) return t(`amendments.target.${next}`);
    const id = next.slice("amendment:".length);
    const a = list.find((x) => x.id === id);
    const mover = a ? nameWithRole(state, a.mover_id) : "";
    return t("amendments.target.amendment", { n: list.findIndex((x) => x.id === id) + 1, mover });
  }

  /**
   * @param {string} target
   * @param {string} what
   * @param {string} title
   */
  async startVote(target, what, title) {
    const settings = await ballotDialog(`${title} ${what}`);
    if (settings) await this.ballot("open", { ...settings, target });
  }

  /**
   * The clerk or the chair enters an amendment handed in by a member.
   * @param {State} state
   * @param {string} itemId
   */
  async receive(state, itemId) {
    const members = inSeatOrder(state.participants).filter((p) => isMemberRole(p.role)
      && !state.sitting?.removed.includes(p.id));
    const entered = await amendmentDialog(members.map((p) => ({ id: p.id, label: nameWithRole(state, p.id) })));
    if (entered) await this.command("move_amendment", { item_id: itemId, ...entered });
  }
}

/**
 * Who moves a motion and who supports it, as fields of a dialog: the mover as a choice, the
 * supporters as check boxes (the mover is never their own supporter).
 * @param {{id: string, label: string}[]} members
 * @returns {{nodes: Node[], read: () => {mover_id: string, supporters: string[]} | null, focus: () => void}}
 */
export function moverFields(members) {
  const mover = h("select", { id: "motion-mover", class: "select", "data-testid": "amendment-mover" },
    new Option(t("amendments.dialog.choose"), ""), ...members.map((m) => new Option(m.label, m.id)));
  const supporters = members.map((m) => h("label", { class: "check-row" },
    h("input", { type: "checkbox", value: m.id, "data-testid": "amendment-supporter" }), h("span", {}, m.label)));
  return {
    nodes: [
      h("label", { class: "field", for: "motion-mover" }, h("span", {}, t("amendments.dialog.mover")), mover),
      h("fieldset", { class: "field supporter-list" }, h("legend", {}, t("amendments.dialog.supporters")), ...supporters),
    ],
    read: () => {
      if (!mover.value) return null;
      const chosen = supporters.map((l) => /** @type {HTMLInputElement} */ (l.querySelector("input")))
        .filter((i) => i.checked && i.value !== mover.value).map((i) => i.value);
      return { mover_id: mover.value, supporters: chosen };
    },
    focus: () => mover.focus(),
  };
}

/**
 * The amendment as handed in: who moved it, who supports it, the original's words and the new.
 * @param {{id: string, label: string}[]} members
 * @returns {Promise<{mover_id: string, supporters: string[], original: string, text: string} | null>}
 */
function amendmentDialog(members) {
  const who = moverFields(members);
  const original = h("textarea", { id: "amendment-original", class: "text-input", rows: 3, maxlength: 20000,
    "data-testid": "amendment-original" });
  const text = h("textarea", { id: "amendment-text", class: "text-input", rows: 3, maxlength: 20000,
    "data-testid": "amendment-text" });
  return formDialog({ title: t("amendments.dialog.title"), testid: "amendment-dialog" }, [...who.nodes,
    h("label", { class: "field", for: "amendment-original" }, h("span", {}, t("amendments.dialog.original")), original),
    h("label", { class: "field", for: "amendment-text" }, h("span", {}, t("amendments.dialog.text")), text),
  ], t("amendments.dialog.confirm"), () => {
    const moved = who.read();
    if (!moved) return (who.focus(), null);
    if (!text.value.trim()) return (text.focus(), null);
    return { ...moved, original: original.value.trim(), text: text.value.trim() };
  }, who.focus);
}
