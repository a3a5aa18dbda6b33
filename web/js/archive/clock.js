/**
 * The sitting's clock: the player's master time, in seconds from the opening. Every video
 * and audio element follows it. It runs on the wall clock while playing, and holds still
 * while the picture on screen is still loading, so a slow file delays the sitting instead
 * of the picture falling behind the sound.
 */
export class SittingClock {
  /** @param {number} duration */
  constructor(duration) {
    this.duration = Math.max(0, duration);
    this.playing = false;
    /** seconds at `since` */
    this.base = 0;
    /** performance.now() when `base` was taken */
    this.since = performance.now();
    this.held = false;
    this.rate = 1;
  }

  /** @returns {number} */
  now() {
    if (!this.playing || this.held) return this.base;
    const t = this.base + ((performance.now() - this.since) / 1000) * this.rate;
    return Math.min(t, this.duration);
  }

  /** @param {number} t */
  seek(t) {
    this.base = Math.min(Math.max(0, t), this.duration);
    this.since = performance.now();
  }

  play() {
    if (this.base >= this.duration - 0.05) this.seek(0); // from the start again
    this.seek(this.now());
    this.playing = true;
  }

  pause() {
    this.seek(this.now());
    this.playing = false;
  }

  /**
   * Stop or restart the clock while the picture loads.
   * @param {boolean} held
   */
  hold(held) {
    if (held === this.held) return;
    this.seek(this.now());
    this.held = held;
  }

  /** @param {number} rate playback speed (1 = as it happened) */
  setRate(rate) {
    this.seek(this.now());
    this.rate = rate;
  }

  /** @returns {boolean} */
  atEnd() {
    return this.now() >= this.duration - 1e-3;
  }
}
