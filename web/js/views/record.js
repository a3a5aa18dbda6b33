/**
 * The sitting's attendance record (出席記録): every participant with the intervals they
 * attended, remote or in the chamber, start and end in local time; an open interval is
 * "出席中". Fetched with the `attendance` request when opened, and again (at most every few
 * seconds) when a `sitting` push reports an attendance change. Everyone may read it. DOM only.
 */
import { t } from "../i18n.js";
import { h, button } from "./dom.js";
import { inSeatOrder, person } from "../sitting.js";

/**
 * @typedef {import("../store.js").State} State
 * @typedef {{participant_id: string, mode: string, start: number, end: number | null}} Interval
 * @typedef {() => Promise<{intervals?: Interval[]}>} FetchAttendance
 */

const REFRESH_MS = 3000; // at most one fetch per this while changes keep coming
const CHANGES = new Set(["attendance_started", "attendance_ended"]);

/**
 * "09:05:03" in the screen's own time zone.
 * @param {number} ms Unix milliseconds
 * @returns {string}
 */
export function localTime(ms) {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}

export class AttendanceRecord {
  /** @param {FetchAttendance} fetchAttendance */
  constructor(fetchAttendance) {
    this.fetchAttendance = fetchAttendance;
    /** @type {Interval[] | null} */
    this.intervals = null;
    /** @type {State | null} */
    this.state = null;
    this.lastFetch = 0;
    /** @type {number | undefined} */
    this.pending = undefined;
    this.loading = false;
    this.failed = false;
    this.fetchedAt = 0;
    // The parts, made by build() (again after a language change).
    /** @type {HTMLElement} */ this.status;
    /** @type {HTMLTableElement} */ this.table;
    /** @type {HTMLButtonElement} */ this.refreshButton;
    /** @type {HTMLDetailsElement} */ this.el;
    this.build();
  }

  /** The fixed parts (again after a language change). */
  build() {
    this.status = h("p", { class: "hint record-status", "data-testid": "attendance-status", "aria-live": "polite" });
    this.table = h("table", { class: "record-table", "data-testid": "attendance-table" });
    this.refreshButton = button(t("record.refresh"), "attendance-refresh", () => this.load(), { kind: "secondary" });
    const summary = h("summary", { "data-testid": "attendance-open" },
      h("h3", { id: "record-title" }, t("record.title")));
    const el = h("details", {
      class: "panel-section record", "data-testid": "attendance-record", "aria-labelledby": "record-title",
    }, summary, h("div", { class: "record-body" }, this.status, this.table, this.refreshButton));
    if (this.el?.open) el.open = true;
    el.addEventListener("toggle", () => { if (el.open) this.load(); });
    this.el = el;
    this.renderTable();
  }

  /**
   * Names come from the state; the table is redrawn when they may have changed.
   * @param {State} state
   * @returns {void}
   */
  render(state) {
    const first = !this.state;
    this.state = state;
    if (first) this.renderTable();
  }

  /**
   * A `sitting` push arrived: fetch again if attendance changed and the record is open.
   * @param {{name: string}[]} events
   * @returns {void}
   */
  onEvents(events) {
    if (!this.el.open || !events.some((e) => CHANGES.has(e.name))) return;
    if (this.pending !== undefined) return; // a fetch is already planned
    const wait = Math.max(0, this.lastFetch + REFRESH_MS - Date.now());
    this.pending = window.setTimeout(() => { this.pending = undefined; this.load(); }, wait);
  }

  /** Fetch the intervals and redraw. */
  async load() {
    if (this.loading) return;
    this.loading = true;
    this.lastFetch = Date.now();
    if (this.intervals === null) this.status.textContent = t("record.loading");
    try {
      const data = await this.fetchAttendance();
      this.intervals = data.intervals || [];
      this.failed = false;
      this.fetchedAt = Date.now();
    } catch {
      this.failed = true;
    } finally {
      this.loading = false;
    }
    this.renderTable();
  }

  renderTable() {
    if (this.failed) this.status.textContent = t("record.failed");
    else if (this.intervals === null) this.status.textContent = "";
    else if (!this.intervals.length) this.status.textContent = t("record.empty");
    else this.status.textContent = t("record.updated", { time: localTime(this.fetchedAt) });
    if (!this.intervals?.length || !this.state) {
      this.table.replaceChildren();
      this.table.hidden = true;
      return;
    }
    const state = this.state;
    /** @type {Map<string, Interval[]>} */
    const byPerson = new Map();
    for (const i of this.intervals) {
      const list = byPerson.get(i.participant_id) || [];
      list.push(i);
      byPerson.set(i.participant_id, list);
    }
    const order = inSeatOrder(state.participants).map((p) => p.id).filter((id) => byPerson.has(id));
    for (const id of byPerson.keys()) if (!order.includes(id)) order.push(id);
    const head = h("thead", {}, h("tr", {},
      ...["record.who", "record.mode", "record.start", "record.end"].map((k) => h("th", { scope: "col" }, t(k)))));
    const bodies = order.map((id) => {
      const list = /** @type {Interval[]} */ (byPerson.get(id)).slice().sort((a, b) => a.start - b.start);
      return h("tbody", { "data-testid": "attendance-person", "data-participant-id": id },
        ...list.map((i, n) => h("tr", {
          "data-testid": "attendance-interval", "data-ongoing": String(i.end === null),
        },
        n === 0 ? h("th", { scope: "rowgroup", rowspan: list.length, class: "who" }, person(state, id).name) : null,
        h("td", {}, t(`record.mode.${i.mode}`)),
        h("td", { class: "time" }, localTime(i.start)),
        i.end === null
          ? h("td", { class: "time ongoing" }, h("span", { class: "chip ongoing" }, t("record.ongoing")))
          : h("td", { class: "time" }, localTime(i.end)))));
    });
    this.table.replaceChildren(head, ...bodies);
    this.table.hidden = false;
  }
}
