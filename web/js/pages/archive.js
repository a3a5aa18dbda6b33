/**
 * `/archive`: find a past sitting by words in its title or agenda, the speaker, the body
 * or the date; each result is a large card that opens the sitting's page. The search is
 * kept in the address, so a reload or a shared link shows the same results.
 */
import { t, language } from "../i18n.js";
import { api } from "../api.js";
import { h, byId as $ } from "../views/dom.js";
import { eraDate, clockTime } from "../archive/format.js";
import { initPage, errorText, showProblem } from "./page.js";

/**
 * @typedef {{id: string, title: string, body: string, state: string, scheduled_at: string,
 *   place: string, agenda: string[]}} Found
 */

const FIELDS = /** @type {const} */ (["q", "speaker", "body", "date"]);
const AGENDA_SHOWN = 4;

const form = /** @type {HTMLFormElement} */ ($("search-form"));

/** @type {Found[] | null} null until the first answer */
let found = null;
/** @type {string[]} */
let bodies = [];
let searched = false;

/** @returns {URLSearchParams} the search as typed, without empty fields */
function query() {
  const data = new FormData(form);
  const params = new URLSearchParams();
  for (const name of FIELDS) {
    const value = String(data.get(name) || "").trim();
    if (value) params.set(name, value);
  }
  return params;
}

/** @param {URLSearchParams} params */
function fill(params) {
  for (const name of FIELDS) {
    const field = /** @type {HTMLInputElement | HTMLSelectElement} */ (form.elements.namedItem(name));
    field.value = params.get(name) || "";
  }
}

/** @param {URLSearchParams} params */
async function search(params) {
  showProblem($("list-problem"), "");
  $("sittings").setAttribute("aria-busy", "true");
  try {
    found = (await api("GET", `/api/archive?${params}`)).sittings;
    searched = [...params.keys()].length > 0;
  } catch (error) {
    showProblem($("list-problem"), errorText(error));
  }
  $("sittings").removeAttribute("aria-busy");
  render();
}

/** @param {Found} s @returns {HTMLElement} */
function card(s) {
  const lang = language();
  const when = new Date(s.scheduled_at);
  const agenda = s.agenda.slice(0, AGENDA_SHOWN);
  const more = s.agenda.length - agenda.length;
  return h("li", { class: "sitting-card", "data-testid": "archive-result", "data-meeting-id": s.id },
    h("p", { class: "sitting-when", "data-testid": "result-date" },
      h("span", { class: "date" }, eraDate(when, lang)),
      h("span", { class: "time" }, clockTime(when)),
      s.state !== "adjourned" ? h("span", { class: `chip state-${s.state}` }, t(`meeting_state.${s.state}`)) : null),
    h("p", { class: "sitting-body" }, s.body),
    h("h3", { class: "sitting-title" },
      h("a", { href: `/archive/${encodeURIComponent(s.id)}`, "data-testid": "result-link" }, s.title)),
    agenda.length ? h("ul", { class: "sitting-agenda", "aria-label": t("archive.agenda") },
      ...agenda.map((title) => h("li", {}, title)),
      more > 0 ? h("li", { class: "more" }, t("archive.agenda.more", { n: more })) : null) : null);
}

function render() {
  form.querySelector("input[name=q]")?.setAttribute("placeholder", t("archive.search.q.example"));
  const select = /** @type {HTMLSelectElement} */ (form.elements.namedItem("body"));
  const chosen = select.value || new URLSearchParams(location.search).get("body") || "";
  select.replaceChildren(new Option(t("archive.search.body.all"), ""),
    ...bodies.map((name) => new Option(name, name, false, name === chosen)));
  select.value = chosen;
  if (found === null) return;
  const heading = $("results-heading");
  heading.textContent = found.length
    ? t(searched ? "archive.results.found" : "archive.results.all", { n: found.length })
    : t(searched ? "archive.results.none" : "archive.results.empty");
  $("sittings").replaceChildren(...found.map(card));
}

async function start() {
  initPage(render);
  const params = new URLSearchParams(location.search);
  fill(params);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const next = query();
    history.replaceState(null, "", next.toString() ? `?${next}` : location.pathname);
    await search(next);
    $("results-heading").focus();
  });
  $("search-clear").addEventListener("click", async () => {
    form.reset();
    history.replaceState(null, "", location.pathname);
    await search(new URLSearchParams());
  });
  try {
    const all = /** @type {Found[]} */ ((await api("GET", "/api/archive")).sittings);
    bodies = [...new Set(all.map((s) => s.body))].sort((a, b) => a.localeCompare(b, "ja"));
    if ([...params.keys()].length === 0) {
      found = all;
      render();
      return;
    }
  } catch (error) {
    showProblem($("list-problem"), errorText(error));
  }
  render();
  await search(params);
}

start();
