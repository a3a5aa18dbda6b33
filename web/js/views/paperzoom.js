/**
 * How large an agenda paper is shown: the whole page, or a multiple of the stage's width (full
 * width, 1.5, 2.5 and 4 times), with big －/＋ buttons over the stage's corner, a double tap, a
 * two-finger pinch and one-finger panning (the stage scrolls). Kept over page turns.
 */
import { t } from "../i18n.js";
import { h } from "./dom.js";

/** Zoom steps, in multiples of "as wide as the stage" (null: the whole page in view). */
const ZOOM_STEPS = [1, 1.5, 2.5, 4];
const ZOOM_MAX = 4;

export class PaperZoom {
  /**
   * @param {() => HTMLImageElement | null} img the page shown now
   * @param {() => void} changed the zoom changed: ask for an image drawn for the new size
   */
  constructor(img, changed) {
    this.img = img;
    this.changed = changed;
    /** @type {number | null} the page's width in multiples of the stage's; null: the whole page */
    this.zoom = null;
    /** @type {{w: number, h: number} | null} the last page image's size in pixels */
    this.shape = null;
    /** @type {Map<number, {x: number, y: number}>} fingers on the page, for a pinch */
    this.touches = new Map();
    /** @type {{distance: number, zoom: number} | null} */
    this.pinch = null;
    /** @type {HTMLElement | null} the controls drawn last */
    this.box = null;
  }

  /**
   * The width the page is shown at, in CSS pixels, for the image to ask for.
   * @param {HTMLElement} stage
   * @returns {number}
   */
  shownWidth(stage) {
    return this.zoom === null ? Math.max(stage.clientWidth, stage.clientHeight * 0.75) : stage.clientWidth * this.zoom;
  }

  /** @returns {HTMLElement} smaller, how large the page is shown, larger */
  controls() {
    const smaller = h("button", { type: "button", class: "btn big secondary", "data-testid": "docs-zoom-out",
      "aria-label": t("docs.zoom.out"), title: t("docs.zoom.out") }, "－");
    const larger = h("button", { type: "button", class: "btn big secondary", "data-testid": "docs-zoom-in",
      "aria-label": t("docs.zoom.in"), title: t("docs.zoom.in") }, "＋");
    smaller.disabled = this.zoom === null;
    larger.disabled = this.zoom !== null && this.zoom >= ZOOM_MAX;
    smaller.addEventListener("click", () => this.set(this.step(-1)));
    larger.addEventListener("click", () => this.set(this.step(1)));
    const shown = h("span", { class: "docs-zoom-level", "data-testid": "docs-zoom-level", "aria-live": "polite" },
      this.label());
    this.box = h("div", { class: "docs-zoom", role: "group", "aria-label": t("docs.zoom") }, smaller, shown, larger);
    return this.box;
  }

  /** @returns {string} */
  label() {
    if (this.zoom === null) return t("docs.zoom.whole");
    if (Math.abs(this.zoom - 1) < 0.05) return t("docs.zoom.width");
    return t("docs.zoom.times", { n: String(Math.round(this.zoom * 10) / 10) });
  }

  /**
   * The next zoom step up (+1) or down (-1) from the zoom now.
   * @param {number} direction
   * @returns {number | null}
   */
  step(direction) {
    const now = this.zoom ?? 0;
    if (direction > 0) return ZOOM_STEPS.find((z) => z > now + 0.05) ?? ZOOM_MAX;
    const lower = ZOOM_STEPS.filter((z) => z < now - 0.05);
    return lower.length ? lower[lower.length - 1] : null;
  }

  /**
   * Show the page at ``zoom`` (null: whole), keeping the point at ``at`` (stage coordinates)
   * where it was, or the middle of the view.
   * @param {number | null} zoom
   * @param {{x: number, y: number}} [at]
   * @returns {void}
   */
  set(zoom, at) {
    const img = this.img();
    const stage = /** @type {HTMLElement | null} */ (img?.closest(".docs-stage") ?? null);
    const before = img?.getBoundingClientRect();
    const box = stage?.getBoundingClientRect();
    const point = at ?? (box ? { x: box.width / 2, y: box.height / 2 } : { x: 0, y: 0 });
    // where the point lies on the page, as fractions of its size
    const fx = before && box && before.width ? (box.left + point.x - before.left) / before.width : 0.5;
    const fy = before && box && before.height ? (box.top + point.y - before.top) / before.height : 0.5;
    this.zoom = zoom === null ? null : Math.min(ZOOM_MAX, zoom);
    this.fit(img);
    if (stage && img) {
      stage.scrollLeft = fx * img.offsetWidth + img.offsetLeft - point.x;
      stage.scrollTop = fy * img.offsetHeight + img.offsetTop - point.y;
    }
    const level = this.box?.querySelector("[data-testid=docs-zoom-level]");
    if (level) level.textContent = this.label();
    const smaller = /** @type {HTMLButtonElement | null} */ (this.box?.querySelector("[data-testid=docs-zoom-out]"));
    const larger = /** @type {HTMLButtonElement | null} */ (this.box?.querySelector("[data-testid=docs-zoom-in]"));
    if (smaller) smaller.disabled = this.zoom === null;
    if (larger) larger.disabled = this.zoom !== null && this.zoom >= ZOOM_MAX;
    this.changed();
  }

  /**
   * Double-tap (or double-click) for the page's width and back to the whole page; two fingers
   * pinch; one finger pans (the stage scrolls). A presenter's taps point instead.
   * @param {HTMLElement} stage
   * @param {boolean} pointing
   * @returns {void}
   */
  gestures(stage, pointing) {
    if (!pointing) {
      stage.addEventListener("dblclick", (e) => {
        const box = stage.getBoundingClientRect();
        this.set(this.zoom === null ? 1.5 : null, { x: e.clientX - box.left, y: e.clientY - box.top });
      });
    }
    const distance = () => {
      const [a, b] = [...this.touches.values()];
      return Math.hypot(a.x - b.x, a.y - b.y);
    };
    stage.addEventListener("pointerdown", (e) => {
      if (e.pointerType !== "touch") return;
      this.touches.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (this.touches.size === 2) this.pinch = { distance: distance(), zoom: this.widthMultiple() };
    });
    stage.addEventListener("pointermove", (e) => {
      if (!this.touches.has(e.pointerId)) return;
      this.touches.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (!this.pinch || this.touches.size !== 2) return;
      const zoom = this.pinch.zoom * distance() / Math.max(1, this.pinch.distance);
      const [a, b] = [...this.touches.values()];
      const box = stage.getBoundingClientRect();
      const middle = { x: (a.x + b.x) / 2 - box.left, y: (a.y + b.y) / 2 - box.top };
      this.set(zoom <= this.wholeMultiple() + 0.02 ? null : zoom, middle);
    });
    const lift = (/** @type {PointerEvent} */ e) => {
      this.touches.delete(e.pointerId);
      if (this.touches.size < 2) this.pinch = null;
    };
    stage.addEventListener("pointerup", lift);
    stage.addEventListener("pointercancel", lift);
  }

  /** @returns {number} the whole page's width in multiples of the stage's width */
  wholeMultiple() {
    const img = this.img();
    const stage = /** @type {HTMLElement | null} */ (img?.closest(".docs-stage") ?? null);
    const natural = img?.naturalWidth ? { w: img.naturalWidth, h: img.naturalHeight } : this.shape;
    if (!stage || !natural) return 1;
    const whole = Math.min(stage.clientWidth / natural.w, stage.clientHeight / natural.h);
    return whole * natural.w / stage.clientWidth;
  }

  /** @returns {number} the page's width now, in multiples of the stage's width */
  widthMultiple() {
    return this.zoom ?? this.wholeMultiple();
  }

  /**
   * Show the page whole, or at the zoom chosen (a multiple of the stage's width), keeping its
   * shape (the pointer is placed over it).
   * @param {HTMLImageElement | null} img
   * @returns {void}
   */
  fit(img) {
    if (!img || !img.isConnected) return;
    // While a sharper image loads, the page keeps the shape of the one before.
    if (img.naturalWidth) this.shape = { w: img.naturalWidth, h: img.naturalHeight };
    const natural = img.naturalWidth ? { w: img.naturalWidth, h: img.naturalHeight } : this.shape;
    if (!natural) return;
    const stage = /** @type {HTMLElement} */ (img.closest(".docs-stage"));
    const whole = Math.min(stage.clientWidth / natural.w, stage.clientHeight / natural.h);
    const scale = this.zoom === null ? whole : Math.max(whole, stage.clientWidth * this.zoom / natural.w);
    stage.classList.toggle("zoomed", scale > whole);
    img.style.width = `${Math.floor(natural.w * scale)}px`;
    img.style.height = `${Math.floor(natural.h * scale)}px`;
  }
}
