/**
 * What the sitting panel reads out (through its polite live region) when something happens:
 * the words for a `sitting` push's events and for a change of the ballot. Pure: state in,
 * text out; the panel shows the same things visibly.
 */
import { t } from "../i18n.js";
import { voteStatus, ballotNews } from "../ballot.js";
import { isPresiding, person, selfId } from "../sitting.js";

/**
 * @typedef {import("../store.js").State} State
 * @typedef {import("../signaling.js").Ballot} Ballot
 * @typedef {{name: string, at: number, actor_id: string|null, agenda_item_id: string|null,
 *   data: Record<string, any>}} SittingEvent
 */

/**
 * The sentences for these events, as this screen should hear them ("" when none concerns it).
 * @param {State} state
 * @param {SittingEvent[]} events
 * @returns {string}
 */
export function sittingNews(state, events) {
  const me = selfId(state);
  const name = (/** @type {string} */ id) => person(state, id).name;
  const lines = [];
  for (const e of events) {
    switch (e.name) {
      case "meeting_opened": case "meeting_recessed": case "meeting_resumed": case "meeting_adjourned":
        lines.push(t(`announce.${e.name}`));
        break;
      case "item_taken_up":
        lines.push(t("announce.item_taken_up", { title: e.data.title || "" }));
        break;
      case "item_decided":
        lines.push(t("announce.item_decided", { result: e.data.result || "" }));
        break;
      case "floor_granted":
        lines.push(e.data.holder_id === me ? t("announce.your_turn") : t("announce.floor_granted", { name: name(e.data.holder_id) }));
        break;
      case "speech_ended":
        lines.push(t("announce.speech_ended", { name: name(e.data.holder_id) }));
        break;
      case "floor_requested":
        if (isPresiding(state)) lines.push(t("announce.floor_requested", { name: name(e.actor_id || "") }));
        break;
      case "floor_denied":
        if (e.data.participant_id === me) lines.push(t("announce.denied"));
        break;
      case "participant_muted": case "participant_unmuted":
        if (e.data.participant_id === me) lines.push(t(`announce.${e.name}`));
        break;
      case "audio_mode_changed":
        lines.push(t(`announce.audio.${e.data.mode}`));
        break;
      default:
        break;
    }
  }
  return lines.join(" ");
}

/**
 * The sentence for what just happened to the ballot (opened, closed, decided, announced), or "".
 * @param {State} state
 * @param {Ballot | null} before
 * @param {Ballot | null} after
 * @returns {string}
 */
export function ballotNewsText(state, before, after) {
  const news = ballotNews(before, after);
  if (!news || !after) return "";
  const chair = t("role.chair");
  const mine = news === "opened" && voteStatus(after, selfId(state)) === "can_vote";
  return t(mine ? "ballot_news.opened_you" : `ballot_news.${news}`, {
    motion: after.motion, chair, outcome: after.tally ? t(`outcome.${after.tally.outcome}`) : "",
  });
}
