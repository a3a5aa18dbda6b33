/**
 * `/archive/{meeting id}`: one past sitting. The player (archive/player.js) shows whoever held
 * the floor, the timeline picture seeks it, the speeches are a list of buttons that seek it;
 * what was said, sentence by sentence, seeks it too (archive/words.js, the clerk's editor);
 * then the minutes in both languages, how to export and check the signed record, and the
 * publishable video (archive/render.js).
 */
import { t, language } from "../i18n.js";
import { api, whoAmI } from "../api.js";
import { h, byId as $ } from "../views/dom.js";
import { at, clockTime, eraDate, lengthText } from "../archive/format.js";
import { Player } from "../archive/player.js";
import { Controls } from "../archive/controls.js";
import { Timeline } from "../archive/timeline.js";
import { RenderPanel } from "../archive/render.js";
import { WordsPanel } from "../archive/words.js";
import { SignaturesPanel } from "../archive/signatures.js";
import { drawVotes } from "../archive/votes.js";
import { itemAt, recessAt } from "../archive/programme.js";
import { initPage, errorText, showProblem } from "./page.js";

/** @typedef {import("../archive/programme.js").Sitting} Sitting */
/** @typedef {import("../archive/player.js").Moment} Moment */

const LOADING_SHOWN_AFTER_MS = 400;

const meetingId = decodeURIComponent(location.pathname.split("/")[2] || "");
const base = `/api/archive/${encodeURIComponent(meetingId)}`;

/** @type {Sitting} */
let sitting;
/** @type {Player} */
let player;
/** @type {Controls} */
let controls;
/** @type {Timeline} */
let timeline;
/** @type {RenderPanel} */
let renderPanel;
/** @type {WordsPanel} */
let words;
/** @type {SignaturesPanel} */
let signatures;
/** @type {Moment | null} */
let last = null;
let shownKey = "";
let loadingSince = 0;

/**
 * Seek from the timeline or the list of speeches, and bring the picture into view: the
 * point of pressing there is to watch.
 * @param {number} t
 * @param {boolean} [play]
 */
function watch(t, play = false) {
  player.seek(t);
  if (play) player.play();
  const stage = $("stage");
  const box = stage.getBoundingClientRect();
  if (box.top < 0 || box.bottom > innerHeight) {
    const smooth = !matchMedia("(prefers-reduced-motion: reduce)").matches;
    stage.scrollIntoView({ block: "nearest", behavior: smooth ? "smooth" : "auto" });
  }
}

/** @param {string} id @returns {string} */
function nameOf(id) {
  const p = sitting.people.find((x) => x.id === id);
  return p ? t("archive.who", { name: p.name, role: t(`role.${p.role}`) }) : "";
}

/** @param {string} path @returns {string} */
function segmentUrl(path) {
  return `${base}/recordings/${path.split("/").map(encodeURIComponent).join("/")}`;
}

/** @param {Moment} m */
function onTick(m) {
  last = m;
  controls?.update(m);
  timeline?.show(m.t);
  if (m.picture === "loading") loadingSince ||= performance.now();
  else loadingSince = 0;
  const slow = m.picture === "loading" && performance.now() - loadingSince > LOADING_SHOWN_AFTER_MS;
  const speech = m.floor.speech;
  const key = [language(), m.picture === "loading" ? (slow ? "slow" : "playing") : m.picture, m.shown, m.floor.why,
    speech?.start, itemAt(sitting, m.t)?.id, player?.chosen].join("|");
  if (key === shownKey) return;
  shownKey = key;
  drawStage(m, slow);
  drawNow(m);
  for (const el of $("speeches").querySelectorAll("button")) {
    const current = speech !== null && Number(/** @type {HTMLElement} */ (el).dataset.start) === speech.start;
    if (current) el.setAttribute("aria-current", "true");
    else el.removeAttribute("aria-current");
  }
}

/**
 * @param {Moment} m
 * @param {boolean} slow
 */
function drawStage(m, slow) {
  const box = $("stage-message");
  /** @type {(Node | string)[]} */
  let parts = [];
  if (m.picture === "recess") {
    const recess = recessAt(sitting, m.t);
    parts = [h("strong", { class: "big-word" }, t("archive.stage.recess"))];
    if (recess) {
      parts.push(h("span", {}, t("archive.stage.recess_span", {
        from: clockTime(at(sitting.start, recess[0])), to: clockTime(at(sitting.start, recess[1])),
      })), h("button", {
        type: "button", class: "btn primary", "data-testid": "skip-recess", onclick: () => player.seek(recess[1]),
      }, t("archive.stage.skip_recess")));
    }
  } else if (m.picture === "no_recording") {
    const recorded = sitting.tracks.some((tr) => tr.segments.length);
    parts = [h("strong", {}, t(recorded ? "archive.stage.no_recording" : "archive.stage.not_recorded"))];
    if (m.shown) parts.push(h("span", {}, nameOf(m.shown)));
  } else if (m.picture === "failed") {
    parts = [h("strong", {}, t("archive.stage.failed"))];
  } else if (slow) {
    parts = [h("span", {}, t("archive.stage.loading"))];
  }
  box.replaceChildren(...parts);
  box.hidden = parts.length === 0;
  box.dataset.state = m.picture;
}

/** @param {Moment} m */
function drawNow(m) {
  /** @type {Node[]} */
  const lines = [];
  const floor = m.floor;
  const floorText = floor.why === "recess" ? t("archive.now.recess")
    : floor.why === "speech" && floor.speech
      ? t("archive.now.speech", { who: nameOf(floor.speech.holder_id), kind: t(`speech.${floor.speech.kind}`) })
      : floor.who ? t("archive.now.chair", { who: nameOf(floor.who) }) : t("archive.now.nobody");
  if (player.chosen) {
    lines.push(h("p", { class: "now-who", "data-testid": "now-shown" }, t("archive.now.shown", { who: nameOf(player.chosen) })));
    lines.push(h("p", { class: "now-floor" }, floorText));
  } else {
    lines.push(h("p", { class: "now-who", "data-testid": "now-shown" }, floorText));
  }
  const item = itemAt(sitting, m.t);
  if (item) lines.push(h("p", { class: "now-item" }, t("archive.now.item", { title: item.title })));
  $("now").replaceChildren(...lines);
}

function drawFacts() {
  const start = new Date(sitting.start);
  const end = at(sitting.start, sitting.duration);
  const title = sitting.title;
  $("sitting-title").textContent = title;
  document.title = `${title} — ${t("archive.title")}`;
  $("sitting-facts").replaceChildren(
    h("span", { class: "chip kind" }, sitting.body),
    h("span", { "data-testid": "sitting-date" }, eraDate(start, language())),
    h("span", {}, t("archive.facts.span", { from: clockTime(start), to: clockTime(end), length: lengthText(sitting.duration) })),
    sitting.place ? h("span", {}, sitting.place) : "");
}

function drawSpeeches() {
  const items = new Map(sitting.items.map((i) => [i.id, i.title]));
  const list = $("speeches");
  if (!sitting.speeches.length) {
    list.replaceChildren(h("li", { class: "hint" }, t("archive.speeches.none")));
    return;
  }
  list.replaceChildren(...sitting.speeches.map((sp, n) => h("li", {},
    h("button", {
      type: "button", class: "speech-button", "data-testid": "speech-button", "data-participant-id": sp.holder_id,
      "data-start": String(sp.start), "data-key": `speech-${n}`,
      onclick: () => watch(sp.start, true),
    },
    h("span", { class: "speech-who" }, nameOf(sp.holder_id)),
    h("span", { class: "speech-meta" },
      h("span", { class: "chip kind" }, t(`speech.${sp.kind}`)),
      h("span", {}, t("archive.speech.when", {
        clock: clockTime(at(sitting.start, sp.start), true), length: lengthText(sp.end - sp.start),
      }))),
    sp.agenda_item_id && items.get(sp.agenda_item_id)
      ? h("span", { class: "speech-item" }, items.get(sp.agenda_item_id) || "") : null))));
  shownKey = "";
}

function drawMinutes() {
  const link = (/** @type {string} */ fmt, /** @type {string} */ lang) => h("a", {
    class: "btn secondary", href: `${base}/minutes.${fmt}?lang=${lang}`, "data-testid": `minutes-${fmt}-${lang}`,
    hreflang: lang, download: fmt === "pdf" ? "" : null,
  }, t(`archive.minutes.${fmt}`));
  $("minutes").replaceChildren(...["ja", "en"].map((lang) => h("div", { class: "minutes-row" },
    h("p", { class: "minutes-lang" }, t(`archive.minutes.in_${lang}`)),
    h("div", { class: "button-row" }, ...["html", "pdf", "json"].map((fmt) => link(fmt, lang))))));
  $("record-note").replaceChildren(
    h("p", {}, t("archive.record.note")),
    h("pre", { class: "commands" },
      `gikai record export ${sitting.id} --out record.json\ngikai verify record.json\n`
      + `gikai archive export ${sitting.id} --out ${t("archive.record.folder")}`),
    h("p", { class: "hint" }, t("archive.record.head"), " ",
      h("code", { class: "chain-head", "data-testid": "chain-head" }, sitting.chain_head)));
  drawVotes($("votes"), base, sitting.ballots);
}

async function loadTimeline() {
  try {
    await timeline.load(`${base}/timeline.svg?lang=${language()}`);
    if (last) timeline.show(last.t);
  } catch {
    $("timeline").replaceChildren(h("p", { class: "problem" }, t("archive.timeline.failed")));
  }
}

function rerender() {
  if (!sitting) return;
  drawFacts();
  controls.build();
  drawSpeeches();
  drawMinutes();
  renderPanel.render();
  words.render();
  signatures.render();
  loadTimeline();
  if (last) onTick(last);
}

async function start() {
  initPage(rerender);
  let found;
  try {
    found = await api("GET", base);
  } catch (error) {
    showProblem($("sitting-problem"), errorText(error));
    return;
  }
  sitting = found.sitting;
  for (const id of ["player-card", "words-card", "timeline-card", "minutes-card", "votes-card", "video-card"]) $(id).hidden = false;
  player = new Player(sitting, $("stage"), segmentUrl, onTick);
  controls = new Controls($("controls"), sitting, player);
  timeline = new Timeline($("timeline"), sitting, (t) => watch(t));
  renderPanel = new RenderPanel($("render"), sitting.id, found.render);
  words = new WordsPanel($("words"), sitting.id, sitting.start, (t) => watch(t, true));
  signatures = new SignaturesPanel($("signatures"), sitting.id);
  document.addEventListener("gikai:minutes-finalised", () => signatures.load().catch(() => {}));
  document.addEventListener("gikai:record-grew", (event) => {
    const head = /** @type {CustomEvent} */ (event).detail;
    if (typeof head === "string" && head) {
      sitting.chain_head = head;
      drawMinutes();
    }
  });
  drawFacts();
  drawSpeeches();
  drawMinutes();
  player.tick();
  await loadTimeline();
  try {
    await words.load();
  } catch (error) {
    $("words").replaceChildren(h("p", { class: "problem" }, errorText(error)));
  }
  try {
    await signatures.load();
  } catch (error) {
    $("signatures").replaceChildren(h("p", { class: "problem" }, errorText(error)));
  }
  try {
    const me = await whoAmI();
    if (me?.account.kind === "clerk") {
      renderPanel.setClerk(me.csrf);
      words.setClerk(me.csrf);
    }
  } catch { /* not the clerk: watching is enough */ }
  /** @type {any} */ (window).gikaiArchive = { player, sitting }; // for tests and the curious
}

start();
