/**
 * The clerk's page, DOM only: bodies with their members (passkey status, enrolment links,
 * roster import) and sittings (agenda items, presenters, a link to open the sitting).
 * The page script (pages/admin.js) loads the data and does the calls.
 */
import { t, language } from "../i18n.js";
import { h, button } from "./dom.js";
import { formatWhen } from "../pages/page.js";

/**
 * @typedef {{id: string, seat: number, name: string, reading: string, role: string, passkey: boolean}} AdminMember
 * @typedef {{id: string, name: string, kind: string, fixed_membership: number, rehearsal: boolean,
 *   vocabulary?: string[], members: AdminMember[],
 *   remote_permission?: {required: boolean, deadline_hours: number}}} AdminBody
 * @typedef {{id: string, body_id: string, title: string, state: string, scheduled_at: string, place: string}} AdminMeeting
 * @typedef {(form: HTMLFormElement) => Promise<void>} FormHandler
 * @typedef {object} AdminActions
 * @property {(member: AdminMember) => void} enrol issue a new enrolment link
 * @property {(member: AdminMember) => void} revoke revoke the member's passkeys
 * @property {(link: string, button: HTMLElement) => void} copy
 * @property {(body: AdminBody) => FormHandler} importRoster
 * @property {(body: AdminBody) => FormHandler} saveVocabulary
 * @property {(meeting: AdminMeeting) => FormHandler} addItem
 * @property {(meeting: AdminMeeting) => FormHandler} addParticipant
 * @property {Set<string>} openBoxes keys of the <details> the clerk has open
 * @property {Map<string, string>} links member id -> the link issued on this page
 */

const ITEM_KINDS = ["bill", "report", "petition", "general_question", "other"];
const GUEST_ROLES = ["presenter", "expert", "observer"];

/**
 * A <details> box with a form that stays open across re-renders.
 * @param {string} key
 * @param {string} summary
 * @param {string} testid
 * @param {FormHandler} handler
 * @param {AdminActions} actions
 * @param {...Node} fields
 * @returns {HTMLElement}
 */
function formBox(key, summary, testid, handler, actions, ...fields) {
  const problem = h("p", { class: "problem", role: "alert", hidden: true, "data-testid": `${testid}-problem` });
  const form = h("form", { class: "form", "data-testid": testid }, ...fields, problem,
    h("button", { type: "submit", class: "btn primary", "data-testid": `${testid}-submit` }, t("admin.save")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = /** @type {HTMLButtonElement} */ (form.querySelector("button[type=submit]"));
    submit.disabled = true;
    try {
      await handler(form);
    } finally {
      submit.disabled = false;
    }
  });
  const box = h("details", { class: "form-box", "data-key": key, open: actions.openBoxes.has(key) },
    h("summary", {}, summary), form);
  box.addEventListener("toggle", () => {
    if (/** @type {HTMLDetailsElement} */ (box).open) actions.openBoxes.add(key);
    else actions.openBoxes.delete(key);
  });
  return box;
}

/**
 * @param {string} label
 * @param {HTMLElement} control
 * @returns {HTMLElement}
 */
function field(label, control) {
  return h("label", { class: "field" }, h("span", {}, label), control);
}

/**
 * @param {string} name
 * @param {string[]} values
 * @param {(value: string) => string} labelOf
 * @param {string} testid
 * @returns {HTMLElement}
 */
function select(name, values, labelOf, testid) {
  return h("select", { class: "select", name, "data-testid": testid },
    ...values.map((v) => new Option(labelOf(v), v)));
}

/**
 * One body (council or committee) with its members.
 * @param {AdminBody} body
 * @param {AdminActions} actions
 * @returns {HTMLElement}
 */
export function bodyCard(body, actions) {
  const rows = body.members.map((m) => memberRows(m, actions)).flat();
  const table = body.members.length ? h("table", { class: "members", "data-testid": "members" },
    h("thead", {}, h("tr", {},
      ...["admin.member.seat", "admin.member.name", "admin.member.role", "admin.member.passkey", "admin.member.actions"]
        .map((k) => h("th", { scope: "col" }, t(k))))),
    h("tbody", {}, ...rows)) : h("p", { class: "hint" }, t("admin.body.no_members"));
  const csv = h("textarea", {
    class: "text-input csv", name: "csv", rows: 6, "data-testid": "roster-csv", spellcheck: "false",
    placeholder: "seat,name,reading,role\n1,山田 太郎,やまだ たろう,委員長",
  });
  // The browser's own file button speaks the browser's language: ours speaks the page's.
  const fileName = h("span", { class: "file-name" }, t("admin.roster.no_file"));
  const file = h("label", { class: "btn secondary file-button" },
    h("input", { type: "file", accept: ".csv,text/csv", class: "visually-hidden", "data-testid": "roster-file",
      onchange: async (/** @type {Event} */ event) => {
        const chosen = /** @type {HTMLInputElement} */ (event.target).files?.[0];
        if (!chosen) return;
        fileName.textContent = chosen.name;
        /** @type {HTMLTextAreaElement} */ (csv).value = (await chosen.text()).replace(/^\ufeff/, "");
      } }),
    t("admin.roster.choose"));
  return h("article", { class: "body-card", "data-testid": "body-card", "data-body-id": body.id },
    h("h3", {}, body.name, " ",
      h("span", { class: "chip" }, t(`admin.body.${body.kind}`)),
      body.rehearsal ? h("span", { class: "chip warn" }, t("admin.body.rehearsal")) : null),
    h("p", { class: "hint" }, t("admin.body.summary", { fixed: body.fixed_membership, n: body.members.length })),
    h("p", { class: "hint", "data-testid": "body-remote-rule" }, remoteRule(body)),
    table,
    formBox(`roster-${body.id}`, t("admin.roster.import"), "roster-form", actions.importRoster(body), actions,
      h("p", { class: "hint" }, t("admin.roster.help")),
      h("div", { class: "field" }, h("span", {}, t("admin.roster.file")), h("div", { class: "inline-form" }, file, fileName)),
      field(t("admin.roster.text"), csv)),
    vocabularyBox(body, actions));
}

/**
 * Whether remote attendance needs the chair's permission (set with `gikai body remote-permission`).
 * @param {AdminBody} body
 * @returns {string}
 */
function remoteRule(body) {
  const rule = body.remote_permission;
  if (!rule?.required) return t("admin.body.remote_free");
  return rule.deadline_hours ? t("admin.body.remote_by_permission_deadline", { hours: rule.deadline_hours })
    : t("admin.body.remote_by_permission");
}

/**
 * The body's words for automatic speech recognition: one per line, as the clerk wrote them.
 * @param {AdminBody} body
 * @param {AdminActions} actions
 * @returns {HTMLElement}
 */
function vocabularyBox(body, actions) {
  const terms = body.vocabulary ?? [];
  const text = h("textarea", {
    class: "text-input vocabulary", name: "terms", rows: 10, "data-testid": "vocabulary-terms", spellcheck: "false",
    placeholder: t("admin.vocabulary.placeholder"),
  });
  /** @type {HTMLTextAreaElement} */ (text).value = terms.join("\n");
  return formBox(`vocabulary-${body.id}`, t("admin.vocabulary.title", { n: terms.length }), "vocabulary-form",
    actions.saveVocabulary(body), actions,
    h("p", { class: "hint" }, t("admin.vocabulary.help")),
    field(t("admin.vocabulary.label"), text));
}

/**
 * A member's row, and under it the enrolment link issued just now (if any).
 * @param {AdminMember} m
 * @param {AdminActions} actions
 * @returns {HTMLElement[]}
 */
function memberRows(m, actions) {
  const row = h("tr", { "data-testid": "member-row", "data-member-id": m.id },
    h("td", { class: "num" }, String(m.seat)),
    h("td", {}, h("span", { class: "who" }, m.name), h("br"), h("small", {}, m.reading)),
    h("td", {}, t(`role.${m.role}`)),
    h("td", { "data-testid": "passkey-status" },
      m.passkey ? h("span", { class: "chip ok", "aria-label": t("admin.member.has_passkey") }, "✓ ", t("admin.member.yes"))
        : h("span", { class: "chip", "aria-label": t("admin.member.no_passkey") }, "— ", t("admin.member.no"))),
    h("td", {}, h("div", { class: "actions" },
      button(t("admin.member.enrol"), "issue-link", () => actions.enrol(m), { kind: "primary" }),
      m.passkey ? button(t("admin.member.revoke"), "revoke", () => actions.revoke(m), { kind: "danger-outline" }) : null)));
  const link = actions.links.get(m.id);
  if (!link) return [row];
  const input = h("input", { class: "text-input link", readonly: true, value: link, "data-testid": "enrol-link",
    "aria-label": t("admin.link.label", { name: m.name }), onfocus: (/** @type {Event} */ e) =>
      /** @type {HTMLInputElement} */ (e.target).select() });
  const copy = button(t("admin.link.copy"), "copy-link", () => actions.copy(link, copy));
  return [row, h("tr", { class: "link-row" }, h("td", { colspan: 5 },
    h("p", { class: "hint" }, t("admin.link.hint", { name: m.name })),
    h("div", { class: "inline-form" }, input, copy)))];
}

/**
 * One sitting with what the clerk prepares for it.
 * @param {AdminMeeting} meeting
 * @param {AdminBody[]} bodies
 * @param {AdminActions} actions
 * @returns {HTMLElement}
 */
export function meetingCard(meeting, bodies, actions) {
  const body = bodies.find((b) => b.id === meeting.body_id);
  return h("article", { class: "meeting-card", "data-testid": "admin-meeting", "data-meeting-id": meeting.id },
    h("h3", {}, meeting.title),
    h("p", {}, h("span", { class: "chip" }, t(`meeting_state.${meeting.state}`)), " ",
      [body?.name, formatWhen(meeting.scheduled_at, language()), meeting.place].filter(Boolean).join("・")),
    h("p", {}, h("a", { class: "btn primary", href: `/meeting/${encodeURIComponent(meeting.id)}`,
      "data-testid": "open-meeting" }, t("admin.meeting.open"))),
    h("div", { class: "box-row" },
      formBox(`item-${meeting.id}`, t("admin.item.add"), "item-form", actions.addItem(meeting), actions,
        field(t("admin.item.title"), h("input", { class: "text-input", name: "title", required: true, maxlength: 500,
          "data-testid": "item-title" })),
        field(t("admin.item.kind"), select("kind", ITEM_KINDS, (k) => t(`item.kind.${k}`), "item-kind"))),
      formBox(`guest-${meeting.id}`, t("admin.guest.add"), "guest-form", actions.addParticipant(meeting), actions,
        field(t("admin.guest.name"), h("input", { class: "text-input", name: "name", required: true, maxlength: 100,
          "data-testid": "guest-name" })),
        field(t("admin.guest.reading"), h("input", { class: "text-input", name: "reading", required: true,
          maxlength: 100, "data-testid": "guest-reading" })),
        field(t("admin.guest.role"), select("role", GUEST_ROLES, (r) => t(`role.${r}`), "guest-role")))));
}
