/**
 * What a ballot view (docs/protocol.md, "The ballot view") means for this screen: may I
 * vote, why not, who voted what once it is published, what just changed. Pure functions of
 * the state; no DOM.
 */
import { isMemberRole, inSeatOrder, selfId } from "./sitting.js";

/**
 * @typedef {import("./store.js").State} State
 * @typedef {import("./signaling.js").Ballot} Ballot
 * @typedef {import("./signaling.js").Person} Person
 * @typedef {"none" | "can_vote" | "voted" | "not_entitled" | "closed" | "published"} VoteStatus
 */

/** Every choice in the order the buttons show them; abstaining only where allowed. */
export const CHOICES = ["yes", "no", "abstain"];
export const KINDS = ["named", "secret"];
export const MAJORITIES = ["simple", "two_thirds_present", "absolute"];
const STAGE = { open: 1, closed: 2, published: 3 };

/**
 * @param {Ballot} ballot
 * @returns {string[]}
 */
export function choicesOf(ballot) {
  return ballot.abstain_allowed ? CHOICES : CHOICES.slice(0, 2);
}

/**
 * The later of two views of ballots: a reply and a push can arrive in either order, and an
 * older view must not undo a newer one (fewer voters, a tie no longer decided).
 * @param {Ballot | null} current
 * @param {Ballot | null | undefined} incoming
 * @returns {Ballot | null}
 */
export function newerBallot(current, incoming) {
  if (!incoming) return current;
  if (!current) return incoming;
  if (current.id !== incoming.id) return (incoming.opened_at ?? 0) >= (current.opened_at ?? 0) ? incoming : current;
  const before = STAGE[/** @type {keyof typeof STAGE} */ (current.state)] || 0;
  const after = STAGE[/** @type {keyof typeof STAGE} */ (incoming.state)] || 0;
  if (after !== before) return after > before ? incoming : current;
  if (incoming.voted.length !== current.voted.length) {
    return incoming.voted.length > current.voted.length ? incoming : current;
  }
  if (current.tally?.decided_by_chair && !incoming.tally?.decided_by_chair) return current;
  if (current.tally && !incoming.tally) return current;
  return incoming;
}

/**
 * Where this screen stands in the sitting's latest ballot.
 * @param {Ballot | null} ballot
 * @param {string} me
 * @returns {VoteStatus}
 */
export function voteStatus(ballot, me) {
  if (!ballot) return "none";
  if (ballot.state === "closed" || ballot.state === "published") return ballot.state;
  if (ballot.voted.includes(me)) return "voted";
  return ballot.entitled.includes(me) ? "can_vote" : "not_entitled";
}

/**
 * Why this screen may not vote in an open ballot, as a `vote.why.*` suffix. The ballot view
 * says who is entitled, not why others are not, so this reads what the screen knows.
 * @param {State} state
 * @returns {"not_member" | "chair" | "not_counted"}
 */
export function notEntitledWhy(state) {
  const ballot = state.ballot;
  if (!isMemberRole(state.self?.role)) return "not_member";
  if (ballot?.majority === "simple" && state.sitting?.acting_chair_id === selfId(state)) return "chair";
  return "not_counted";
}

/**
 * Whether the chair must break a tie before the result can be announced.
 * @param {Ballot | null} ballot
 * @returns {boolean}
 */
export function needsTieBreak(ballot) {
  return !!ballot && ballot.state === "closed" && ballot.tally?.outcome === "tied" && !ballot.tally.decided_by_chair;
}

/**
 * Cast and not cast, from a tally.
 * @param {NonNullable<Ballot["tally"]>} tally
 * @returns {{cast: number, notCast: number}}
 */
export function turnout(tally) {
  const cast = tally.yes + tally.no + tally.abstain;
  return { cast, notCast: Math.max(0, tally.entitled - cast) };
}

/**
 * A published named ballot's voters by choice, in seat order; "none" for the entitled who
 * did not vote.
 * @param {Ballot} ballot
 * @param {Person[]} people everyone in the sitting
 * @returns {Record<string, string[]>} choice → participant ids
 */
export function votersByChoice(ballot, people) {
  /** @type {Record<string, string[]>} */
  const groups = { yes: [], no: [], abstain: [], none: [] };
  const votes = ballot.votes || {};
  const known = new Set(people.map((p) => p.id));
  const ids = [...inSeatOrder(people).map((p) => p.id), ...ballot.entitled.filter((id) => !known.has(id))];
  for (const id of ids) {
    const choice = votes[id];
    if (choice && groups[choice]) groups[choice].push(id);
    else if (ballot.entitled.includes(id)) groups.none.push(id);
  }
  return groups;
}

/**
 * The receipt in a form a person can read out: "3f9a 1c2e 77b0".
 * @param {string} hash hex
 * @returns {string}
 */
export function shortHash(hash) {
  return groups(hash.slice(0, 12), 4);
}

/**
 * Hex in groups, for reading a full hash aloud or comparing it by eye.
 * @param {string} hash
 * @param {number} size
 * @returns {string}
 */
export function groups(hash, size) {
  return (hash.match(new RegExp(`.{1,${size}}`, "g")) || []).join(" ");
}

/**
 * What changed between two views, for the live region: a `ballot_news.*` key, or "".
 * @param {Ballot | null} before
 * @param {Ballot | null} after
 * @returns {"" | "opened" | "closed" | "decided" | "published"}
 */
export function ballotNews(before, after) {
  if (!after) return "";
  if (!before || before.id !== after.id) return after.state === "open" ? "opened" : "";
  if (before.state !== after.state) {
    return after.state === "closed" ? "closed" : after.state === "published" ? "published" : "";
  }
  if (!before.tally?.decided_by_chair && after.tally?.decided_by_chair) return "decided";
  return "";
}
