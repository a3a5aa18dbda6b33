/**
 * Ballots in the chair's console: start a vote on the current item (the motion, named or
 * secret, the majority needed, abstaining allowed), follow who has voted (never what), close
 * it, break a tie (Local Autonomy Act art. 116), announce the result. The clerk sees the same
 * progress and count without the buttons. DOM only: actions go to `ballot(action, fields)`.
 */
import { t } from "../i18n.js";
import { h, button, replaceKeepingFocus, confirmDialog, formDialog } from "./dom.js";
import { KINDS, MAJORITIES, needsTieBreak, voteStatus, notEntitledWhy } from "../ballot.js";
import { selfId } from "../sitting.js";
import { progressParts, resultParts, ruleParts, kindChip, resultCurrent } from "./ballot.js";

/**
 * @typedef {import("../store.js").State} State
 * @typedef {import("../signaling.js").Ballot} Ballot
 * @typedef {(action: string, fields?: Record<string, any>) => Promise<boolean>} BallotAction
 * @typedef {{motion: string, kind: string, majority: string, abstain_allowed: boolean}} BallotSettings
 */

export class BallotConsole {
  /** @param {BallotAction} action */
  constructor(action) {
    this.action = action;
    /** @type {State | null} */
    this.state = null;
    this.presiding = false;
    this.key = "";
    this.stage = "";
    this.body = h("div", { class: "ballot-console-body" });
    this.el = h("section", {
      class: "panel-section ballot-console", "data-testid": "ballot-console", "aria-labelledby": "ballot-console-title",
    }, h("h3", { id: "ballot-console-title" }, t("ballot.section")), this.body);
  }

  /**
   * @param {State} state
   * @param {boolean} presiding the chair's buttons, or the clerk's view without them
   * @returns {void}
   */
  render(state, presiding) {
    this.state = state;
    this.presiding = presiding;
    const ballot = state.ballot;
    const sitting = state.sitting;
    const online = state.connection === "connected";
    const key = JSON.stringify([ballot, presiding, online, sitting?.state, sitting?.current_item_id,
      state.participants.length, document.documentElement.lang]);
    if (key === this.key) return;
    this.key = key;
    const stage = ballot ? `${ballot.id}:${ballot.state}:${!!ballot.tally?.decided_by_chair}` : "";
    const moved = presiding && !!this.stage && stage !== this.stage;
    this.stage = stage;
    this.el.dataset.state = ballot?.state || "none";
    /** @type {Node[]} */
    let parts = [];
    if (ballot && ballot.state === "open") parts = this.openParts(state, ballot, presiding, online);
    else if (ballot && ballot.state === "closed") parts = this.closedParts(state, ballot, presiding, online);
    else {
      if (ballot && resultCurrent(state, ballot)) {
        parts = resultParts(state, ballot, t("ballot.result.title"), { compact: true });
      }
      if (presiding) parts.push(...this.startParts(state, online));
    }
    replaceKeepingFocus(this.body, parts);
    this.el.hidden = !parts.length;
    if (moved) {
      // The chair's own step changed what comes next: bring it into view, read from its top.
      // (Only the panel's list scrolls: scrollIntoView would move the whole page as well.)
      const list = this.el.closest(".sitting-more");
      if (list) {
        const bottom = list.getBoundingClientRect().bottom;
        list.scrollTop += this.el.getBoundingClientRect().top - list.getBoundingClientRect().top;
        // ...and the next button in reach, even if the top of the count scrolls away.
        const next = this.body.querySelector(".tie-break, [data-testid=ballot-publish], [data-testid=ballot-close]");
        const over = next ? next.getBoundingClientRect().bottom - bottom + 8 : 0;
        if (over > 0) list.scrollTop += over;
      }
      const first = /** @type {HTMLElement | null} */ (this.body.querySelector("h4, .ballot-head"));
      if (first) {
        first.tabIndex = -1;
        first.focus({ preventScroll: true });
      }
    }
  }

  /**
   * @param {State} state
   * @param {boolean} online
   * @returns {Node[]}
   */
  startParts(state, online) {
    const sitting = /** @type {NonNullable<State["sitting"]>} */ (state.sitting);
    const open = sitting.state === "open";
    return [
      button(t("ballot.start"), "ballot-start", () => this.start(), {
        kind: "primary big", disabled: !open || !online, key: "ballot-start",
      }),
      h("p", { class: "hint" }, t(open ? "ballot.start_hint" : "ballot.start_when")),
    ];
  }

  /**
   * @param {State} state
   * @param {Ballot} ballot
   * @param {boolean} presiding
   * @param {boolean} online
   * @returns {Node[]}
   */
  openParts(state, ballot, presiding, online) {
    const [progress, meter, ...names] = progressParts(state, ballot, true);
    return [
      h("p", { class: "ballot-head" }, h("span", { class: "chip ballot-now" }, t("ballot.open_now")), " ", kindChip(ballot)),
      h("p", { class: "ballot-motion", "data-testid": "ballot-motion" }, ballot.motion),
      progress, meter,
      presiding ? button(t("ballot.close"), "ballot-close", () => this.close(ballot),
        { kind: "primary big", disabled: !online, key: "ballot-close" }) : null,
      presiding && voteStatus(ballot, selfId(state)) === "not_entitled"
        ? h("p", { class: "my-vote not-entitled", "data-testid": "chair-not-voting" },
          t(`vote.why.${notEntitledWhy(state)}`, { chair: t("role.chair") })) : null,
      ...names,
      ...ruleParts(ballot),
    ].filter((p) => !!p);
  }

  /**
   * @param {State} state
   * @param {Ballot} ballot
   * @param {boolean} presiding
   * @param {boolean} online
   * @returns {Node[]}
   */
  closedParts(state, ballot, presiding, online) {
    const parts = resultParts(state, ballot, t("ballot.tally_title"), { compact: true });
    if (!presiding) return [...parts, ...ruleParts(ballot)];
    if (needsTieBreak(ballot)) {
      parts.push(h("div", { class: "tie-break", "data-testid": "tie-break", role: "group", "aria-labelledby": "tie-text" },
        h("p", { id: "tie-text", class: "note warn" }, t("ballot.tie.text", { chair: t("role.chair") })),
        h("div", { class: "button-row" },
          button(t("ballot.tie.yes"), "tie-yes", () => this.decideTie(ballot, "yes"),
            { kind: "secondary big", disabled: !online, key: "tie-yes" }),
          button(t("ballot.tie.no"), "tie-no", () => this.decideTie(ballot, "no"),
            { kind: "secondary big", disabled: !online, key: "tie-no" }))));
    } else {
      parts.push(button(t("ballot.publish"), "ballot-publish", () => this.action("publish", { ballot_id: ballot.id }),
        { kind: "primary big", disabled: !online, key: "ballot-publish" }),
      h("p", { class: "hint" }, t("ballot.publish_hint")));
    }
    return [...parts, ...ruleParts(ballot)];
  }

  /** Ask for the settings, then open the ballot. */
  async start() {
    const state = this.state;
    const sitting = state?.sitting;
    const current = sitting?.agenda.find((i) => i.id === sitting.current_item_id);
    const settings = await ballotDialog(current?.title || "");
    if (settings) await this.action("open", settings);
  }

  /** @param {Ballot} ballot */
  async close(ballot) {
    const waiting = ballot.entitled.filter((id) => !ballot.voted.includes(id)).length;
    const ok = await confirmDialog(() => ({
      title: t("ballot.close_confirm.title"),
      text: waiting ? t("ballot.close_confirm.text", { n: waiting }) : t("ballot.close_confirm.all"),
      confirm: t("ballot.close"),
    }));
    if (ok !== null) await this.action("close", { ballot_id: ballot.id });
  }

  /**
   * @param {Ballot} ballot
   * @param {"yes" | "no"} choice
   */
  async decideTie(ballot, choice) {
    const ok = await confirmDialog(() => ({
      title: t("ballot.tie_confirm.title", { outcome: t(choice === "yes" ? "outcome.adopted" : "outcome.rejected") }), text: t("ballot.tie_confirm.text"),
      confirm: t(choice === "yes" ? "ballot.tie.yes" : "ballot.tie.no"),
    }));
    if (ok !== null) await this.action("decide_tie", { ballot_id: ballot.id, choice });
  }

  /** Rebuild after a language change. */
  retranslate() {
    /** @type {HTMLElement} */ (this.el.querySelector("h3")).textContent = t("ballot.section");
    this.key = "";
    if (this.state) this.render(this.state, this.presiding);
  }
}

/**
 * The chair's settings for a new ballot, in a modal dialog; null when cancelled.
 * @param {string} motion prefilled: the current item's title
 * @returns {Promise<BallotSettings | null>}
 */
export function ballotDialog(motion) {
  const motionInput = h("textarea", {
    id: "ballot-motion-input", class: "text-input", "data-testid": "ballot-motion-input", rows: 3, maxlength: 500,
  });
  motionInput.value = motion;
  const radio = (/** @type {string} */ kind) => h("label", { class: "radio-row" },
    h("input", { type: "radio", name: "ballot-kind", value: kind, checked: kind === "named", "data-testid": `ballot-kind-${kind}` }),
    h("span", {}, t(`vote.kind.${kind}`)));
  const majority = h("select", {
    id: "ballot-majority", class: "select", "data-testid": "ballot-majority",
  }, ...MAJORITIES.map((m) => new Option(t(`majority.option.${m}`, { chair: t("role.chair") }), m)));
  const abstain = h("input", { type: "checkbox", "data-testid": "ballot-abstain" });
  const kinds = h("fieldset", { class: "field radio-group" }, h("legend", {}, t("ballot.dialog.kind")), ...KINDS.map(radio));
  return formDialog({ title: t("ballot.dialog.title"), testid: "ballot-dialog" }, [
    h("label", { class: "field", for: "ballot-motion-input" }, h("span", {}, t("ballot.dialog.motion")), motionInput),
    kinds,
    h("label", { class: "field", for: "ballot-majority" }, h("span", {}, t("ballot.dialog.majority")), majority),
    h("label", { class: "check-row" }, abstain, h("span", {}, t("ballot.dialog.abstain"))),
    h("p", { class: "hint" }, t("ballot.dialog.note")),
  ], t("ballot.dialog.title"), () => {
    const text = motionInput.value.trim();
    if (!text) return (motionInput.focus(), null);
    const kind = /** @type {HTMLInputElement | null} */ (kinds.querySelector("input[name=ballot-kind]:checked"));
    return { motion: text, kind: kind?.value || "named", majority: majority.value, abstain_allowed: abstain.checked };
  }, () => motionInput.focus());
}
