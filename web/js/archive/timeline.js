/**
 * The timeline picture (`/api/archive/{id}/timeline.svg`) put inline in the page, so that
 * a click anywhere on it seeks the player, and a line shows where the player is.
 *
 * Every mark of the picture carries `data-t`, its start in whole seconds; a click on a speech,
 * an agenda item, a recess or a vote seeks to the exact start of what it shows (from the
 * sitting's data), and a click elsewhere seeks to the time under the pointer.
 */

/** @typedef {import("./programme.js").Sitting} Sitting */

const SVG_NS = "http://www.w3.org/2000/svg";
/** Marks that stand for something with a start; elsewhere (attendance, the axis) a click means the time under it. */
const SNAPPING = "g.speech, g.item, g.recess, g.ballot";

export class Timeline {
  /**
   * @param {HTMLElement} box
   * @param {Sitting} sitting
   * @param {(t: number) => void} onSeek
   */
  constructor(box, sitting, onSeek) {
    this.box = box;
    this.sitting = sitting;
    this.onSeek = onSeek;
    /** @type {SVGSVGElement | null} */
    this.svg = null;
    /** @type {SVGLineElement | null} */
    this.playhead = null;
    this.x0 = 0;
    this.x1 = 1;
    this.total = 1;
  }

  /**
   * Fetch the picture in `lang` and put it in the box (again, when the language changes).
   * @param {string} url
   * @returns {Promise<void>}
   */
  async load(url) {
    const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) throw new Error(`timeline: ${response.status}`);
    const parsed = new DOMParser().parseFromString(await response.text(), "image/svg+xml");
    const svg = /** @type {SVGSVGElement} */ (/** @type {unknown} */ (document.importNode(parsed.documentElement, true)));
    if (svg.localName !== "svg") throw new Error("timeline: not an SVG");
    // Scale to the page's width; the viewBox keeps the proportions.
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.setAttribute("data-testid", "timeline-svg");
    svg.addEventListener("click", (event) => this.click(event));
    this.svg = svg;
    this.measure();
    this.playhead = /** @type {SVGLineElement} */ (document.createElementNS(SVG_NS, "line"));
    this.playhead.setAttribute("class", "playhead");
    this.playhead.setAttribute("pointer-events", "none");
    const axis = this.axis();
    const height = svg.viewBox.baseVal.height;
    this.playhead.setAttribute("y1", String(axis ? Number(axis.getAttribute("y1")) - 14 : 0));
    this.playhead.setAttribute("y2", String(height - 34));
    svg.append(this.playhead);
    this.box.replaceChildren(svg);
  }

  /** @returns {Element | null} the time axis: the picture's first line */
  axis() {
    return this.svg?.querySelector(":scope > line") ?? null;
  }

  /**
   * Where time runs in the picture: the axis spans the sitting's length, at least a minute
   * (orchestrator/service/timeline.py); checked against the first speech's mark.
   */
  measure() {
    const axis = this.axis();
    const width = this.svg?.viewBox.baseVal.width || 1100;
    this.x0 = axis ? Number(axis.getAttribute("x1")) : 0;
    this.x1 = axis ? Number(axis.getAttribute("x2")) : width;
    this.total = Math.max(60, this.sitting.duration);
    const mark = this.svg?.querySelector("g.speech rect");
    const first = this.sitting.speeches[0];
    if (mark && first && first.start > 1) {
      const x = Number(mark.getAttribute("x"));
      const seen = ((x - this.x0) / (this.x1 - this.x0)) * this.total;
      if (Math.abs(seen - first.start) > this.total / 100 && x > this.x0) {
        this.total = (first.start * (this.x1 - this.x0)) / (x - this.x0);
      }
    }
  }

  /** @param {number} t seconds from the opening @returns {number} x in the picture */
  xOf(t) {
    return this.x0 + (Math.min(Math.max(t, 0), this.total) / this.total) * (this.x1 - this.x0);
  }

  /** @param {number} x @returns {number} */
  tOf(x) {
    const t = ((x - this.x0) / (this.x1 - this.x0)) * this.total;
    return Math.min(Math.max(t, 0), this.sitting.duration);
  }

  /** @param {number} t */
  show(t) {
    if (!this.playhead) return;
    const x = this.xOf(t).toFixed(1);
    this.playhead.setAttribute("x1", x);
    this.playhead.setAttribute("x2", x);
  }

  /** @param {MouseEvent} event */
  click(event) {
    if (!this.svg) return;
    const mark = event.target instanceof Element ? event.target.closest(SNAPPING) : null;
    if (mark) {
      this.onSeek(this.exactStart(mark));
      return;
    }
    const matrix = this.svg.getScreenCTM();
    if (!matrix) return;
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
    this.onSeek(this.tOf(point.x));
  }

  /**
   * The exact start of what a mark shows (its `data-t` is whole seconds).
   * @param {Element} mark
   * @returns {number}
   */
  exactStart(mark) {
    const s = this.sitting;
    const t = Number(mark.getAttribute("data-t")) || 0;
    const near = (/** @type {number} */ x) => x >= t - 0.001 && x < t + 1;
    const who = mark.getAttribute("data-participant");
    /** @type {number[]} */
    let starts = [];
    if (mark.classList.contains("speech")) {
      starts = s.speeches.filter((sp) => !who || sp.holder_id === who).map((sp) => sp.start);
    } else if (mark.classList.contains("item")) {
      starts = s.items.flatMap((item) => item.spans.map(([a]) => a));
    } else if (mark.classList.contains("recess")) {
      starts = s.recesses.map(([a]) => a);
    }
    return starts.find(near) ?? Math.min(t, s.duration);
  }
}
