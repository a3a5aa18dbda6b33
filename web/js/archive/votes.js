/**
 * 議員別賛否 on a sitting's archive page: how each member voted, for the whole sitting and
 * ballot by ballot, as CSV (UTF-8 for Excel, or Shift_JIS for older software) and as PDF.
 * The files come from /api/archive/<id>/votes.{csv,pdf}; this only draws the links.
 */
import { t } from "../i18n.js";
import { h } from "../views/dom.js";

/**
 * @typedef {{id: string, motion: string, kind: string, outcome: string | null}} BallotSummary
 */

/**
 * The three downloads for the sitting, or for one ballot.
 * @param {string} base the sitting's API path, /api/archive/<id>
 * @param {string} suffix "" for the whole sitting, or "-<n>" naming one ballot's test ids
 * @param {string} query "" or "ballot=<id>"
 * @returns {HTMLElement}
 */
function downloads(base, suffix, query) {
  const link = (/** @type {string} */ file, /** @type {string} */ extra, /** @type {string} */ key) => {
    const params = [query, extra].filter(Boolean).join("&");
    return h("a", {
      class: "btn secondary", href: `${base}/${file}${params ? `?${params}` : ""}`, download: "",
      "data-testid": `votes-${key}${suffix}`,
    }, t(`archive.votes.${key}`));
  };
  return h("div", { class: "button-row" },
    link("votes.csv", "", "csv"), link("votes.csv", "encoding=shift_jis", "sjis"), link("votes.pdf", "", "pdf"));
}

/**
 * @param {HTMLElement} box
 * @param {string} base
 * @param {BallotSummary[]} ballots
 */
export function drawVotes(box, base, ballots) {
  if (!ballots.length) {
    box.replaceChildren(h("p", { class: "hint", "data-testid": "votes-none" }, t("archive.votes.none")));
    return;
  }
  box.replaceChildren(
    h("p", { class: "hint" }, t("archive.votes.hint")),
    h("div", { class: "minutes-row" }, h("p", { class: "minutes-lang" }, t("archive.votes.all")),
      downloads(base, "", "")),
    h("ol", { class: "votes-ballots" }, ...ballots.map((b, n) => h("li", { class: "minutes-row" },
      h("p", { class: "minutes-lang" }, b.motion, " ",
        h("span", { class: "chip" }, t(b.kind === "secret" ? "archive.votes.secret" : "archive.votes.named")),
        b.outcome ? h("span", { class: "chip" }, t(`outcome.${b.outcome}`)) : null),
      downloads(base, `-${n + 1}`, `ballot=${encodeURIComponent(b.id)}`)))));
}
