/**
 * Ballots on the meeting page. A member's vote over the wire (docs/protocol.md, "Voting"):
 * `vote_options` for this ballot and choice (the server checks entitlement and presence
 * first), the passkey signs the challenge bound to them, then `vote` with the assertion; the
 * reply is the receipt, kept for this tab so a reload still shows it. The chair's `ballot`
 * actions. `Votes` ties both to the page's state.
 */
import { ProtocolError, ConnectionLost } from "./signaling.js";
import { requestOptions, credentialJSON, ceremonyProblem, passkeysAvailable } from "./webauthn.js";
import { ballotNews } from "./ballot.js";

/**
 * @typedef {import("./signaling.js").Signaling} Signaling
 * @typedef {import("./signaling.js").Receipt} Receipt
 * @typedef {import("./signaling.js").Ballot} Ballot
 * @typedef {import("./store.js").State} State
 * @typedef {import("./store.js").StoreEvent} StoreEvent
 * @typedef {import("./store.js").VoteStep} VoteStep
 * @typedef {{code: string, message?: {ja?: string, en?: string}}} VoteError
 * @typedef {object} VotesHost what the page lends: its state, its socket, its banner
 * @property {() => State} state
 * @property {(event: StoreEvent) => void} dispatch
 * @property {() => Signaling | null} signaling
 * @property {(error: unknown) => void} refused show a refused chair's action in the banner
 * @property {(before: Ballot | null, after: Ballot | null, news: string) => void} announced
 */

const RECEIPTS_KEY = "gikai.receipts";

/** A problem on this side of the wire: the passkey prompt, or the browser. */
export class VoteProblem extends Error {
  /** @param {"cancelled" | "unsupported" | "failed"} code */
  constructor(code) {
    super(code);
    this.name = "VoteProblem";
    this.code = code;
  }
}

/**
 * Ask, sign, send. Resolves with the receipt; rejects with a ProtocolError (the server's
 * refusal), a VoteProblem, or a lost connection.
 * @param {Signaling} signaling
 * @param {string} ballotId
 * @param {string} choice
 * @returns {Promise<Receipt>}
 */
export async function castVote(signaling, ballotId, choice) {
  const options = await signaling.request("vote_options", { ballot_id: ballotId, choice });
  if (!passkeysAvailable()) throw new VoteProblem("unsupported");
  /** @type {Credential | null} */
  let credential;
  try {
    credential = await navigator.credentials.get({ publicKey: requestOptions(options.publicKey) });
  } catch (error) {
    const problem = ceremonyProblem(error);
    throw new VoteProblem(problem === "cancelled" || problem === "unsupported" ? problem : "failed");
  }
  if (!credential) throw new VoteProblem("cancelled");
  const reply = await signaling.request("vote", {
    ballot_id: ballotId, choice, ceremony: options.ceremony,
    credential: credentialJSON(/** @type {PublicKeyCredential} */ (credential)),
  });
  remember(reply.receipt);
  return reply.receipt;
}

/**
 * What went wrong, as the vote panel shows it: the server's code and words, or ours.
 * @param {unknown} error
 * @returns {VoteError}
 */
export function voteError(error) {
  if (error instanceof ProtocolError) return { code: error.code, message: error.serverMessage };
  if (error instanceof VoteProblem) return { code: error.code };
  return { code: "connection_lost" }; // the socket went, or the answer did not come in time
}

/** @returns {Record<string, Receipt>} */
function receipts() {
  try {
    return JSON.parse(sessionStorage.getItem(RECEIPTS_KEY) || "{}") || {};
  } catch {
    return {};
  }
}

/**
 * @param {Receipt | undefined} receipt
 * @returns {void}
 */
function remember(receipt) {
  if (!receipt?.ballot_id) return;
  try {
    sessionStorage.setItem(RECEIPTS_KEY, JSON.stringify({ ...receipts(), [receipt.ballot_id]: receipt }));
  } catch { /* shown now, just not after a reload */ }
}

/**
 * The receipt this tab was given for a ballot, if any.
 * @param {string} ballotId
 * @returns {Receipt | null}
 */
export function savedReceipt(ballotId) {
  return receipts()[ballotId] || null;
}

/** The page's side of ballots: a newer view arrives, the chair acts, the member votes. */
export class Votes {
  /** @param {VotesHost} host */
  constructor(host) {
    this.host = host;
  }

  /**
   * A newer view of the ballot (a push, or the reply to the chair's action).
   * @param {Ballot} ballot
   * @returns {void}
   */
  apply(ballot) {
    const before = this.host.state().ballot;
    this.host.dispatch({ type: "ballot", ballot });
    const after = this.host.state().ballot;
    this.host.announced(before, after, ballotNews(before, after));
  }

  /**
   * The chair's ballot actions (open, close, decide_tie, publish); a refusal shows in the
   * banner like a refused command. The reply's view is applied at once; the push follows.
   * @param {string} action
   * @param {Record<string, any>} [fields]
   * @returns {Promise<boolean>}
   */
  async ballotAction(action, fields = {}) {
    const signaling = this.host.signaling();
    try {
      if (!signaling) throw new ConnectionLost();
      const data = await signaling.request("ballot", { ...fields, action });
      this.host.dispatch({ type: "command_ok" });
      if (data?.ballot) this.apply(data.ballot);
      return true;
    } catch (error) {
      this.host.refused(error);
      return false;
    }
  }

  /**
   * Move my vote to another step of the current ballot.
   * @param {VoteStep} step
   * @param {{choice?: string}} [fields]
   * @returns {void}
   */
  step(step, fields = {}) {
    const ballot = this.host.state().ballot;
    if (ballot) this.host.dispatch({ type: "vote", ballotId: ballot.id, step, ...fields });
  }

  /**
   * Confirmed: the passkey prompt, then the vote; the panel shows the receipt or the refusal.
   * @returns {Promise<void>}
   */
  async cast() {
    const { ballot, vote } = this.host.state();
    const signaling = this.host.signaling();
    if (!ballot || !vote?.choice || vote.step !== "confirm") return;
    const ballotId = ballot.id;
    this.host.dispatch({ type: "vote", ballotId, step: "signing" });
    try {
      if (!signaling) throw new ConnectionLost();
      const receipt = await castVote(signaling, ballotId, vote.choice);
      this.host.dispatch({ type: "vote", ballotId, step: "receipt", receipt });
    } catch (error) {
      this.host.dispatch({ type: "vote", ballotId, step: "refused", error: voteError(error) });
    }
  }

  /**
   * After a join: the receipt this tab was given, if the server says this member voted.
   * @returns {void}
   */
  restoreReceipt() {
    const { ballot, vote, self } = this.host.state();
    const receipt = ballot && !vote ? savedReceipt(ballot.id) : null;
    if (ballot && receipt && self && ballot.voted.includes(self.id)) {
      this.host.dispatch({ type: "vote", ballotId: ballot.id, step: "dismissed", receipt });
    }
  }
}
