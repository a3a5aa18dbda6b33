/**
 * The ballot as everyone sees it in the sitting panel: a vote in progress (how many have
 * voted, and whether I may vote or why not), voting closed, and the announced result with
 * the counts, the rule in words and, for a named vote, who voted how. The parts are shared
 * with the chair's ballot console. DOM only.
 */
import { t } from "../i18n.js";
import { h, button } from "./dom.js";
import { voteStatus, notEntitledWhy, turnout, votersByChoice, shortHash, groups } from "../ballot.js";
import { person, selfId, isPresiding } from "../sitting.js";

/**
 * @typedef {import("../store.js").State} State
 * @typedef {import("../signaling.js").Ballot} Ballot
 */

/**
 * The rule in words ("adopted with yes from two thirds of those present").
 * @param {Ballot} ballot
 * @returns {string}
 */
export function majorityWords(ballot) {
  return t(`majority.${ballot.majority}`, {
    chair: t("role.chair"), fixed: ballot.tally?.fixed_membership ?? "?",
  });
}

/**
 * "記名投票" / "無記名投票" as a chip.
 * @param {Ballot} ballot
 * @returns {HTMLElement}
 */
export function kindChip(ballot) {
  return h("span", { class: `chip vote-kind kind-${ballot.kind}`, "data-testid": "ballot-kind" },
    t(`vote.kind.${ballot.kind}`));
}

/**
 * How many have voted of how many may, as text and a meter; with `names`, who has and who
 * has not (never what).
 * @param {State} state
 * @param {Ballot} ballot
 * @param {boolean} names
 * @returns {Node[]}
 */
export function progressParts(state, ballot, names) {
  const voted = ballot.voted.length;
  const entitled = ballot.entitled.length;
  /** @type {Node[]} */
  const parts = [
    h("p", { class: "ballot-progress", "data-testid": "ballot-progress" }, t("ballot.progress", { voted, entitled })),
    h("div", {
      class: "ballot-meter", role: "meter", "aria-valuemin": 0, "aria-valuemax": entitled, "aria-valuenow": voted,
      "aria-label": t("ballot.progress", { voted, entitled }),
      style: `--done:${Math.round((voted / Math.max(1, entitled)) * 100)}%`,
    }, h("div", { class: "ballot-meter-bar" })),
  ];
  if (!names) return parts;
  const waiting = ballot.entitled.filter((id) => !ballot.voted.includes(id));
  if (voted) parts.push(nameGroup(state, "ballot-voted", t("ballot.voters.done", { n: voted }), ballot.voted, "done"));
  if (waiting.length) {
    parts.push(nameGroup(state, "ballot-waiting", t("ballot.voters.waiting", { n: waiting.length }), waiting, "waiting"));
  }
  return parts;
}

/**
 * @param {State} state
 * @param {string} testid
 * @param {string} heading
 * @param {string[]} ids
 * @param {string} cls
 * @returns {HTMLElement}
 */
function nameGroup(state, testid, heading, ids, cls) {
  return h("div", { class: `ballot-names ${cls}`, "data-testid": testid },
    h("strong", {}, heading),
    h("ul", { class: "name-chips" }, ...ids.map((id) => h("li", { "data-participant-id": id }, person(state, id).name))));
}

/**
 * The count and the outcome: for the chair once closed, for everyone once announced.
 * @param {State} state
 * @param {Ballot} ballot
 * @param {string} title
 * @param {{level?: string, compact?: boolean, motion?: boolean}} [options] the title's heading
 *   element; `compact`: the outcome and the counts only; `motion`: repeat what was voted on
 * @returns {Node[]}
 */
export function resultParts(state, ballot, title, options = {}) {
  const { level = "h4", compact = false, motion = true } = options;
  const tally = ballot.tally;
  if (!tally) return [];
  const { notCast } = turnout(tally);
  const rows = [["yes", tally.yes], ["no", tally.no]];
  if (ballot.abstain_allowed || tally.abstain) rows.push(["abstain", tally.abstain]);
  rows.push(["none", notCast]);
  const chair = t("role.chair");
  /** @type {Node[]} */
  const parts = [
    h(level, { class: "result-title" }, title),
    h("p", { class: `outcome outcome-${tally.outcome}`, "data-testid": "ballot-outcome", "data-outcome": tally.outcome },
      t(`outcome.${tally.outcome}`)),
    motion ? h("p", { class: "result-motion" }, ballot.motion, " ", kindChip(ballot)) : null,
    h("dl", { class: "tally", "data-testid": "ballot-tally" }, ...rows.map(([key, n]) =>
      h("div", { class: `tally-row tally-${key}`, "data-testid": `tally-${key}`, "data-count": n },
        h("dt", {}, t(`ballot.count.${key}`)), h("dd", {}, t("ballot.count.unit", { n }))))),
    tally.decided_by_chair ? h("p", { class: "note result-tie", "data-testid": "ballot-decided-by-chair" },
      t("ballot.decided_by_chair", { chair, outcome: t(`outcome.${tally.outcome}`) })) : null,
  ].filter((p) => p !== null);
  if (compact) return parts;
  parts.push(...ruleParts(ballot));
  if (ballot.state === "published" && ballot.kind === "named" && ballot.votes) {
    const byChoice = votersByChoice(ballot, state.participants);
    parts.push(h("div", { class: "result-named", "data-testid": "ballot-named" },
      h(level === "h3" ? "h4" : "h5", {}, t("ballot.names.title")),
      ...Object.entries(byChoice).filter(([, ids]) => ids.length).map(([choice, ids]) =>
        h("div", { class: `ballot-names choice-${choice}`, "data-testid": `named-${choice}` },
          h("strong", {}, `${t(`ballot.count.${choice}`)}(${t("ballot.count.unit", { n: ids.length })}):`),
          h("ul", { class: "name-chips" }, ...ids.map((id) =>
            h("li", { "data-participant-id": id }, person(state, id).name)))))));
  } else if (ballot.state === "published" && ballot.kind === "secret") {
    parts.push(h("p", { class: "hint" }, t("ballot.names.secret")));
  }
  return parts;
}

/**
 * How many voted of how many could, and the rule in words.
 * @param {Ballot} ballot
 * @returns {Node[]}
 */
export function ruleParts(ballot) {
  const tally = ballot.tally;
  return [
    tally ? h("p", { class: "result-turnout" }, t("ballot.turnout", { entitled: tally.entitled, cast: turnout(tally).cast })) : null,
    h("p", { class: "result-rule", "data-testid": "ballot-rule" }, majorityWords(ballot)),
  ].filter((p) => !!p);
}

/**
 * Whether an announced result still belongs on screen: while its item is the current one.
 * @param {State} state
 * @param {Ballot} ballot
 * @returns {boolean}
 */
export function resultCurrent(state, ballot) {
  return !ballot.agenda_item_id || ballot.agenda_item_id === state.sitting?.current_item_id;
}

/** The card in every screen's sitting panel but the chair's and the clerk's (they have the console). */
export class BallotCard {
  /** @param {(ballotId: string) => void} showResult show an announced result large */
  constructor(showResult) {
    this.showResult = showResult;
    this.el = h("section", {
      class: "ballot-card", "data-testid": "ballot-card", "aria-labelledby": "ballot-card-title", hidden: true,
    });
    this.key = "";
  }

  /**
   * @param {State} state
   * @returns {void}
   */
  render(state) {
    const ballot = state.ballot;
    const console = isPresiding(state) || state.self?.role === "clerk";
    const show = !!ballot && !console && (ballot.state !== "published" || resultCurrent(state, ballot));
    this.el.hidden = !show;
    if (!show || !ballot) {
      this.key = "";
      return;
    }
    const key = JSON.stringify([ballot, state.vote?.receipt, state.sitting?.acting_chair_id, selfId(state),
      state.participants.length, document.documentElement.lang]);
    if (key === this.key) return;
    this.key = key;
    this.el.dataset.state = ballot.state;
    const status = voteStatus(ballot, selfId(state));
    this.el.dataset.status = status;
    /** @type {Node[]} */
    let parts;
    if (ballot.state === "published") {
      parts = resultParts(state, ballot, t("ballot.result.title"), { level: "h3", compact: true });
      /** @type {HTMLElement} */ (parts[0]).id = "ballot-card-title";
      /** @type {HTMLElement} */ (parts[0]).tabIndex = -1;
      parts.push(button(t("ballot.show_result"), "ballot-show-result", () => this.showResult(ballot.id)));
    } else {
      parts = [
        h("h3", { id: "ballot-card-title", class: "ballot-card-title", tabindex: "-1" },
          h("span", { class: "chip ballot-now" }, t(ballot.state === "open" ? "ballot.open_now" : "ballot.section")),
          " ", kindChip(ballot)),
        h("p", { class: "ballot-motion", "data-testid": "ballot-motion" }, ballot.motion),
        ...(ballot.state === "open" ? progressParts(state, ballot, false) : []),
        ballot.state === "closed" ? h("p", { class: "ballot-wait", "data-testid": "ballot-wait" }, t("ballot.closed_wait")) : null,
        this.mine(state, ballot, status),
      ].filter((p) => !!p);
    }
    this.el.replaceChildren(...parts);
  }

  /**
   * This screen's own standing: voted (with the receipt if this screen has it), may vote,
   * or may not and why.
   * @param {State} state
   * @param {Ballot} ballot
   * @param {string} status
   * @returns {HTMLElement | null}
   */
  mine(state, ballot, status) {
    const me = selfId(state);
    if (ballot.voted.includes(me)) {
      const receipt = state.vote?.receipt;
      return h("div", { class: "my-vote voted", "data-testid": "my-vote", "data-status": "voted" },
        h("strong", { class: "my-vote-title" }, t("ballot.you_voted")),
        h("span", {}, t("ballot.you_voted_text")),
        receipt ? h("details", { class: "vote-hash-details", "data-testid": "my-receipt" },
          h("summary", {}, `${t("vote.receipt.number")}: ${shortHash(receipt.hash)} …`),
          h("p", { class: "receipt-full" }, groups(receipt.hash, 8))) : null);
    }
    if (status === "can_vote") {
      return h("p", { class: "my-vote can", "data-testid": "my-vote", "data-status": "can_vote" }, t("ballot.you_can_vote"));
    }
    if (status !== "not_entitled") return null;
    const why = notEntitledWhy(state);
    return h("p", { class: `my-vote not-entitled why-${why}`, "data-testid": "my-vote", "data-status": "not_entitled" },
      t(`vote.why.${why}`, { chair: t("role.chair") }));
  }
}
