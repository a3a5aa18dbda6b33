/**
 * Two media elements that take turns, like two tape decks: the front one plays the file of
 * this moment, the back one has the next file loaded and cued, so a cut (the floor changes
 * or a file ends) is a swap instead of a wait for the network.
 *
 * The recorded WebM files carry the sitting's own clock as their timestamps (docs/recording.md),
 * so a browser may place a file's first frame at its start time rather than at zero. Each
 * file is first sought to 0: the browser lands on the first frame, and that time is the
 * file's zero. (The time before any seek is no guide: Chromium may still say 0 there.)
 */

/** Seek when an element is this far from the sitting's clock (seconds). */
export const DRIFT = 0.3;
/** Closer than this is in step; between NEAR and DRIFT, the element's speed is nudged. */
const NEAR = 0.04;
const CATCH_UP = 0.06;

/**
 * @typedef {HTMLMediaElement & {gikaiSrc?: string, gikaiBase?: number | null, gikaiFailed?: boolean, gikaiAsked?: number}} Media
 */

export class Deck {
  /**
   * @param {() => Media} make creates one (video or audio) element, already in the page
   */
  constructor(make) {
    /** @type {Media} */
    this.front = make();
    /** @type {Media} */
    this.back = make();
    this.front.dataset.deck = "front";
    this.back.dataset.deck = "back";
  }

  /** @returns {string} the file the front element plays ("" for none) */
  get current() {
    return this.front.gikaiSrc || "";
  }

  /**
   * Play `src` at `position` seconds into the file (or show its frame there when paused).
   * @param {string} src
   * @param {number} position
   * @param {boolean} playing
   * @param {number} rate
   */
  show(src, position, playing, rate = 1) {
    if (this.front.gikaiSrc !== src && this.back.gikaiSrc === src) this.swap();
    if (this.front.gikaiSrc !== src) load(this.front, src);
    const el = this.front;
    const zero = baseOf(el);
    if (zero === null) return;
    const target = zero + position;
    seekNear(el, target, playing ? DRIFT : 0.05);
    // A small drift is caught up by playing a little faster or slower, without a jump.
    const drift = playing && !el.seeking ? el.currentTime - target : 0;
    const speed = rate * (Math.abs(drift) < NEAR ? 1 : drift < 0 ? 1 + CATCH_UP : 1 - CATCH_UP);
    if (el.playbackRate !== speed) el.playbackRate = speed;
    if (playing && el.paused) el.play().catch(() => { /* autoplay refused: the next tick retries */ });
    if (!playing && !el.paused) el.pause();
  }

  /**
   * Load and cue `src` at `position` in the back element, paused, for the next cut.
   * @param {string} src
   * @param {number} position
   */
  cue(src, position) {
    if (!src || src === this.front.gikaiSrc) return;
    const el = this.back;
    if (el.gikaiSrc !== src) load(el, src);
    if (!el.paused) el.pause();
    const zero = baseOf(el);
    if (zero === null) return;
    seekNear(el, zero + position, 0.05);
  }

  /** Nothing to play now: pause and forget the front file. */
  stop() {
    for (const el of [this.front, this.back]) if (!el.paused) el.pause();
    unload(this.front);
  }

  /** @returns {boolean} whether the front element can play at its position now */
  ready() {
    const el = this.front;
    return baseOf(el) !== null && !el.seeking && (el.readyState >= HTMLMediaElement.HAVE_FUTURE_DATA || el.ended);
  }

  /** @returns {boolean} */
  failed() {
    return !!this.front.gikaiFailed;
  }

  swap() {
    const was = this.front;
    this.front = this.back;
    this.back = was;
    this.front.dataset.deck = "front";
    this.back.dataset.deck = "back";
    if (!this.back.paused) this.back.pause();
  }
}

/**
 * The element's time of the file's first frame, once the file's metadata is known.
 * @param {Media} el
 * @returns {number | null}
 */
function baseOf(el) {
  if (!el.gikaiSrc || el.gikaiFailed || el.gikaiBase === undefined) return null;
  return el.gikaiBase;
}

/**
 * Seek when the element is more than `tolerance` from `target`, but never twice to the same
 * place: an element that cannot get closer (a file starting a little late) is left there.
 * @param {Media} el
 * @param {number} target
 * @param {number} tolerance
 */
function seekNear(el, target, tolerance) {
  if (el.seeking || Math.abs(el.currentTime - target) <= tolerance) return;
  if (el.gikaiAsked !== undefined && Math.abs(el.gikaiAsked - target) < 1e-3) return;
  el.gikaiAsked = target;
  el.currentTime = target;
}

/**
 * @param {Media} el
 * @param {string} src
 */
function load(el, src) {
  el.gikaiAsked = undefined;
  el.gikaiSrc = src;
  el.gikaiBase = null;
  el.gikaiFailed = false;
  el.preload = "auto";
  el.src = src;
  // Asked for zero, the browser goes to the first frame: that is the file's zero.
  el.addEventListener("loadedmetadata", () => {
    if (el.gikaiSrc !== src) return;
    el.addEventListener("seeked", () => {
      if (el.gikaiSrc === src && el.gikaiBase === null) el.gikaiBase = el.currentTime;
    }, { once: true });
    el.currentTime = 0;
  }, { once: true });
  el.addEventListener("error", () => {
    if (el.gikaiSrc === src) el.gikaiFailed = true;
  }, { once: true });
}

/** @param {Media} el */
function unload(el) {
  if (!el.gikaiSrc) return;
  el.gikaiSrc = "";
  el.gikaiBase = null;
  el.gikaiFailed = false;
  el.removeAttribute("src");
  el.load();
}
