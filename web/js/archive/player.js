/**
 * The archive's player: the picture of whoever held the floor at each moment of a past
 * sitting (or of one chosen participant), with the voices the sitting heard, all following
 * one clock (clock.js). It only decides what plays; the page draws the controls.
 */
import { SittingClock } from "./clock.js";
import { Deck } from "./deck.js";
import { floorAt, heardAt, nextCut, nextFile, sourceAt } from "./programme.js";
import { h } from "../views/dom.js";

/** @typedef {import("./programme.js").Sitting} Sitting */
/** @typedef {import("./programme.js").Floor} Floor */

const TICK_MS = 100;
const CUE_AHEAD = 4; // seconds: load the next file this long before it is needed
const HOLD_AT_MOST_MS = 8000; // then the clock goes on without the picture

/**
 * @typedef {object} Moment what the page shows about now
 * @property {number} t
 * @property {boolean} playing
 * @property {Floor} floor
 * @property {string | null} shown the participant whose picture should be on screen
 * @property {"playing" | "loading" | "no_recording" | "recess" | "failed"} picture
 */

export class Player {
  /**
   * @param {Sitting} sitting
   * @param {HTMLElement} stage where the two video elements go
   * @param {(path: string) => string} url a segment's address
   * @param {(moment: Moment) => void} onTick
   */
  constructor(sitting, stage, url, onTick) {
    this.sitting = sitting;
    this.url = url;
    this.onTick = onTick;
    this.clock = new SittingClock(sitting.duration);
    /** @type {string | null} null: follow the floor */
    this.chosen = null;
    this.loadingSince = 0;
    this.picture = new Deck(() => {
      const v = h("video", {
        class: "picture", muted: true, // the voices come from the audio decks
        playsInline: true, disablePictureInPicture: true, "aria-hidden": "true", "data-testid": "player-video",
      });
      stage.append(v);
      return v;
    });
    /** @type {Map<string, Deck>} participant id → their voice */
    this.voices = new Map();
    this.audioBox = h("div", { hidden: true });
    stage.append(this.audioBox);
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** @returns {number} */
  get t() {
    return this.clock.now();
  }

  play() {
    this.clock.play();
    this.tick();
  }

  pause() {
    this.clock.pause();
    this.tick();
  }

  /** @param {number} t */
  seek(t) {
    this.clock.seek(t);
    this.tick();
  }

  /** @param {string | null} participantId null: follow the floor */
  choose(participantId) {
    this.chosen = participantId;
    this.tick();
  }

  /** @param {number} rate */
  setRate(rate) {
    this.clock.setRate(rate);
    this.tick();
  }

  /** One step: put every element where the clock says, then tell the page. */
  tick() {
    const s = this.sitting;
    const clock = this.clock;
    if (clock.playing && clock.atEnd()) clock.pause();
    const t = clock.now();
    const floor = floorAt(s, t);
    const shown = this.chosen ?? floor.who;
    const picture = this.showPicture(t, floor, shown, clock.playing);
    // The sitting waits for the picture on screen, but not for ever, nor for a broken one.
    const loading = clock.playing && picture === "loading";
    if (!loading) this.loadingSince = 0;
    else if (!this.loadingSince) this.loadingSince = performance.now();
    clock.hold(loading && performance.now() - this.loadingSince < HOLD_AT_MOST_MS);
    this.cueNextPicture(t, shown);
    this.playVoices(t, clock.playing && !clock.held);
    this.onTick({ t, playing: clock.playing, floor, shown, picture });
  }

  /**
   * @param {number} t
   * @param {Floor} floor
   * @param {string | null} shown
   * @param {boolean} playing
   * @returns {Moment["picture"]}
   */
  showPicture(t, floor, shown, playing) {
    const now = sourceAt(this.sitting, shown, "video", t);
    /** @type {Moment["picture"]} */
    let picture;
    if (!this.chosen && floor.why === "recess") {
      this.picture.stop();
      picture = "recess";
    } else if (!now) {
      this.picture.stop();
      picture = "no_recording";
    } else {
      this.picture.show(this.url(now.segment.path), now.offset, playing, this.clock.rate);
      picture = this.picture.failed() ? "failed" : this.picture.ready() ? "playing" : "loading";
    }
    this.picture.front.dataset.participant = now ? shown || "" : "";
    this.picture.back.dataset.participant = "";
    return picture;
  }

  /**
   * @param {number} t
   * @param {string | null} shown
   */
  cueNextPicture(t, shown) {
    const s = this.sitting;
    const cut = this.chosen ? s.duration : nextCut(s, t);
    const at = Math.min(cut, nextFile(s, shown, "video", t));
    if (at >= s.duration || at - t > CUE_AHEAD) return;
    const who = this.chosen ?? floorAt(s, at).who;
    const next = sourceAt(s, who, "video", at);
    if (next) this.picture.cue(this.url(next.segment.path), next.offset);
  }

  /**
   * @param {number} t
   * @param {boolean} playing
   */
  playVoices(t, playing) {
    const s = this.sitting;
    const heard = new Set(heardAt(s, t));
    for (const who of heard) {
      const now = sourceAt(s, who, "audio", t);
      const deck = this.voice(who);
      if (!now) {
        deck.stop();
        continue;
      }
      deck.show(this.url(now.segment.path), now.offset, playing, this.clock.rate);
      const at = nextFile(s, who, "audio", t);
      const next = at - t <= CUE_AHEAD ? sourceAt(s, who, "audio", at) : null;
      if (next) deck.cue(this.url(next.segment.path), next.offset);
    }
    for (const [who, deck] of this.voices) if (!heard.has(who)) deck.stop();
  }

  /** @param {string} who @returns {Deck} */
  voice(who) {
    let deck = this.voices.get(who);
    if (!deck) {
      deck = new Deck(() => {
        const a = h("audio", { "data-participant": who });
        this.audioBox.append(a);
        return a;
      });
      this.voices.set(who, deck);
    }
    return deck;
  }

  destroy() {
    clearInterval(this.timer);
    this.picture.stop();
    for (const deck of this.voices.values()) deck.stop();
  }
}
