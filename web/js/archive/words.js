/**
 * What was said (会議録の本文), beside the player: every speech with its sentences. Pressing a
 * sentence plays the recording from there; a search box finds words spoken in this sitting and
 * jumps there. The clerk corrects a sentence (every correction is kept), sees which sentences
 * are still the automatic draft (「自動」), and finalises the texts (確定): their hash goes on
 * the signed record, and from then on the texts are read-only.
 */
import { t } from "../i18n.js";
import { api } from "../api.js";
import { h, button, confirmDialog } from "../views/dom.js";
import { at, clockTime } from "./format.js";
import { errorText, showProblem, announce } from "../pages/page.js";

/**
 * @typedef {{index: number, start: number, end: number, text: string, corrected: boolean}} SpokenSentence
 * @typedef {{index: number, speaker_id: string, speaker: string, kind: string, start: number, end: number,
 *   model: string | null, sentences: SpokenSentence[]}} SpokenSpeech
 * @typedef {{sha256: string, at?: string} | null} Finalised
 * @typedef {{meeting_id: string, speech_index: number, sentence_index: number, speaker: string, start: number,
 *   text: string}} Found
 * @typedef {{state: "off" | "none" | "waiting" | "running" | "done" | "failed", drafted: number,
 *   error: string | null, seconds: number}} DraftJob the automatic draft from the recordings
 */

const DRAFT_POLL_MS = 3000; // while the recogniser drafts, the panel asks again this often

export class WordsPanel {
  /**
   * @param {HTMLElement} root
   * @param {string} meetingId
   * @param {string} sittingStart ISO time of the opening (the sentences' times count from it)
   * @param {(t: number) => void} seek play the recording from this second
   */
  constructor(root, meetingId, sittingStart, seek) {
    this.root = root;
    this.base = `/api/archive/${encodeURIComponent(meetingId)}`;
    this.meetingId = meetingId;
    this.sittingStart = sittingStart;
    this.seek = seek;
    /** @type {SpokenSpeech[]} */
    this.speeches = [];
    /** @type {Finalised} */
    this.finalised = null;
    /** @type {string} the clerk's CSRF token; empty for everyone else */
    this.csrf = "";
    /** @type {string} "speech:sentence" being corrected */
    this.editing = "";
    /** @type {Found[] | null} */
    this.found = null;
    this.query = "";
    /** @type {DraftJob | null} */
    this.draft = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.polling = null;
  }

  async load() {
    const [got, draft] = await Promise.all([api("GET", `${this.base}/speeches`), api("GET", `${this.base}/draft`)]);
    this.speeches = got.speeches;
    this.finalised = got.finalised;
    this.draft = draft.draft;
    this.render();
    this.pollWhileDrafting();
  }

  /** While the draft is being made, look again now and then; reload the texts when it is done. */
  pollWhileDrafting() {
    if (this.polling || !this.draft || !["waiting", "running"].includes(this.draft.state)) return;
    this.polling = setTimeout(async () => {
      this.polling = null;
      try {
        this.draft = (await api("GET", `${this.base}/draft`)).draft;
      } catch { /* the next look tries again */ }
      if (this.draft && ["waiting", "running"].includes(this.draft.state)) this.pollWhileDrafting();
      else await this.load();
    }, DRAFT_POLL_MS);
  }

  /** @param {HTMLElement} problem */
  async redraft(problem) {
    try {
      this.draft = (await api("POST", `${this.base}/draft`, { csrf: this.csrf })).draft;
      this.render();
      this.pollWhileDrafting();
    } catch (error) {
      showProblem(problem, errorText(error));
    }
  }

  /** @param {string} csrf */
  setClerk(csrf) {
    this.csrf = csrf;
    this.render();
  }

  render() {
    const problem = h("p", { class: "problem", role: "alert", hidden: true, "data-testid": "words-problem" });
    const drafted = this.speeches.some((s) => s.sentences.length);
    this.root.replaceChildren(
      this.searchBox(),
      this.statusLine(drafted, problem),
      problem,
      drafted ? h("ol", { class: "words-list", "data-testid": "words-list" },
        ...this.speeches.filter((s) => s.sentences.length).map((s) => this.speech(s)))
        : h("p", { class: "hint" }, t("words.none")));
  }

  /**
   * @param {boolean} drafted
   * @param {HTMLElement} problem
   * @returns {HTMLElement}
   */
  statusLine(drafted, problem) {
    if (this.finalised) {
      return h("div", { class: "words-final", "data-testid": "words-final" },
        h("p", {}, h("strong", {}, t("words.final")), " ", t("words.final.note")),
        h("code", { class: "chain-head", "data-testid": "words-hash" }, this.finalised.sha256));
    }
    /** @type {(Node | null)[]} */
    const parts = [h("p", { class: "hint" }, t(this.csrf ? "words.draft.clerk" : "words.draft"))];
    const job = this.draft;
    if (job && job.state !== "none" && job.state !== "done") {
      parts.push(h("p", { class: job.state === "failed" ? "problem" : "hint", role: "status",
        "data-testid": "words-draft-state" }, t(`words.job.${job.state}`, { error: job.error ?? "" })));
    }
    if (this.csrf && drafted) {
      parts.push(button(t("words.finalise"), "words-finalise", () => this.finalise(problem), { kind: "primary" }));
    }
    if (this.csrf && job && job.state !== "off" && job.state !== "waiting" && job.state !== "running") {
      parts.push(button(t("words.redraft"), "words-redraft", () => this.redraft(problem), { kind: "secondary" }));
    }
    return h("div", { class: "words-status" }, ...parts);
  }

  /** @returns {HTMLElement} */
  searchBox() {
    const input = /** @type {HTMLInputElement} */ (h("input", {
      class: "text-input", type: "search", name: "q", maxlength: 200, value: this.query,
      "data-testid": "words-search-input", "aria-label": t("words.search.label"),
    }));
    const form = h("form", { class: "inline-form words-search", role: "search", "data-testid": "words-search" },
      input, h("button", { type: "submit", class: "btn secondary" }, t("words.search.button")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      this.query = input.value.trim();
      if (!this.query) {
        this.found = null;
        this.render();
        return;
      }
      try {
        const got = await api("GET", `/api/archive/search?q=${encodeURIComponent(this.query)}`);
        this.found = /** @type {Found[]} */ (got.results).filter((r) => r.meeting_id === this.meetingId);
      } catch (error) {
        this.found = [];
        announce(errorText(error));
      }
      this.render();
      if (this.found?.length) this.seek(this.found[0].start);
      announce(t("words.search.count", { n: this.found?.length ?? 0 }));
    });
    if (this.found === null) return form;
    const results = this.found.length
      ? h("ul", { class: "words-found", "data-testid": "words-found" }, ...this.found.map((r) => h("li", {},
        h("button", { type: "button", class: "sentence-button", "data-testid": "words-found-item",
          onclick: () => this.seek(r.start) },
        h("span", { class: "sentence-time" }, this.clock(r.start)), " ", h("strong", {}, r.speaker), " ", r.text))))
      : h("p", { class: "hint", "data-testid": "words-found-none" }, t("words.search.none"));
    return h("div", {}, form, results);
  }

  /** @param {number} seconds @returns {string} */
  clock(seconds) {
    return clockTime(at(this.sittingStart, seconds), true);
  }

  /**
   * @param {SpokenSpeech} s
   * @returns {HTMLElement}
   */
  speech(s) {
    return h("li", { class: "words-speech", "data-testid": "words-speech", "data-speech": String(s.index) },
      h("h3", {}, h("span", { class: "speech-who" }, s.speaker), " ",
        h("span", { class: "chip kind" }, t(`speech.${s.kind}`)), " ",
        h("span", { class: "sentence-time" }, this.clock(s.start))),
      h("ol", { class: "sentences" }, ...s.sentences.map((x) => this.sentence(s, x))));
  }

  /**
   * @param {SpokenSpeech} s
   * @param {SpokenSentence} x
   * @returns {HTMLElement}
   */
  sentence(s, x) {
    const key = `${s.index}:${x.index}`;
    const auto = !x.corrected && !this.finalised
      ? h("span", { class: "chip warn", "data-testid": "auto-mark", title: t("words.auto.title") }, t("words.auto"))
      : null;
    if (this.editing === key) return this.editor(s, x);
    return h("li", { class: "sentence", "data-testid": "sentence" },
      h("button", { type: "button", class: "sentence-button", "data-testid": "sentence-play",
        "aria-label": t("words.play", { clock: this.clock(x.start), text: x.text }), onclick: () => this.seek(x.start) },
      h("span", { class: "sentence-time" }, this.clock(x.start)), " ", h("span", { class: "sentence-text" }, x.text)),
      auto,
      this.csrf && !this.finalised ? button(t("words.edit"), "sentence-edit", () => {
        this.editing = key;
        this.render();
        /** @type {HTMLTextAreaElement | null} */ (this.root.querySelector("textarea"))?.focus();
      }) : null);
  }

  /**
   * @param {SpokenSpeech} s
   * @param {SpokenSentence} x
   * @returns {HTMLElement}
   */
  editor(s, x) {
    const text = /** @type {HTMLTextAreaElement} */ (h("textarea", {
      class: "text-input", rows: 3, maxlength: 2000, "data-testid": "sentence-input", "aria-label": t("words.edit.label"),
    }));
    text.value = x.text;
    const problem = h("p", { class: "problem", role: "alert", hidden: true });
    const save = async () => {
      try {
        const got = await api("PUT", `${this.base}/speeches/${s.index}/sentences/${x.index}`,
          { body: { text: text.value }, csrf: this.csrf });
        s.sentences = got.sentences;
        this.editing = "";
        this.render();
        announce(t("words.saved"));
      } catch (error) {
        showProblem(problem, errorText(error));
      }
    };
    return h("li", { class: "sentence editing", "data-testid": "sentence" },
      h("span", { class: "sentence-time" }, this.clock(x.start)), text, problem,
      h("div", { class: "button-row" },
        button(t("words.save"), "sentence-save", save, { kind: "primary" }),
        button(t("words.cancel"), "sentence-cancel", () => {
          this.editing = "";
          this.render();
        })));
  }

  /** @param {HTMLElement} problem */
  async finalise(problem) {
    const ok = await confirmDialog(() => ({
      title: t("words.finalise.title"), text: t("words.finalise.text"), confirm: t("words.finalise"),
    }));
    if (ok === null) return;
    try {
      await api("POST", `${this.base}/minutes/finalise`, { csrf: this.csrf });
      await this.load();
      announce(t("words.final"));
      document.dispatchEvent(new CustomEvent("gikai:minutes-finalised")); // the signatures panel opens

    } catch (error) {
      showProblem(problem, errorText(error));
    }
  }
}
