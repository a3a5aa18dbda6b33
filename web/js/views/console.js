/**
 * The presiding chair's own controls: opening and closing the sitting, the floor
 * (end, extend), calling a presenter, and whose microphones are heard. Built once (and
 * again after a language change) and updated from the state, so a push never resets a
 * choice being made. DOM only.
 */
import { t } from "../i18n.js";
import { h, button, confirmDialog } from "./dom.js";
import { inSeatOrder, isMemberRole, selfId } from "../sitting.js";
import { nameWithRole } from "./lists.js";
import { SignersPicker } from "./signers.js";

/**
 * @typedef {import("../store.js").State} State
 * @typedef {import("./lists.js").Command} Command
 */

const LIFECYCLE = [
  { name: "open", from: ["scheduled"], kind: "primary" },
  { name: "recess", from: ["open"], kind: "secondary" },
  { name: "resume", from: ["recessed"], kind: "primary" },
  { name: "adjourn", from: ["open", "recessed"], kind: "danger-outline" },
];
const EXTENSIONS = [60, 180];

export class ChairControls {
  /** @param {Command} command */
  constructor(command) {
    this.command = command;
    /** @type {Record<string, HTMLButtonElement>} */
    this.lifecycle = {};
    for (const step of LIFECYCLE) {
      this.lifecycle[step.name] = button(t(`chair.${step.name}`),
        `lifecycle-${step.name}`, () => this.lifecycleClicked(step.name), { kind: step.kind });
    }
    this.quorumNote = h("p", { class: "note warn", "data-testid": "quorum-note", hidden: true });
    this.ballotNote = h("p", { class: "note", "data-testid": "ballot-pause-note", hidden: true },
      t("chair.ballot_pause_note"));
    this.endButton = button(t("chair.end_speech"), "chair-end-speech",
      () => this.command("end_speech"), { kind: "primary" });
    this.extendButtons = EXTENSIONS.map((seconds) => button(
      t("chair.extend", { minutes: seconds / 60 }), `extend-${seconds}`,
      () => this.command("extend", { seconds })));
    this.fixed = h("div", { class: "chair-console", "data-testid": "chair-console" },
      h("div", { class: "button-row lifecycle", role: "group", "aria-label": t("chair.lifecycle") },
        ...Object.values(this.lifecycle)),
      this.quorumNote, this.ballotNote);
    // Shown inside the floor box, next to the speaker's name and timer.
    this.floorControls = h("div", {
      class: "button-row floor-controls", role: "group", "aria-label": t("chair.floor_controls"),
    }, this.endButton, ...this.extendButtons);

    this.callSelect = h("select", {
      id: "call-select", class: "select", "data-testid": "call-select",
    });
    this.callButton = button(t("chair.call_button"), "call-button",
      () => this.callClicked(), { kind: "primary" });
    this.callSection = h("section", { class: "panel-section", "aria-labelledby": "call-title" },
      h("h3", { id: "call-title" }, t("chair.call")),
      h("div", { class: "inline-form" },
        h("label", { class: "visually-hidden", for: "call-select" }, t("chair.call_who")),
        this.callSelect, this.callButton));
    this.audioButtons = {
      floor: button(t("audio.floor"), "audio-floor",
        () => this.command("audio_mode", { mode: "floor" })),
      open: button(t("audio.open"), "audio-open",
        () => this.command("audio_mode", { mode: "open" })),
    };
    this.audioSection = h("section", { class: "panel-section", "aria-labelledby": "audio-title" },
      h("h3", { id: "audio-title" }, t("audio.title")),
      h("div", { class: "button-row segmented", role: "group", "aria-label": t("audio.title") },
        this.audioButtons.floor, this.audioButtons.open),
      h("p", { class: "hint" }, t("audio.hint")));
    this.signers = new SignersPicker(command);
  }

  /** @param {string} name */
  async lifecycleClicked(name) {
    if (name === "adjourn") {
      const ok = await confirmDialog(() => ({
        title: t("chair.adjourn_confirm.title"), text: t("chair.adjourn_confirm.text"),
        confirm: t("chair.adjourn"), danger: true,
      }));
      if (ok === null) return;
    }
    await this.command(name);
  }

  async callClicked() {
    const id = this.callSelect.value;
    if (id) await this.command("call", { participant_id: id });
  }

  /**
   * @param {State} state
   * @returns {void}
   */
  render(state) {
    const sitting = state.sitting;
    if (!sitting) return;
    // No recess or adjournment while a ballot is open (the server refuses: ballot_in_progress).
    const voting = state.ballot?.state === "open";
    for (const step of LIFECYCLE) {
      const pausing = step.name === "recess" || step.name === "adjourn";
      this.lifecycle[step.name].disabled = !online(state) || !step.from.includes(sitting.state)
        || (pausing && voting);
    }
    this.ballotNote.hidden = !voting || sitting.state !== "open";
    const needsQuorum = sitting.state === "scheduled" || sitting.state === "recessed";
    this.quorumNote.hidden = !needsQuorum || sitting.quorum.met;
    this.quorumNote.textContent = t("chair.quorum_note", {
      counted: sitting.quorum.counted.length, needed: sitting.quorum.needed,
    });
    const floorHeld = !!sitting.floor;
    this.endButton.disabled = !online(state) || !floorHeld;
    for (const b of this.extendButtons) b.disabled = !online(state) || !floorHeld || sitting.state !== "open";

    this.renderCallChoices(state);
    this.callButton.disabled = !online(state) || floorHeld || sitting.state !== "open" || !this.callSelect.value;
    for (const [mode, b] of Object.entries(this.audioButtons)) {
      b.setAttribute("aria-pressed", String(sitting.audio_mode === mode));
      b.disabled = !online(state) || sitting.state === "adjourned";
    }
    this.signers.render(state);
  }

  /**
   * Presenters and experts first (they are who is usually called), then members;
   * the choice made stays chosen across pushes.
   * @param {State} state
   * @returns {void}
   */
  renderCallChoices(state) {
    const sitting = /** @type {NonNullable<State["sitting"]>} */ (state.sitting);
    const me = selfId(state);
    const people = inSeatOrder(state.participants).filter((p) =>
      p.id !== me && !sitting.removed.includes(p.id) && p.role !== "clerk" && p.role !== "observer");
    const guests = people.filter((p) => !isMemberRole(p.role));
    const members = people.filter((p) => isMemberRole(p.role));
    const wanted = [...guests, ...members].map((p) => `${p.id}|${nameWithRole(state, p.id)}`).join("\n");
    if (this.callSelect.dataset.options === wanted) return;
    const chosen = this.callSelect.value || guests[0]?.id || "";
    this.callSelect.replaceChildren(...[...guests, ...members].map((p) =>
      new Option(nameWithRole(state, p.id), p.id, false, p.id === chosen)));
    this.callSelect.dataset.options = wanted;
  }
}

/**
 * @param {State} state
 * @returns {boolean}
 */
function online(state) {
  return state.connection === "connected";
}
