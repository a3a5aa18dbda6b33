/**
 * Remote attendance by the chair's permission (遠隔出席の許可), in the sitting panel.
 *
 * A member sees, before the sitting opens, one big button 「遠隔で出席を申し出る」; it opens a
 * dialog with the reasons as big choices and 「その他」 with a text field. Then the member sees
 * the application's state, and, attending remotely without permission, that they only watch.
 * The chair and the clerk see the applications and permit or refuse each (a refusal asks for
 * its reason). Shown only where the body's rules require permission. DOM only.
 */
import { t, onLanguageChange } from "../i18n.js";
import { h, button, confirmDialog } from "./dom.js";
import { isMemberRole, isPresiding, selfId, person, attendanceOf } from "../sitting.js";

/**
 * @typedef {import("../store.js").State} State
 * @typedef {import("./lists.js").Command} Command
 * @typedef {import("../signaling.js").RemoteApplication} RemoteApplication
 */

/** The reasons, in the order shown (remote_permission.RemoteReason's values). */
export const REMOTE_REASONS = ["childcare", "nursing_care", "illness", "childbirth", "disaster", "infection", "other"];

/**
 * Whether I attend remotely without the permission the rules require: I only watch.
 * @param {State} state
 * @returns {boolean}
 */
export function watchOnly(state) {
  return !!state.sitting?.remote?.watch_only.includes(selfId(state));
}

/**
 * @param {RemoteApplication} a
 * @returns {string}
 */
function reasonText(a) {
  return a.reason === "other" ? a.reason_text : t(`remote.reason.${a.reason}`);
}

export class RemoteAttendance {
  /** @param {Command} command send a sitting command; resolves true when accepted */
  constructor(command) {
    this.command = command;
    this.applyButton = button(t("remote.apply"), "remote-apply", () => this.apply(), { kind: "primary big" });
    this.memberText = h("p", { class: "remote-text", "data-testid": "remote-state" });
    this.deadline = h("p", { class: "hint", "data-testid": "remote-deadline" });
    /** The member's card: the rule, the button or the application's state. */
    this.memberEl = h("section", { class: "remote-card", "data-testid": "remote-card", "aria-labelledby": "remote-title" },
      h("h3", { id: "remote-title" }, t("remote.title")), this.memberText, this.deadline, this.applyButton);
    /** Attending remotely without permission: impossible to miss. */
    this.watchEl = h("p", { class: "remote-watch-only", role: "status", "data-testid": "remote-watch-only" },
      t("remote.watch_only"));
    /** What a member sees: the card above the notice. */
    this.el = h("div", { class: "remote-member" }, this.memberEl, this.watchEl);
    this.deskList = h("ul", { class: "rows remote-desk-list", "data-testid": "remote-desk-list" });
    this.decidedList = h("ul", { class: "rows remote-desk-list", "data-testid": "remote-decided-list" });
    this.decidedSummary = h("summary", {});
    this.decided = h("details", { class: "remote-decided" }, this.decidedSummary, this.decidedList);
    /** The chair's and the clerk's desk: pending applications with their two buttons; the
     * decided ones folded away below (the chair's part of the panel that never scrolls). */
    this.deskEl = h("section", { class: "panel-section remote-desk", "data-testid": "remote-desk",
      "aria-labelledby": "remote-desk-title" }, h("h3", { id: "remote-desk-title" }, t("remote.desk.title")),
    this.deskList, this.decided);
    this.deskKey = "";
  }

  /**
   * @param {State} state
   * @param {"chair" | "clerk" | "other"} who
   * @param {boolean} online
   * @returns {void}
   */
  render(state, who, online) {
    const sitting = /** @type {NonNullable<State["sitting"]>} */ (state.sitting);
    const remote = sitting.remote;
    const me = selfId(state);
    const required = !!remote?.requires_permission;
    const mine = remote?.applications.find((a) => a.member_id === me);
    const member = isMemberRole(state.self?.role) && !isPresiding(state);
    this.watchEl.hidden = !required || !watchOnly(state);
    // Before the opening: to a member not in the chamber, or who applied. Once open, the card
    // keeps its place only while the answer matters (pending, refused): the floor comes first.
    const showCard = required && member && (remote.open_for_applications
      ? !!mine || attendanceOf(sitting, me) !== "in_room" : !!mine && mine.state !== "permitted");
    this.memberEl.hidden = !showCard;
    if (showCard) {
      const canApply = !mine && remote.open_for_applications;
      this.applyButton.hidden = !canApply;
      this.applyButton.disabled = !online;
      this.memberEl.dataset.state = mine ? mine.state : "none";
      this.memberText.textContent = !mine ? t("remote.needs_permission")
        : mine.state === "pending" ? t("remote.state.pending", { reason: reasonText(mine) })
          : mine.state === "permitted" ? t("remote.state.permitted")
            : t("remote.state.refused", { reason: mine.refusal_reason });
      this.deadline.hidden = !canApply || !remote.deadline;
      if (remote.deadline) {
        this.deadline.textContent = t("remote.deadline", { time: new Date(remote.deadline).toLocaleString() });
      }
    }
    const desk = required && who !== "other" && remote.applications.length > 0;
    this.deskEl.hidden = !desk;
    const key = JSON.stringify([remote?.applications, online, t("remote.permit")]);
    if (desk && key !== this.deskKey) {
      this.deskKey = key;
      const rows = this.deskRows(state, online);
      const pending = rows.filter((r) => r.dataset.state === "pending");
      const decided = rows.filter((r) => r.dataset.state !== "pending");
      this.deskList.replaceChildren(...pending);
      this.deskList.hidden = !pending.length;
      this.decidedList.replaceChildren(...decided);
      this.decided.hidden = !decided.length;
      this.decidedSummary.textContent = t("remote.desk.decided", { n: decided.length });
    }
  }

  /**
   * One row per application: pending ones with 許可する and 許可しない.
   * @param {State} state
   * @param {boolean} online
   * @returns {HTMLElement[]}
   */
  deskRows(state, online) {
    const apps = /** @type {RemoteApplication[]} */ (state.sitting?.remote?.applications || []);
    return apps.map((a) => {
      const name = person(state, a.member_id).name;
      const status = t(`remote.desk.${a.state}`) + (a.on_behalf_of_chair ? `(${t("remote.desk.by_clerk")})` : "");
      const buttons = a.state !== "pending" ? null : h("div", { class: "button-row" },
        button(t("remote.permit"), "remote-permit", () => this.command("remote_permit", { application_id: a.id }),
          { kind: "primary", disabled: !online }),
        button(t("remote.refuse"), "remote-refuse", () => this.refuse(a.id, name),
          { kind: "danger-outline", disabled: !online }));
      return h("li", { class: `row remote-row state-${a.state}`, "data-testid": "remote-application",
        "data-member-id": a.member_id, "data-state": a.state },
      h("div", { class: "row-text" }, h("strong", {}, name),
        h("span", { class: "remote-reason" }, reasonText(a)),
        h("span", { class: `chip remote-${a.state}` }, status),
        a.refusal_reason ? h("span", { class: "hint" }, a.refusal_reason) : null),
      buttons);
    });
  }

  /**
   * @param {string} applicationId
   * @param {string} name
   */
  async refuse(applicationId, name) {
    const reason = await confirmDialog(() => ({
      title: t("remote.refuse_dialog.title", { name }), confirm: t("remote.refuse"), danger: true,
      input: { label: t("remote.refuse_dialog.label") },
    }));
    if (reason) await this.command("remote_refuse", { application_id: applicationId, reason });
  }

  /** The member's application: a reason from big choices, 「その他」 with its text. */
  async apply() {
    const choice = await reasonDialog();
    if (choice) await this.command("remote_apply", choice);
  }
}

/**
 * A dialog with the reasons as big buttons; 「その他」 shows a text field that must be filled.
 * Resolves with the reason and text, or null when cancelled.
 * @returns {Promise<{reason: string, text: string} | null>}
 */
function reasonDialog() {
  const opener = /** @type {HTMLElement | null} */ (document.activeElement);
  let chosen = "";
  const title = h("h2", { id: "remote-dialog-title" });
  const lead = h("p", { class: "dialog-text" });
  const other = h("input", { type: "text", class: "text-input", "data-testid": "remote-other-text", maxlength: 500,
    autocomplete: "off" });
  const otherLabel = h("span", {});
  const otherField = h("label", { class: "field remote-other", hidden: true }, otherLabel, other);
  const choices = h("div", { class: "remote-reasons", role: "group", "aria-labelledby": "remote-dialog-title" });
  const dialog = h("dialog", { class: "confirm remote-dialog", "data-testid": "remote-dialog",
    "aria-labelledby": "remote-dialog-title" });
  return new Promise((resolve) => {
    /** @param {{reason: string, text: string} | null} result */
    const finish = (result) => {
      stop();
      dialog.close();
      dialog.remove();
      opener?.focus?.({ preventScroll: true });
      resolve(result);
    };
    const send = button("", "remote-send", () => {
      if (chosen === "other" && !other.value.trim()) {
        other.focus();
        return;
      }
      finish({ reason: chosen, text: chosen === "other" ? other.value.trim() : "" });
    }, { kind: "primary big", disabled: true });
    const cancel = button("", "remote-cancel", () => finish(null), { kind: "secondary big" });
    const fill = () => {
      title.textContent = t("remote.dialog.title");
      lead.textContent = t("remote.dialog.text");
      otherLabel.textContent = t("remote.dialog.other_label");
      send.textContent = t("remote.dialog.send");
      cancel.textContent = t("common.cancel");
      choices.replaceChildren(...REMOTE_REASONS.map((reason) => {
        const b = button(t(`remote.reason.${reason}`), `remote-reason-${reason}`, () => {
          chosen = reason;
          for (const c of choices.children) c.setAttribute("aria-pressed", String(c === b));
          otherField.hidden = reason !== "other";
          send.disabled = false;
          if (reason === "other") other.focus();
        }, { kind: "secondary big", pressed: reason === chosen });
        return b;
      }));
    };
    fill();
    const stop = onLanguageChange(fill);
    dialog.append(title, lead, choices, otherField, h("div", { class: "dialog-buttons" }, cancel, send));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(null);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
