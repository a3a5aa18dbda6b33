/**
 * The member's vote panel: while a ballot is open and this member may vote, it covers the
 * gallery (and the sitting panel on a tablet held upright). Choose → confirm → the passkey
 * prompt → the receipt; a refusal says what happened and what to do. The choices look
 * alike on purpose: the screen must not lean towards one. When the chair announces the
 * result, everyone sees it here, large, until they close it. DOM only: what the member does
 * goes to the callbacks, and the steps come back through the state.
 */
import { t, pick } from "../i18n.js";
import { h, button } from "./dom.js";
import { choicesOf, voteStatus, shortHash, groups } from "../ballot.js";
import { selfId } from "../sitting.js";
import { resultParts, resultCurrent } from "./ballot.js";

/**
 * @typedef {import("../store.js").State} State
 * @typedef {import("../store.js").VoteProgress} VoteProgress
 * @typedef {import("../signaling.js").Ballot} Ballot
 * @typedef {object} VoteCallbacks
 * @property {(choice: string) => void} choose a choice pressed: ask to confirm
 * @property {() => void} back from the confirmation (or a refusal) to the choices
 * @property {() => void} cast confirmed: run the passkey ceremony and send the vote
 * @property {() => void} dismiss close the receipt or a refusal that cannot be retried
 */

/** Refusals after which voting again can help (the others need someone else first). */
const RETRYABLE = new Set([
  "not_present", "passkey_failed", "choice_not_allowed", "cancelled", "failed", "connection_lost", "internal",
]);
/** Refusals with their own "what to do" line; anything else gets a general one. */
const ADVICE = new Set([
  "not_present", "no_passkey", "already_voted", "not_entitled", "ballot_not_open", "choice_not_allowed",
  "passkey_failed", "cancelled", "unsupported", "failed", "connection_lost",
]);
/** Problems found in the browser itself, which come without a server message. */
const LOCAL = new Set(["cancelled", "unsupported", "failed", "connection_lost"]);
/** Steps where being on camera matters: the member's own picture stays in view. */
const SHOW_CAMERA = new Set(["choose", "confirm", "signing"]);
/** Steps where the named/secret note is repeated in full. */
const SHOW_NOTE = new Set(["choose", "confirm"]);

/**
 * A sentence with its `{choice}` in bold, e.g. "**賛成**で投票します。よろしいですか?".
 * @param {string} key
 * @param {string} choice
 * @returns {(Node | string)[]}
 */
function withChoice(key, choice) {
  const [before, after = ""] = t(key).split("{choice}");
  return [before, h("strong", { class: "vote-choice-word" }, t(`vote.choice.${choice}`)), after];
}

export class VotePanel {
  /**
   * @param {HTMLElement} root the panel element (empty, hidden)
   * @param {VoteCallbacks} callbacks
   */
  constructor(root, callbacks) {
    this.root = root;
    this.callbacks = callbacks;
    /** @type {State | null} */
    this.state = null;
    this.shownKey = "";
    /** The ballot whose announced result is shown large, until closed. */
    this.resultFor = "";
    this.selfVideo = h("video", {
      class: "vote-self-video", autoplay: true, playsinline: true, muted: true, "aria-hidden": "true",
    });
    this.selfVideo.muted = true;
    this.selfCaption = h("figcaption", {});
    this.selfView = h("figure", { class: "vote-self", "data-testid": "vote-self" }, this.selfVideo, this.selfCaption);
    this.body = h("div", { class: "vote-body" });
    this.root.replaceChildren(this.body);
    this.root.setAttribute("aria-labelledby", "vote-heading");
  }

  /**
   * The member's own camera, shown small so they can see they are on camera while voting.
   * @param {MediaStream | null} stream
   * @returns {void}
   */
  setLocalStream(stream) {
    const video = stream?.getVideoTracks().length ? new MediaStream(stream.getVideoTracks()) : null;
    this.selfVideo.srcObject = video;
  }

  /**
   * Show an announced result large (when it is announced, or when asked from the sitting panel).
   * @param {string} ballotId
   * @returns {void}
   */
  showResult(ballotId) {
    this.resultFor = ballotId;
    if (this.state) this.render(this.state);
  }

  /**
   * Which step to show now, or "" for none.
   * @param {State} state
   * @returns {string}
   */
  stepOf(state) {
    const ballot = state.ballot;
    if (!ballot) return "";
    if (ballot.state === "published") {
      return this.resultFor === ballot.id && ballot.tally && resultCurrent(state, ballot) ? "result" : "";
    }
    if (ballot.state !== "open") return "";
    const step = state.vote?.step || "";
    if (step === "signing" || step === "receipt" || step === "refused") return step;
    if (voteStatus(ballot, selfId(state)) !== "can_vote") return "";
    return step === "confirm" ? "confirm" : "choose";
  }

  /**
   * @param {State} state
   * @returns {void}
   */
  render(state) {
    this.state = state;
    const step = this.stepOf(state);
    const hadFocus = this.root.contains(document.activeElement) || document.activeElement === document.body;
    this.root.hidden = !step;
    if (!step) {
      // Closed (or the ballot moved on): the keyboard continues at the ballot in the sitting panel.
      if (this.shownKey && hadFocus) {
        /** @type {HTMLElement | null} */ (document.getElementById("ballot-card-title"))?.focus({ preventScroll: true });
      }
      this.shownKey = "";
      return;
    }
    const ballot = /** @type {Ballot} */ (state.ballot);
    const vote = state.vote;
    const key = JSON.stringify([ballot.id, step, vote?.choice, vote?.error?.code, vote?.receipt?.hash,
      document.documentElement.lang, ballot.motion, step === "result" ? ballot.tally : null]);
    if (key === this.shownKey) return;
    const wasShown = !!this.shownKey;
    this.shownKey = key;
    this.root.dataset.step = step;
    this.root.dataset.kind = ballot.kind;
    const choice = vote?.choice || "";
    const parts = {
      choose: () => this.choose(ballot),
      confirm: () => this.confirm(choice),
      signing: () => this.signing(choice),
      receipt: () => this.receipt(/** @type {VoteProgress} */ (vote)),
      refused: () => this.refused(ballot, /** @type {VoteProgress} */ (vote), state),
      result: () => this.result(ballot, state),
    }[step];
    this.body.replaceChildren(this.header(ballot, step, vote), ...(parts ? parts() : []));
    // A new step is read out from its heading; so is the panel when it first appears.
    const heading = /** @type {HTMLElement | null} */ (this.body.querySelector("#vote-heading"));
    if (heading && (wasShown || step === "choose" || step === "result")) heading.focus({ preventScroll: true });
    this.root.scrollTop = 0;
  }

  /**
   * What is being voted on, and whether it is a named or a secret ballot.
   * @param {Ballot} ballot
   * @param {string} step
   * @param {VoteProgress | null} vote
   * @returns {HTMLElement}
   */
  header(ballot, step, vote) {
    const camera = SHOW_CAMERA.has(step) || (step === "refused" && vote?.error?.code === "not_present");
    this.selfCaption.textContent = t("vote.self_view");
    this.selfView.title = t("vote.self_view_hint");
    return h("div", { class: "vote-head" },
      h("div", { class: "vote-kicker" },
        h("span", { class: "vote-label" }, t(step === "result" ? "ballot.result.title" : "vote.label")),
        h("span", { class: `chip vote-kind kind-${ballot.kind}`, "data-testid": "vote-kind" }, t(`vote.kind.${ballot.kind}`)),
        step === "result" ? button(t("vote.close_panel"), "vote-result-close-top", () => this.closeResult(),
          { kind: "secondary vote-result-top" }) : null),
      camera ? this.selfView : null,
      h("p", { class: "visually-hidden" }, t("vote.motion_label")),
      h("p", { class: "vote-motion", "data-testid": "vote-motion" }, ballot.motion),
      SHOW_NOTE.has(step) ? h("p", { class: `vote-kind-note kind-${ballot.kind}`, "data-testid": "vote-kind-note" },
        t(`vote.kind_note.${ballot.kind}`)) : null);
  }

  /**
   * @param {Ballot} ballot
   * @returns {Node[]}
   */
  choose(ballot) {
    const choices = choicesOf(ballot);
    return [
      h("h2", { id: "vote-heading", class: "vote-heading", tabindex: "-1" },
        t(ballot.abstain_allowed ? "vote.choose_abstain" : "vote.choose")),
      h("div", { class: `vote-choices n${choices.length}`, role: "group", "aria-labelledby": "vote-heading" },
        ...choices.map((choice) => button(t(`vote.choice.${choice}`), `vote-${choice}`,
          () => this.callbacks.choose(choice), { kind: `vote-choice choice-${choice}` }))),
      h("p", { class: "vote-hint" }, t("vote.choose_hint")),
    ];
  }

  /**
   * @param {string} choice
   * @returns {Node[]}
   */
  confirm(choice) {
    return [
      h("h2", { id: "vote-heading", class: "vote-heading vote-question", tabindex: "-1", "data-testid": "vote-question" },
        ...withChoice("vote.confirm", choice)),
      h("div", { class: "vote-actions" },
        button(t("vote.cast"), "vote-cast", () => this.callbacks.cast(), { kind: "primary vote-action" }),
        button(t("vote.back"), "vote-back", () => this.callbacks.back(), { kind: "secondary vote-action" })),
      h("p", { class: "vote-hint" }, t("vote.confirm_hint")),
    ];
  }

  /**
   * @param {string} choice
   * @returns {Node[]}
   */
  signing(choice) {
    return [
      h("h2", { id: "vote-heading", class: "vote-heading", tabindex: "-1", "aria-busy": "true" }, t("vote.signing")),
      h("p", { class: "vote-chosen" }, ...withChoice("vote.chosen", choice)),
      h("p", { class: "vote-hint big", role: "status", "data-testid": "vote-signing" }, t("vote.signing_hint")),
    ];
  }

  /**
   * @param {VoteProgress} vote
   * @returns {Node[]}
   */
  receipt(vote) {
    const hash = vote.receipt?.hash || "";
    const copy = button(t("vote.receipt.copy"), "vote-copy", () => copyText(hash, copy), { kind: "secondary" });
    return [
      h("h2", { id: "vote-heading", class: "vote-heading vote-done", tabindex: "-1", "data-testid": "vote-receipt-title" },
        t("vote.receipt.title")),
      vote.choice ? h("p", { class: "vote-chosen" }, ...withChoice("vote.receipt.choice", vote.choice)) : null,
      h("div", { class: "vote-receipt", "data-testid": "vote-receipt", "data-hash": hash },
        h("p", { class: "vote-hash-line" },
          h("span", { class: "vote-hash-label" }, t("vote.receipt.number")),
          h("strong", { class: "vote-hash", "data-testid": "vote-hash" }, `${shortHash(hash)} …`)),
        h("div", { class: "vote-receipt-actions" }, copy,
          h("details", { class: "vote-hash-details" }, h("summary", {}, t("vote.receipt.full")),
            h("p", { class: "vote-hash-full", "data-testid": "vote-hash-full" }, groups(hash, 8)))),
        h("p", { class: "vote-hint" }, t("vote.receipt.hint"))),
      button(t("vote.close_panel"), "vote-dismiss", () => this.callbacks.dismiss(), { kind: "primary vote-action" }),
    ].filter((p) => !!p);
  }

  /**
   * @param {Ballot} ballot
   * @param {VoteProgress} vote
   * @param {State} state
   * @returns {Node[]}
   */
  refused(ballot, vote, state) {
    const code = vote.error?.code || "other";
    const message = LOCAL.has(code) ? t(`vote.problem.${code}`) : pick(vote.error?.message) || code;
    const canRetry = RETRYABLE.has(code) && voteStatus(ballot, selfId(state)) === "can_vote";
    return [
      h("div", { class: "vote-refusal", role: "alert", "data-testid": "vote-refusal", "data-code": code },
        h("h2", { id: "vote-heading", class: "vote-heading", tabindex: "-1" }, t("vote.refused.title")),
        h("p", { class: "vote-refusal-why", "data-testid": "vote-refusal-message" }, message),
        h("p", { class: "vote-refusal-todo", "data-testid": "vote-refusal-todo" },
          t(ADVICE.has(code) ? `vote.advice.${code}` : "vote.advice.other"))),
      h("div", { class: "vote-actions" },
        canRetry ? button(t("vote.retry"), "vote-retry", () => this.callbacks.back(), { kind: "primary vote-action" }) : null,
        button(t("vote.close_panel"), "vote-dismiss", () => this.callbacks.dismiss(),
          { kind: `${canRetry ? "secondary" : "primary"} vote-action` })),
    ];
  }

  /**
   * The announced result, large: the outcome, the counts, the rule, who voted how.
   * @param {Ballot} ballot
   * @param {State} state
   * @returns {Node[]}
   */
  result(ballot, state) {
    const parts = resultParts(state, ballot, t("ballot.result.title"), { level: "h2", motion: false });
    const title = /** @type {HTMLElement} */ (parts[0]);
    title.id = "vote-heading";
    title.tabIndex = -1;
    title.classList.add("visually-hidden");
    return [
      h("div", { class: "vote-result", "data-testid": "vote-result" }, ...parts),
      button(t("vote.close_panel"), "vote-result-close", () => this.closeResult(), { kind: "primary vote-action" }),
    ];
  }

  /** The member has read the announced result; it stays in the sitting panel. */
  closeResult() {
    this.resultFor = "";
    if (this.state) this.render(this.state);
  }

  /** Leaving puts an announced result away: it is news once, not again after rejoining. */
  forgetResult() {
    this.resultFor = "";
  }

  /** Rebuild the texts after a language change. */
  retranslate() {
    this.shownKey = "";
    if (this.state) this.render(this.state);
  }
}

/**
 * Copy the receipt; where the clipboard is not allowed (plain http), open and select it so
 * the member can copy it by hand.
 * @param {string} text
 * @param {HTMLElement} control
 * @returns {Promise<void>}
 */
export async function copyText(text, control) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const box = control.closest(".vote-receipt, .my-vote");
    const details = box?.querySelector("details");
    if (details) details.open = true;
    const full = box?.querySelector(".vote-hash-full, .receipt-full");
    if (full) window.getSelection()?.selectAllChildren(full);
    try { document.execCommand("copy"); } catch { /* selected for copying by hand */ }
  }
  control.textContent = t("vote.receipt.copied");
}
