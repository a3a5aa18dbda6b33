/**
 * The caption screen at /captions/<meeting id>: whoever has the floor, as large text, for a monitor
 * in the chamber or for the sign-language interpreter. No login: it shows what the gallery hears.
 *
 * Server-sent events from /captions/<id>/events: `hello` (the sitting, whether captions are on, the
 * latest captions) then one `caption` event per utterance. EventSource reconnects by itself.
 */
import { TABLES, t, setLanguage, onLanguageChange, language } from "../i18n.js";
import strings from "../i18n/captions.js";
import { h, byId as $ } from "../views/dom.js";

Object.assign(TABLES.ja, strings.ja);
Object.assign(TABLES.en, strings.en);

const SHOWN = 4; // captions on screen: the newest at the bottom, large

/**
 * @typedef {{speaker_id: string, speaker: string, text: string, started_at: number, ended_at: number,
 *   automatic: boolean}} Caption
 * @typedef {{meeting_id: string, title: string, body: string, enabled: boolean, recent: Caption[]}} Hello
 */

/** @param {Caption} c */
function captionItem(c) {
  return h("li", { class: "caption-line", "data-testid": "caption-line" },
    h("span", { class: "caption-speaker", "data-testid": "caption-speaker" }, c.speaker),
    h("span", { class: "caption-text", "data-testid": "caption-text" }, c.text));
}

class CaptionScreen {
  /** @param {string} meetingId */
  constructor(meetingId) {
    this.meetingId = meetingId;
    /** @type {Caption[]} */
    this.captions = [];
    /** @type {"waiting" | "off" | "missing" | "reconnecting" | "showing"} */
    this.state = "waiting";
    this.title = "";
    onLanguageChange(() => this.render());
  }

  start() {
    const source = new EventSource(`/captions/${encodeURIComponent(this.meetingId)}/events`);
    source.addEventListener("hello", (e) => {
      /** @type {Hello} */
      const hello = JSON.parse(/** @type {MessageEvent} */ (e).data);
      $("title").textContent = hello.title;
      $("body-name").textContent = hello.body;
      this.title = hello.title;
      this.captions = hello.recent.slice(-SHOWN);
      this.state = hello.enabled ? (this.captions.length ? "showing" : "waiting") : "off";
      this.render();
    });
    source.addEventListener("caption", (e) => {
      /** @type {{caption: Caption}} */
      const message = JSON.parse(/** @type {MessageEvent} */ (e).data);
      this.captions = [...this.captions, message.caption].slice(-SHOWN);
      this.state = "showing";
      this.render();
    });
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        this.state = "missing"; // the server refused the stream (an unknown sitting)
      } else if (this.state !== "off") {
        this.state = "reconnecting";
      }
      this.render();
    };
  }

  render() {
    for (const button of document.querySelectorAll(".lang-button")) {
      button.setAttribute("aria-pressed", String(/** @type {HTMLElement} */ (button).dataset.lang === language()));
    }
    if (this.title) document.title = `${this.title} — ${t("captions.heading")}`;
    const status = $("captions-state");
    status.textContent = this.state === "showing" ? t("captions.auto") : t(`captions.${this.state}`);
    status.dataset.state = this.state;
    $("captions").replaceChildren(...this.captions.map(captionItem));
  }
}

const meetingId = decodeURIComponent(location.pathname.replace(/\/+$/, "").split("/").pop() || "");
for (const button of document.querySelectorAll(".lang-button")) {
  button.addEventListener("click", () => setLanguage(/** @type {any} */ (button).dataset.lang));
}
setLanguage(language());
const screen = new CaptionScreen(meetingId);
screen.render();
screen.start();
