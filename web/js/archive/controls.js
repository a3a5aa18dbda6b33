/**
 * The player's controls, all with words on them: play / pause, ten seconds back and on, the
 * position (a slider a keyboard can move too), the time, whose picture to show, and the speed.
 */
import { t } from "../i18n.js";
import { h } from "../views/dom.js";
import { at, clockTime, counter, lengthText } from "./format.js";
import { recordedPeople } from "./programme.js";

/** @typedef {import("./programme.js").Sitting} Sitting */
/** @typedef {import("./player.js").Player} Player */
/** @typedef {import("./player.js").Moment} Moment */

const STEP = 10;
const RATES = [1, 1.5, 2];

export class Controls {
  /**
   * @param {HTMLElement} box
   * @param {Sitting} sitting
   * @param {Player} player
   */
  constructor(box, sitting, player) {
    this.box = box;
    this.sitting = sitting;
    this.player = player;
    this.dragging = false;
    this.shownTime = "";
    /** @type {Moment | null} */
    this.moment = null;
    // The parts, made by build() (again after a language change).
    /** @type {HTMLButtonElement} */ this.playButton;
    /** @type {HTMLInputElement} */ this.slider;
    /** @type {HTMLElement} */ this.time;
    /** @type {HTMLSelectElement} */ this.source;
    /** @type {HTMLSelectElement} */ this.speed;
    this.build();
  }

  build() {
    const p = this.player;
    const s = this.sitting;
    this.playButton = h("button", {
      type: "button", class: "btn primary big play", "data-testid": "play",
      onclick: () => (p.clock.playing ? p.pause() : p.play()),
    });
    const back = h("button", {
      type: "button", class: "btn secondary", "data-testid": "back10", onclick: () => p.seek(p.t - STEP),
    }, t("archive.back10"));
    const on = h("button", {
      type: "button", class: "btn secondary", "data-testid": "forward10", onclick: () => p.seek(p.t + STEP),
    }, t("archive.forward10"));
    this.slider = h("input", {
      type: "range", class: "position", min: 0, max: Math.ceil(s.duration), step: 1, value: 0,
      "aria-label": t("archive.position"), "data-testid": "position",
      oninput: () => p.seek(Number(this.slider.value)),
      onpointerdown: () => { this.dragging = true; },
      onpointerup: () => { this.dragging = false; },
      onchange: () => { this.dragging = false; },
      onblur: () => { this.dragging = false; },
    });
    this.time = h("p", { class: "time", "data-testid": "player-time", "aria-hidden": "true" });
    this.source = h("select", {
      class: "select", id: "player-source", "data-testid": "player-source",
      onchange: () => p.choose(this.source.value || null),
    }, new Option(t("archive.source.floor"), ""),
    ...recordedPeople(s).map((person) => new Option(
      t("archive.source.person", { name: person.name, role: t(`role.${person.role}`) }), person.id)));
    this.speed = h("select", {
      class: "select", id: "player-speed", "data-testid": "player-speed",
      onchange: () => p.setRate(Number(this.speed.value)),
    }, ...RATES.map((r) => new Option(t("archive.speed.n", { n: r }), String(r), false, r === p.clock.rate)));
    this.box.replaceChildren(
      h("div", { class: "transport" }, this.playButton, back, on),
      h("div", { class: "seek" }, this.slider, this.time),
      h("div", { class: "choices-row" },
        h("label", { class: "field", for: "player-source" }, h("span", {}, t("archive.source")), this.source),
        h("label", { class: "field speed", for: "player-speed" }, h("span", {}, t("archive.speed")), this.speed)),
    );
    this.source.value = p.chosen ?? "";
    this.shownTime = "";
    if (this.moment) this.update(this.moment);
  }

  /** @param {Moment} m */
  update(m) {
    this.moment = m;
    const playing = m.playing;
    const label = t(playing ? "archive.pause" : "archive.play");
    if (this.playButton.dataset.label !== label) {
      this.playButton.replaceChildren(h("span", { class: "icon", "aria-hidden": "true" }, playing ? "❚❚" : "▶"), label);
      this.playButton.dataset.label = label;
      this.playButton.dataset.state = playing ? "playing" : "paused";
    }
    if (!this.dragging) this.slider.value = String(Math.floor(m.t));
    const wall = clockTime(at(this.sitting.start, m.t), true);
    if (wall === this.shownTime) return; // the words change once a second
    this.shownTime = wall;
    this.slider.setAttribute("aria-valuetext", t("archive.position.text", { clock: wall, from: lengthText(m.t) }));
    this.time.replaceChildren(h("span", { class: "clock" }, wall),
      h("span", { class: "counter" }, `${counter(m.t)} / ${counter(this.sitting.duration)}`));
  }
}
