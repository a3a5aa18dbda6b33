/**
 * The chamber display (議場表示) at /display/<meeting id>: a monitor in the chamber, or with
 * `?overlay=1` the web stream's overlay (transparent around a lower band). No login, no controls.
 *
 * It follows the public gallery's feed (`/gallery/ws`, `watch` with `media: false`: the view and
 * its pushes, no picture or sound, no gallery seat): the current agenda item, who has the floor
 * and the speech's time left, and each ballot's result as it is announced (held on screen for
 * `?hold=` seconds, 30 by default, then back to the floor). The socket reconnects by itself.
 */
import { TABLES, t, translate, setLanguage, setPlenary } from "../i18n.js";
import galleryStrings from "../i18n/gallery.js";
import strings from "../i18n/display.js";
import { Socket } from "../socket.js";
import { byId as $ } from "../views/dom.js";

for (const table of [galleryStrings, strings]) {
  Object.assign(TABLES.ja, table.ja);
  Object.assign(TABLES.en, table.en);
}

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];
const PING_MS = 15000;
const WARNING_MS = 60000;

/**
 * @typedef {{name: string, role: string, kind?: string, started_at?: number, ends_at?: number,
 *   limit_seconds?: number}} Person
 * @typedef {{id: string, position: number, title: string, state: string, result: string}} Item
 * @typedef {{id: string, motion: string, kind: string, outcome: string, yes: number, no: number,
 *   abstain: number, decided_by_chair: boolean}} Result
 * @typedef {{meeting_id: string, title: string, body: string, plenary: boolean, state: string,
 *   agenda: Item[], current_item_id: string | null, speaker: Person | null, chair: Person | null,
 *   result: Result | null}} View
 */

/**
 * mm:ss (or h:mm:ss) of a span of milliseconds.
 * @param {number} ms
 * @returns {string}
 */
export function clockText(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

class DisplayPage {
  /**
   * @param {string} meetingId
   * @param {number} holdMs how long an announced result stays on screen
   */
  constructor(meetingId, holdMs) {
    this.meetingId = meetingId;
    this.holdMs = holdMs;
    /** @type {View | null} */
    this.view = null;
    /** @type {string | null | undefined} the latest result seen; undefined before the first view */
    this.seenResult = undefined;
    /** @type {Result | null} the result on screen now */
    this.announcing = null;
    /** @type {number | undefined} */
    this.holdTimer = undefined;
    /** Server clock minus this device's, ms (from a ping on every new socket). */
    this.clockOffset = 0;
    this.socket = new Socket({
      path: "/gallery/ws",
      greet: (socket) => socket.request("watch", { meeting_id: this.meetingId, media: false }),
      onReady: (data) => {
        this.status("");
        this.receive({ type: "gallery", view: data.view });
        this.syncClock();
      },
      onPush: (push) => this.receive(push),
      onStatus: (status) => {
        if (status === "connecting" || status === "reconnecting") this.status(`gallery.status.${status}`);
      },
      refusalIsFinal: (error) => error.code === "not_found",
      onFatal: () => this.notice(t("display.missing")),
      backoffMs: BACKOFF_MS,
      pingMs: PING_MS,
    });
    setInterval(() => this.renderClock(), 250);
  }

  async syncClock() {
    const sent = Date.now();
    try {
      /** @type {{now: number}} */
      const reply = await this.socket.request("ping");
      this.clockOffset = reply.now - (sent + Date.now()) / 2;
    } catch { /* the next socket tries again */ }
  }

  /** @param {import("../socket.js").Push} message */
  receive(message) {
    if (message.type !== "gallery") return;
    /** @type {View} */
    const view = message.view;
    const result = view.result;
    // A result published while this screen watches (or while it was reconnecting) is announced;
    // the one already there when the screen first loads is old news.
    if (result && this.seenResult !== undefined && result.id !== this.seenResult) this.announce(result);
    this.seenResult = result ? result.id : null;
    this.view = view;
    this.render();
  }

  /** @param {Result} result */
  announce(result) {
    this.announcing = result;
    clearTimeout(this.holdTimer);
    this.holdTimer = setTimeout(() => {
      this.announcing = null;
      this.render();
    }, this.holdMs);
  }

  /** @param {string} key */
  status(key) {
    const status = $("status");
    status.textContent = key ? t(key) : "";
    status.hidden = !key;
  }

  /** @param {string} text */
  notice(text) {
    $("notice-text").textContent = text;
    $("notice").hidden = !text;
  }

  /** @param {Person} person */
  person(person) {
    const plenary = this.view?.plenary && ["chair", "vice_chair", "member"].includes(person.role);
    return t("gallery.speaker.line", { name: person.name, role: t(`gallery.role.${person.role}${plenary ? "_plenary" : ""}`) });
  }

  render() {
    const view = this.view;
    if (!view) return;
    setPlenary(view.plenary);
    $("title").textContent = view.title;
    $("body-name").textContent = view.body;
    document.title = `${view.title} — ${t("display.page_title")}`;
    const state = $("state");
    state.textContent = t(`gallery.state.${view.state}`);
    state.dataset.state = view.state;
    const item = view.agenda.find((i) => i.id === view.current_item_id);
    $("item").textContent = item ? item.title : t("display.item.none");
    const showing = this.showing();
    document.body.dataset.showing = showing;
    this.notice(showing === "notice" ? t(`display.notice.${view.state}`) : "");
    $("floor").hidden = showing !== "floor";
    $("result").hidden = showing !== "result";
    if (showing === "result" && this.announcing) this.renderResult(this.announcing);
    const speaker = view.speaker;
    $("speaker").textContent = speaker ? this.person(speaker)
      : view.chair ? this.person(view.chair) : t("display.floor.none");
    $("kind").textContent = speaker ? t(`gallery.kind.${speaker.kind}`) : view.chair ? t("display.floor.chair") : "";
    this.renderClock();
  }

  /** @returns {"floor" | "result" | "notice"} */
  showing() {
    if (this.announcing) return "result";
    return this.view?.state === "open" ? "floor" : "notice";
  }

  renderClock() {
    const clock = $("clock");
    const speaker = this.view?.speaker;
    if (!speaker || speaker.ends_at === undefined) {
      clock.textContent = "";
      clock.dataset.state = "none";
      return;
    }
    // Never more than the limit: the clock's offset is an estimate within a few milliseconds.
    const limit = (speaker.limit_seconds ?? Infinity) * 1000;
    const left = Math.min(limit, speaker.ends_at - (Date.now() + this.clockOffset));
    clock.textContent = t(left >= 0 ? "display.clock.left" : "display.clock.over", { time: clockText(Math.abs(left)) });
    clock.dataset.state = left < 0 ? "over" : left <= WARNING_MS ? "warning" : "running";
  }

  /** @param {Result} r */
  renderResult(r) {
    $("motion").textContent = r.motion;
    $("counts").textContent = t(r.abstain ? "display.counts.abstain" : "display.counts", {
      yes: r.yes, no: r.no, abstain: r.abstain });
    const outcome = $("outcome");
    outcome.textContent = t(`gallery.result.${r.outcome}`);
    outcome.dataset.outcome = r.outcome;
    $("note").textContent = r.decided_by_chair ? t("display.by_chair") : "";
  }
}

const query = new URLSearchParams(location.search);
if (query.get("overlay") === "1") document.body.classList.add("overlay");
const lang = query.get("lang");
if (lang === "ja" || lang === "en") setLanguage(lang);
const hold = Number(query.get("hold"));
const meetingId = decodeURIComponent(location.pathname.replace(/\/+$/, "").split("/").pop() || "");
const page = new DisplayPage(meetingId, (hold >= 2 && hold <= 600 ? hold : 30) * 1000);
translate(document);
document.title = t("display.app");
/** @type {any} */ (window).gikaiDisplay = {
  get view() { return page.view; },
  get showing() { return page.view ? page.showing() : "none"; },
  get clockOffset() { return page.clockOffset; },
};
page.socket.start();
