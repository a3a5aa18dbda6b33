/**
 * The sitting panel of the meeting screen: the state of the sitting, who has the floor
 * and for how long, whether my microphone is heard, my own request for the floor, and
 * the lists (queue, agenda; the chair's console; the clerk's roster). DOM only: it is
 * told the state and reports what the member asks for through `command`.
 */
import { t, pick } from "../i18n.js";
import { h, button, replaceKeepingFocus, confirmDialog } from "./dom.js";
import { ChairControls } from "./console.js";
import { QuorumAlarm } from "./quorum.js";
import { AttendanceRecord } from "./record.js";
import { BallotCard } from "./ballot.js";
import { BallotConsole } from "./ballotconsole.js";
import { AmendmentsPanel } from "./amendments.js";
import { MotionsPanel } from "./motions.js";
import { MyStatus } from "./mystatus.js";
import { FloorRequestBlock } from "./request.js";
import { RemoteAttendance } from "./remote.js";
import { sittingNews, ballotNewsText } from "./announce.js";
import { chime, chimeOn, setChime } from "../chime.js";
import { queueItems, agendaItems, quorumParts, rosterItems, nameWithRole } from "./lists.js";
import { isPresiding, holdsFloor, remainingMs, timerPhase, clock, selfId } from "../sitting.js";

/**
 * @typedef {import("../store.js").State} State
 * @typedef {import("./lists.js").Command} Command
 * @typedef {import("./announce.js").SittingEvent} SittingEvent
 * @typedef {object} SittingCallbacks
 * @property {Command} command send a sitting command; resolves true when accepted
 * @property {() => void} dismissError
 * @property {import("./record.js").FetchAttendance} attendance the sitting's attendance intervals
 * @property {import("./ballotconsole.js").BallotAction} ballot the chair's ballot actions
 * @property {(ballotId: string) => void} showResult show an announced result large
 */

/** Choices offered when the chair records a decision; any short text is allowed. */
const RESULT_CHOICES = ["result.adopted", "result.rejected", "result.amended", "result.continued", "result.noted"];

export class SittingView {
  /**
   * @param {HTMLElement} root the panel element (empty)
   * @param {SittingCallbacks} callbacks
   */
  constructor(root, callbacks) {
    this.root = root;
    this.callbacks = callbacks;
    /** @type {State | null} */
    this.state = null;
    this.listKey = "";
    this.timerText = "";
    /** @type {import("./lists.js").ListActions} */
    this.actions = {
      command: (name, fields) => this.callbacks.command(name, fields),
      decide: (itemId, title) => this.decide(itemId, title),
      remove: (participantId, name) => this.remove(participantId, name),
    };
    this.quorumAlarm = new QuorumAlarm();
    this.record = new AttendanceRecord(() => this.callbacks.attendance());
    // The panel's parts, made by build() (again after a language change).
    /** @type {HTMLElement} */ this.stateBadge;
    /** @type {HTMLElement} */ this.currentItem;
    /** @type {HTMLElement} */ this.floorWho;
    /** @type {HTMLElement} */ this.floorTimer;
    /** @type {HTMLButtonElement} */ this.endOwn;
    /** @type {ChairControls} */ this.chair;
    /** @type {BallotCard} */ this.ballotCard;
    /** @type {BallotConsole} */ this.ballotConsole;
    /** @type {RemoteAttendance} */ this.remote;
    /** @type {AmendmentsPanel} */ this.amendments;
    /** @type {MotionsPanel} */ this.motions;
    /** @type {HTMLElement} */ this.floorBox;
    /** @type {MyStatus} */ this.my;
    /** @type {FloorRequestBlock} */ this.request;
    /** @type {HTMLElement} */ this.errorText;
    /** @type {HTMLElement} */ this.errorBanner;
    /** @type {HTMLElement} */ this.announcer;
    /** @type {HTMLElement} */ this.queueList;
    /** @type {HTMLElement} */ this.queueNote;
    /** @type {HTMLElement} */ this.agendaList;
    /** @type {HTMLElement} */ this.quorumBox;
    /** @type {HTMLElement} */ this.rosterList;
    /** @type {HTMLElement} */ this.queueSection;
    /** @type {HTMLElement} */ this.agendaSection;
    /** @type {HTMLElement} */ this.quorumSection;
    /** @type {HTMLElement} */ this.rosterSection;
    /** @type {HTMLElement} */ this.more;
    /** @type {HTMLElement} */ this.now;
    /** @type {HTMLButtonElement} */ this.chimeButton;
    /** @type {Set<string>} the requests this screen has shown (to bring a new one into view) */
    this.seenRequests = new Set();
    this.newestRequest = "";
    this.queueShown = false; // the first list shown is no news
    // A turned tablet or a panel that grows or shrinks keeps the newest request in view.
    this.queueResize = new ResizeObserver(() => this.revealNewest());
    /** @type {string} */ this.arranged;
    this.build();
  }

  /** Create the panel's fixed parts (again after a language change). */
  build() {
    this.listKey = "";
    this.timerText = "";
    this.stateBadge = h("span", { class: "state-badge", "data-testid": "sitting-state" });
    this.currentItem = h("p", { class: "current-item", "data-testid": "current-item" });
    this.floorWho = h("p", { class: "floor-who", "data-testid": "floor-holder" });
    this.floorTimer = h("p", { class: "floor-timer", role: "timer", "data-testid": "floor-timer" });
    this.endOwn = button(t("member.end_speech"), "end-own-speech", () => this.callbacks.command("end_speech"),
      { kind: "primary big" });
    this.chair = new ChairControls((name, fields) => this.callbacks.command(name, fields));
    this.ballotCard = new BallotCard((ballotId) => this.callbacks.showResult(ballotId));
    this.ballotConsole = new BallotConsole((action, fields) => this.callbacks.ballot(action, fields));
    this.amendments = new AmendmentsPanel(this.callbacks.command, (action, fields) => this.callbacks.ballot(action, fields));
    this.motions = new MotionsPanel(this.callbacks.command, (action, fields) => this.callbacks.ballot(action, fields));
    this.remote = new RemoteAttendance((name, fields) => this.callbacks.command(name, fields));
    this.floorBox = h("div", { class: "floor-box", "data-testid": "floor" },
      this.floorWho, this.floorTimer, this.endOwn, this.chair.floorControls);
    this.my = new MyStatus();

    // The kind chosen before a language change is kept.
    this.request = new FloorRequestBlock((name, fields) => this.callbacks.command(name, fields),
      this.request ? this.request.requestKind : "speech");

    this.errorText = h("p", { class: "error-text" });
    this.errorBanner = h("div", { class: "command-error", role: "alert", "data-testid": "command-error" },
      this.errorText, button(t("common.close"), "command-error-close", () => this.callbacks.dismissError()));
    this.announcer = h("p", { class: "visually-hidden", "aria-live": "polite", "data-testid": "announce" });

    this.queueList = h("ol", { class: "rows", "data-testid": "queue" });
    this.queueResize.disconnect();
    this.queueResize.observe(this.queueList);
    this.queueNote = h("p", { class: "hint", "data-testid": "queue-note" });
    this.agendaList = h("ol", { class: "rows", "data-testid": "agenda" });
    this.quorumBox = h("div", { class: "quorum", "data-testid": "quorum" });
    this.rosterList = h("ul", { class: "rows", "data-testid": "roster" });
    const section = (/** @type {string} */ id, /** @type {string} */ title, /** @type {Node[]} */ ...body) =>
      h("section", { class: "panel-section", "aria-labelledby": id }, h("h3", { id }, title), ...body);
    this.chimeButton = button("", "chime-toggle", () => {
      setChime(!chimeOn());
      this.renderChime();
    }, { pressed: chimeOn() });
    this.queueSection = h("section", { class: "panel-section", "aria-labelledby": "queue-title" },
      h("div", { class: "queue-head" }, h("h3", { id: "queue-title" }, t("sitting.queue.title")), this.chimeButton),
      this.queueNote, this.queueList);
    this.renderChime();
    this.agendaSection = section("agenda-title", t("sitting.agenda.title"), this.agendaList);
    this.quorumSection = section("quorum-title", t("quorum.title"), this.quorumBox);
    this.rosterSection = section("roster-title", t("roster.title"), this.rosterList);
    this.more = h("div", { class: "sitting-more", "data-testid": "sitting-more" });
    // The part that never scrolls away: the state, the floor and what this screen acts on now.
    this.now = h("div", { class: "sitting-now", "data-testid": "sitting-now" });
    this.queueSection.classList.add("queue-region");

    this.root.replaceChildren(this.now, this.more, this.announcer, this.quorumAlarm.announcer);
    this.arranged = "";
  }

  /**
   * Put the parts in the order that suits this screen's role. The chair's upper part holds
   * the floor and the speaker queue (許可 without scrolling); ballots, the quorum, the agenda
   * and the roster scroll below it. A member's upper part holds the floor and 発言を求める.
   * @param {"chair" | "clerk" | "other"} who
   * @returns {void}
   */
  arrange(who) {
    if (this.arranged === who) return;
    this.arranged = who;
    const c = this.chair;
    const head = [h("h2", { class: "visually-hidden", id: "sitting-heading" }, t("sitting.title")),
      this.quorumAlarm.banner, h("div", { class: "sitting-head" }, this.stateBadge, this.currentItem)];
    const now = {
      chair: [...head, c.fixed, this.my.presence, this.floorBox, this.errorBanner, this.remote.deskEl, this.queueSection],
      clerk: [...head, this.floorBox, this.my.mic, this.errorBanner, this.remote.deskEl],
      other: [...head, this.remote.el, this.my.presence, this.floorBox, this.my.mic, this.request.el, this.errorBanner],
    }[who];
    const more = {
      chair: [this.ballotConsole.el, this.amendments.el, this.motions.el, c.rollCall.el, c.signers.el, this.quorumSection,
        this.agendaSection, c.callSection, c.audioSection, this.rosterSection, this.record.el],
      clerk: [this.ballotConsole.el, this.amendments.el, this.motions.el, this.quorumSection, this.rosterSection, this.record.el, this.queueSection,
        this.agendaSection],
      other: [this.ballotCard.el, this.queueSection, this.amendments.el, this.motions.el, this.agendaSection, this.record.el],
    }[who];
    this.chimeButton.hidden = who !== "chair";
    this.now.replaceChildren(...now);
    this.more.replaceChildren(...more);
  }

  /**
   * @param {State} state
   * @returns {void}
   */
  render(state) {
    this.state = state;
    const sitting = state.sitting;
    this.root.hidden = !sitting;
    if (!sitting) return;
    const presiding = isPresiding(state);
    const clerk = state.self?.role === "clerk";
    const who = presiding ? "chair" : clerk ? "clerk" : "other";
    this.arrange(who);
    this.root.dataset.role = who;
    const online = state.connection === "connected";
    this.root.dataset.online = String(online);

    this.stateBadge.textContent = t(`meeting_state.${sitting.state}`);
    this.stateBadge.dataset.state = sitting.state;
    const current = sitting.agenda.find((i) => i.id === sitting.current_item_id);
    this.currentItem.textContent = current ? current.title : t("sitting.no_item");
    this.currentItem.classList.toggle("none", !current);

    this.renderFloor(state, online);
    this.my.render(state);
    this.quorumAlarm.render(state, who !== "other");
    this.record.render(state);
    this.ballotCard.render(state);
    if (who !== "other") this.ballotConsole.render(state, presiding);
    this.amendments.render(state, who);
    this.motions.render(state, who);
    this.request.render(state, presiding, online);
    this.remote.render(state, who, online);
    this.chair.fixed.hidden = !presiding;
    this.chair.floorControls.hidden = !presiding || !sitting.floor;
    if (presiding) this.chair.render(state);

    this.errorBanner.hidden = !state.commandError;
    if (state.commandError) {
      this.errorText.textContent = pick(state.commandError.message) || state.commandError.code;
    }

    const key = JSON.stringify([{ ...sitting, server_now: 0, floor: sitting.floor?.holder_id },
      state.participants.length, selfId(state), who, online]);
    if (key !== this.listKey) {
      this.listKey = key;
      this.renderLists(state, who, online);
    }
    this.tick();
  }

  /**
   * @param {State} state
   * @param {boolean} online
   * @returns {void}
   */
  renderFloor(state, online) {
    const floor = /** @type {NonNullable<State["sitting"]>} */ (state.sitting).floor;
    const mine = holdsFloor(state);
    this.floorBox.classList.toggle("mine", mine);
    this.floorBox.classList.toggle("empty", !floor);
    this.endOwn.hidden = !mine;
    /** @type {HTMLButtonElement} */ (this.endOwn).disabled = !online;
    this.floorTimer.hidden = !floor;
    if (!floor) {
      this.floorWho.replaceChildren(t("sitting.floor.none"));
    } else if (mine) {
      this.floorWho.replaceChildren(h("strong", { "data-testid": "you-have-floor" }, t("sitting.floor.you")),
        h("span", { class: "chip kind" }, t(`speech.${floor.kind}`)));
    } else {
      this.floorWho.replaceChildren(h("span", { class: "label" }, t("sitting.floor.label")),
        h("strong", {}, nameWithRole(state, floor.holder_id)),
        h("span", { class: "chip kind" }, t(`speech.${floor.kind}`)));
    }
  }

  /**
   * @param {State} state
   * @param {"chair" | "clerk" | "other"} who
   * @param {boolean} online
   * @returns {void}
   */
  renderLists(state, who, online) {
    const chair = who === "chair";
    const sitting = /** @type {NonNullable<State["sitting"]>} */ (state.sitting);
    replaceKeepingFocus(this.queueList, queueItems(state, chair, this.actions));
    if (chair) this.showNewestRequest(sitting);
    this.queueNote.hidden = !(chair && sitting.floor && sitting.queue.requests.length);
    this.queueNote.textContent = t("chair.queue_note");
    replaceKeepingFocus(this.agendaList, agendaItems(state, chair, this.actions));
    if (who !== "other") {
      this.quorumBox.replaceChildren(...quorumParts(state));
      replaceKeepingFocus(this.rosterList, rosterItems(state, who, this.actions));
    }
    // While reconnecting the lists stay readable, but nothing can be sent.
    if (!online) {
      for (const b of this.more.querySelectorAll(".rows button")) /** @type {HTMLButtonElement} */ (b).disabled = true;
    }
  }

  /**
   * The chair's queue scrolls on its own: a request that has just arrived is brought into
   * view there (and only there: the page itself never moves).
   * @param {NonNullable<State["sitting"]>} sitting
   * @returns {void}
   */
  showNewestRequest(sitting) {
    const fresh = sitting.queue.requests.filter((r) => !this.seenRequests.has(r.id));
    this.seenRequests = new Set(sitting.queue.requests.map((r) => r.id));
    // A request that arrives while the chair watches: a chime (unless turned off) and 新着.
    if (fresh.length && this.queueShown) chime();
    this.queueShown = true;
    if (fresh.length) this.newestRequest = fresh[fresh.length - 1].id;
    const row = this.queueList.querySelector(`[data-request-id="${CSS.escape(this.newestRequest)}"]`);
    if (row && this.newestRequest && sitting.queue.requests.length > 1) {
      row.classList.add("new");
      row.querySelector(".row-text")?.append(h("span", { class: "chip new", "data-testid": "new-request" }, t("chair.new_request")));
    }
    this.revealNewest();
  }

  /** The chime's switch says whether it is on. */
  renderChime() {
    const on = chimeOn();
    this.chimeButton.setAttribute("aria-pressed", String(on));
    this.chimeButton.textContent = t(on ? "chair.chime.on" : "chair.chime.off");
  }

  /** Scroll the chair's queue (not the page) so that the newest request's row is in view. */
  revealNewest() {
    const row = /** @type {HTMLElement | null} */ (
      this.queueList.querySelector(`[data-request-id="${CSS.escape(this.newestRequest)}"]`));
    if (!row || this.arranged !== "chair") return;
    const list = this.queueList; // positioned (sitting.css): offsetTop is within the list
    const top = row.offsetTop;
    if (top < list.scrollTop) list.scrollTop = top;
    else if (top + row.offsetHeight > list.scrollTop + list.clientHeight) {
      list.scrollTop = top + row.offsetHeight - list.clientHeight;
    }
  }

  /** Update the speech timer; called a few times a second. */
  tick() {
    const state = this.state;
    const sitting = state?.sitting;
    if (!state || !sitting || !sitting.floor) return;
    const left = /** @type {number} */ (remainingMs(sitting, state.clockOffset, Date.now()));
    const phase = timerPhase(left, sitting.warning_seconds);
    const key = phase === "overrun" ? "sitting.timer.overrun" : phase === "warning" ? "sitting.timer.warning" : "sitting.timer.left";
    const text = t(key, { time: clock(left) });
    if (text === this.timerText && this.floorBox.dataset.phase === phase) return;
    this.timerText = text;
    this.floorBox.dataset.phase = phase;
    this.floorTimer.textContent = text;
  }

  /**
   * @param {string} itemId
   * @param {string} title
   */
  async decide(itemId, title) {
    const result = await confirmDialog(() => ({
      title: t("chair.decide_dialog.title"), text: title, confirm: t("chair.decide_dialog.confirm"),
      input: { label: t("chair.decide_dialog.label"), choices: RESULT_CHOICES.map((k) => t(k)) },
    }));
    if (result) await this.callbacks.command("decide", { item_id: itemId, result });
  }

  /**
   * @param {string} participantId
   * @param {string} name
   */
  async remove(participantId, name) {
    const ok = await confirmDialog(() => ({
      title: t("chair.remove_confirm.title", { name }), text: t("chair.remove_confirm.text"),
      confirm: t("chair.remove"), danger: true,
    }));
    if (ok !== null) await this.callbacks.command("remove", { participant_id: participantId });
  }

  /**
   * Say what just happened, for screen readers (the panel shows it too).
   * @param {SittingEvent[]} events
   * @returns {void}
   */
  announce(events) {
    const state = this.state;
    if (!state || !events?.length) return;
    this.record.onEvents(events);
    const text = sittingNews(state, events);
    if (text) this.announcer.textContent = text;
  }

  /**
   * Say what just happened to the ballot (opened, closed, decided, announced).
   * @param {import("../signaling.js").Ballot | null} before
   * @param {import("../signaling.js").Ballot | null} after
   * @returns {void}
   */
  announceBallot(before, after) {
    const text = this.state ? ballotNewsText(this.state, before, after) : "";
    if (text) this.announcer.textContent = text;
  }

  /** Rebuild every text after a language change. */
  retranslate() {
    this.record.build();
    this.build();
    if (this.state) this.render(this.state);
  }
}
