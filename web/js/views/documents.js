/**
 * Documents (資料) in the meeting screen: the agenda item's documents with thumbnails, one
 * document open at a time (page image as large as the space allows, previous/next, thumbnails,
 * search), and presenting: while someone presents, every viewer follows the presenter's page
 * unless they chose to read on their own; the presenter turns pages and taps to point.
 * DOM and the documents HTTP API only; presenting goes through `callbacks.present`.
 */
import { t, pick } from "../i18n.js";
import { h } from "./dom.js";
import { documentListing } from "./doclist.js";
import { PaperZoom } from "./paperzoom.js";

/**
 * @typedef {import("../store.js").State} State
 * @typedef {{document_id: string, title: string, page: number, pages: number, presenter_id: string,
 *   pointer: {x: number, y: number} | null}} Presentation
 * @typedef {{id: string, agenda_item_id: string, title: string, pages: number}} Doc
 * @typedef {object} DocumentsCallbacks
 * @property {(action: string, fields?: Record<string, any>) => Promise<any>} present
 * @property {() => string} token the rehearsal join token ("" for a logged-in member)
 */

/** Page images come in steps of this many pixels, so that the cache is shared. */
const WIDTH_STEP = 200;

export class DocumentsView {
  /**
   * @param {HTMLElement} screen the meeting screen: the panel and its button are added to it
   * @param {DocumentsCallbacks} callbacks
   */
  constructor(screen, callbacks) {
    this.callbacks = callbacks;
    this.panel = h("section", { class: "docs-panel", "data-testid": "docs-panel", "aria-labelledby": "docs-heading" });
    this.panel.hidden = true;
    screen.insertBefore(this.panel, screen.querySelector(".controls"));
    this.toggleButton = h("button", {
      type: "button", class: "big toggle docs-toggle", "data-testid": "docs-toggle", "aria-expanded": "false" });
    screen.querySelector(".controls")?.prepend(this.toggleButton);
    this.toggleButton.addEventListener("click", () => this.setOpen(this.panel.hidden));
    /** @type {Doc[]} */
    this.docs = [];
    /** @type {Doc | null} */
    this.doc = null;
    this.page = 1;
    this.following = true;
    /** @type {Presentation | null} */
    this.presentation = null;
    /** @type {State | null} */
    this.state = null;
    /** @type {string} */
    this.query = "";
    /** @type {import("./doclist.js").SearchResult[] | null} */
    this.results = null;
    this.drawn = "";
    /** @type {HTMLImageElement | null} */
    this.img = null;
    /** how large the page is shown; kept over page turns */
    this.zoomer = new PaperZoom(() => this.img, () => this.sizeImage());
    new ResizeObserver(() => this.sizeImage()).observe(this.panel);
  }

  /** @param {string} path @returns {string} */
  url(path) {
    const token = this.callbacks.token();
    return token ? `${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}` : path;
  }

  /** @param {string} path @returns {Promise<any>} */
  async get(path) {
    const response = await fetch(this.url(path), { credentials: "same-origin" });
    if (!response.ok) throw new Error(`${response.status}`);
    return response.json();
  }

  /** @param {boolean} open */
  async setOpen(open) {
    this.panel.hidden = !open;
    this.toggleButton.setAttribute("aria-expanded", String(open));
    if (open) await this.load();
    this.draw();
  }

  /** Fetch the sitting's documents (all items; the current item's come first). */
  async load() {
    const meetingId = this.state?.meeting?.id;
    if (!meetingId) return;
    try {
      this.docs = (await this.get(`/api/meetings/${encodeURIComponent(meetingId)}/documents`)).documents;
    } catch {
      this.docs = [];
    }
  }

  /**
   * @param {State} state
   * @returns {void}
   */
  render(state) {
    this.state = state;
    const next = /** @type {Presentation | null} */ (/** @type {any} */ (state).presentation ?? null);
    const before = this.presentation;
    this.presentation = next;
    if (next && (!before || before.document_id !== next.document_id || before.presenter_id !== next.presenter_id)) {
      this.following = true; // a new presentation: everyone is shown it
      if (this.panel.hidden) this.setOpen(true);
    }
    if (next && this.following) this.follow(next);
    // Other state changes (a tick, someone's microphone) leave the panel alone; a pointer
    // move only moves the marker.
    if (this.drawKey() !== this.drawn) this.draw();
    else this.placePointer();
  }

  /** @param {Presentation} p */
  follow(p) {
    if (!this.doc || this.doc.id !== p.document_id) {
      this.doc = this.docs.find((d) => d.id === p.document_id)
        ?? { id: p.document_id, agenda_item_id: "", title: p.title, pages: p.pages };
    }
    this.page = p.page;
  }

  /** @returns {string} what the panel's content depends on, the pointer left out */
  drawKey() {
    const p = this.presentation;
    const sitting = /** @type {any} */ (this.state?.sitting);
    return JSON.stringify([p && { ...p, pointer: null }, this.mayPresent(), sitting?.current_item_id,
      this.state?.participants.length, this.doc?.id, this.page, this.following, this.panel.hidden]);
  }

  /** Show the presenter's pointer over the page it points at. */
  placePointer() {
    const frame = this.panel.querySelector(".docs-frame");
    if (!frame) return;
    const p = this.presentation;
    const at = p && this.doc && p.document_id === this.doc.id && p.page === this.page ? p.pointer : null;
    let mark = /** @type {HTMLElement | null} */ (frame.querySelector(".docs-pointer"));
    if (!at) {
      mark?.remove();
      return;
    }
    if (!mark) {
      mark = h("span", { class: "docs-pointer", "data-testid": "docs-pointer", "aria-hidden": "true" });
      frame.append(mark);
    }
    mark.style.left = `${at.x * 100}%`;
    mark.style.top = `${at.y * 100}%`;
  }

  /** @returns {boolean} */
  amPresenter() {
    return !!this.presentation && this.presentation.presenter_id === this.state?.self?.id;
  }

  /** @returns {boolean} the acting chair or the floor holder may present */
  mayPresent() {
    const me = this.state?.self?.id;
    const sitting = /** @type {any} */ (this.state?.sitting);
    return !!me && !!sitting && (sitting.acting_chair_id === me || sitting.floor?.holder_id === me);
  }

  /** Rebuild the panel from what is known. */
  draw() {
    this.drawn = this.drawKey();
    this.toggleButton.textContent = t(this.panel.hidden ? "docs.open" : "docs.close");
    this.toggleButton.classList.toggle("off", !this.panel.hidden);
    if (this.panel.hidden) return;
    this.panel.replaceChildren();
    const head = h("div", { class: "docs-head" });
    head.append(h("h2", { id: "docs-heading" }, this.doc ? this.doc.title : t("docs.title")));
    if (this.doc && !(this.presentation && this.following)) {
      const back = h("button", { type: "button", class: "btn secondary", "data-testid": "docs-back" }, t("docs.list"));
      back.addEventListener("click", () => { this.doc = null; this.draw(); });
      head.append(back);
    }
    this.panel.append(head, this.followBar());
    this.panel.append(this.doc ? this.viewer(this.doc) : this.listing());
    this.placePointer();
    this.sizeImage();
  }

  /** @returns {HTMLElement} who is presenting, and following or reading on one's own */
  followBar() {
    const bar = h("div", { class: "docs-follow", "data-testid": "docs-follow", role: "status" });
    const p = this.presentation;
    if (!p) {
      bar.hidden = true;
      return bar;
    }
    if (this.amPresenter()) {
      bar.append(h("p", {}, t("docs.presenting")));
      const stop = h("button", { type: "button", class: "btn danger", "data-testid": "docs-stop" }, t("docs.stop"));
      stop.addEventListener("click", () => this.send("stop"));
      bar.append(stop);
    } else if (this.following) {
      bar.append(h("p", {}, t("docs.following", { name: this.nameOf(p.presenter_id) })));
      const own = h("button", { type: "button", class: "btn secondary", "data-testid": "docs-unfollow" }, t("docs.unfollow"));
      own.addEventListener("click", () => { this.following = false; this.draw(); });
      bar.append(own);
    } else {
      bar.classList.add("reading");
      bar.append(h("p", {}, t("docs.reading", { page: String(p.page) })));
      const back = h("button", { type: "button", class: "btn primary", "data-testid": "docs-refollow" }, t("docs.refollow"));
      back.addEventListener("click", () => { this.following = true; this.follow(p); this.draw(); });
      bar.append(back);
    }
    return bar;
  }

  /** @param {string} id @returns {string} */
  nameOf(id) {
    return this.state?.participants.find((q) => q.id === id)?.name ?? "";
  }

  /** @returns {HTMLElement} the documents, the current item's first, and the search box */
  listing() {
    return documentListing({
      docs: this.docs,
      currentItemId: this.state?.sitting?.current_item_id ?? null,
      query: this.query,
      results: this.results,
      url: (path) => this.url(path),
      open: (doc, page) => this.open(doc, page),
      search: (q) => this.search(q),
    });
  }

  /** @param {string} q */
  async search(q) {
    this.query = q.trim();
    const meetingId = this.state?.meeting?.id;
    if (!this.query || !meetingId) { this.results = null; this.draw(); return; }
    try {
      const found = await this.get(`/api/meetings/${encodeURIComponent(meetingId)}/documents/search?q=${encodeURIComponent(this.query)}`);
      this.results = found.results;
    } catch {
      this.results = [];
    }
    this.draw();
  }

  /** @param {Doc} doc @param {number} page */
  open(doc, page) {
    this.doc = doc;
    this.page = page;
    if (this.presentation && !this.amPresenter()) this.following = false;
    this.draw();
  }

  /** @param {Doc} doc @returns {HTMLElement} the page, the page buttons, the thumbnails */
  viewer(doc) {
    const box = h("div", { class: "docs-viewer" });
    const stage = h("div", { class: "docs-stage", "data-testid": "docs-stage" });
    const frame = h("div", { class: "docs-frame" });
    const img = h("img", { class: "docs-page", "data-testid": "docs-page",
      "data-page": String(this.page), alt: t("docs.page.alt", { title: doc.title, page: String(this.page) }) });
    frame.append(img);
    if (this.img?.style.width) {
      // Keep the last page's size until this one loads: the page does not jump while turning.
      img.style.width = this.img.style.width;
      img.style.height = this.img.style.height;
    }
    const p = this.presentation;
    if (this.amPresenter() && p?.document_id === doc.id) {
      frame.classList.add("pointing");
      frame.addEventListener("click", (e) => {
        const r = img.getBoundingClientRect();
        const x = Math.min(1, Math.max(0, (e.clientX - r.left) / r.width));
        const y = Math.min(1, Math.max(0, (e.clientY - r.top) / r.height));
        this.send("point", { x, y });
      });
    }
    stage.append(frame);
    this.zoomer.gestures(stage, frame.classList.contains("pointing"));
    // The zoom controls float over the stage's corner, as on a map: no row of their own.
    const stageBox = h("div", { class: "docs-stage-box" }, stage, this.zoomer.controls());
    box.append(stageBox, this.pageBar(doc), this.strip(doc));
    this.img = img;
    img.addEventListener("load", () => this.fit());
    return box;
  }

  /** @param {Doc} doc @returns {HTMLElement} */
  pageBar(doc) {
    const bar = h("div", { class: "docs-pagebar" });
    const locked = !!this.presentation && this.following && !this.amPresenter();
    const prev = h("button", { type: "button", class: "btn big secondary",
      "data-testid": "docs-prev" }, t("docs.prev"));
    const next = h("button", { type: "button", class: "btn big secondary",
      "data-testid": "docs-next" }, t("docs.next"));
    prev.disabled = locked || this.page <= 1;
    next.disabled = locked || this.page >= doc.pages;
    prev.addEventListener("click", () => this.go(this.page - 1));
    next.addEventListener("click", () => this.go(this.page + 1));
    const number = h("p", { class: "docs-pagenumber", "data-testid": "docs-pagenumber", "aria-live": "polite" },
      t("docs.page", { page: String(this.page), pages: String(doc.pages) }));
    bar.append(prev, number, next);
    const mine = this.presentation && this.amPresenter() && this.presentation.document_id === doc.id;
    if (this.mayPresent() && !mine) {
      const start = h("button", { type: "button", class: "btn big primary", "data-testid": "docs-present" }, t("docs.present"));
      start.addEventListener("click", () => this.send("start", { document_id: doc.id, page: this.page }));
      bar.append(start);
    }
    return bar;
  }

  /** @param {Doc} doc @returns {HTMLElement} */
  strip(doc) {
    const strip = h("ol", { class: "docs-strip", "aria-label": t("docs.thumbnails") });
    const locked = !!this.presentation && this.following && !this.amPresenter();
    for (let n = 1; n <= doc.pages; n++) {
      const li = h("li");
      const button = h("button", { type: "button", class: "docs-thumb",
        "aria-label": t("docs.page", { page: String(n), pages: String(doc.pages) }) });
      if (n === this.page) button.setAttribute("aria-current", "page");
      button.disabled = locked;
      const img = h("img", { alt: "", loading: "lazy" });
      img.src = this.url(`/api/documents/${doc.id}/thumbnails/${n}`);
      button.append(img, h("span", {}, String(n)));
      button.addEventListener("click", () => this.go(n));
      li.append(button);
      strip.append(li);
    }
    queueMicrotask(() => strip.querySelector("[aria-current]")?.scrollIntoView({ block: "nearest", inline: "nearest" }));
    return strip;
  }

  /** @param {number} page */
  go(page) {
    if (!this.doc || page < 1 || page > this.doc.pages) return;
    this.page = page;
    if (this.amPresenter() && this.presentation?.document_id === this.doc.id) this.send("page", { page });
    this.draw();
  }

  /** Ask for the page image at the width it is shown (in device pixels, in steps). */
  sizeImage() {
    const img = this.img;
    if (!img || !this.doc || !img.isConnected) return;
    const stage = /** @type {HTMLElement} */ (img.closest(".docs-stage"));
    const wanted = this.zoomer.shownWidth(stage) * (window.devicePixelRatio || 1);
    const width = Math.min(1600, Math.max(200, Math.ceil(wanted / WIDTH_STEP) * WIDTH_STEP));
    const src = this.url(`/api/documents/${this.doc.id}/pages/${this.page}?width=${width}`);
    if (img.getAttribute("src") !== src) img.src = src;
    else this.fit();
  }

  /** Size the page to the stage at the zoom chosen. */
  fit() {
    this.zoomer.fit(this.img);
  }

  /** @param {string} action @param {Record<string, any>} [fields] */
  async send(action, fields = {}) {
    try {
      await this.callbacks.present(action, { action, ...fields });
    } catch (error) {
      const message = /** @type {any} */ (error)?.serverMessage;
      this.flash(message ? pick(message) : t("docs.failed"));
    }
  }

  /** @param {string} text */
  flash(text) {
    const note = h("p", { class: "docs-error", role: "alert", "data-testid": "docs-error" }, text);
    this.panel.querySelector(".docs-error")?.remove();
    this.panel.querySelector(".docs-head")?.after(note);
  }

  /**
   * The clerk added or removed a document: an open list shows it at once.
   * @param {{name: string}[]} events
   * @returns {Promise<void>}
   */
  async announce(events) {
    if (!events.some((e) => e.name === "document_added" || e.name === "document_removed")) return;
    if (this.panel.hidden) return; // loaded again when opened
    await this.load();
    if (!this.doc) this.draw();
  }

  retranslate() {
    this.draw();
  }
}
