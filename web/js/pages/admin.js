/**
 * `/admin`: the clerk's page. Loads the overview, renders it (views/admin.js), and sends
 * every change with the session's CSRF token; a refusal shows the server's own words.
 */
import { t } from "../i18n.js";
import { api, whoAmI } from "../api.js";
import { confirmDialog, h, byId as $ } from "../views/dom.js";
import { bodyCard, meetingCard } from "../views/admin.js";
import { initPage, errorText, showProblem, announce } from "./page.js";

/**
 * @typedef {import("../views/admin.js").AdminBody} AdminBody
 * @typedef {import("../views/admin.js").AdminMeeting} AdminMeeting
 * @typedef {import("../views/admin.js").AdminMember} AdminMember
 */


let csrf = "";
let clerkName = "";
/** @typedef {{kind: "address" | "name", key: string, failures: number, seconds: number}} Lockout */
/** @type {{bodies: AdminBody[], meetings: AdminMeeting[], lockouts?: Lockout[]}} */
let overview = { bodies: [], meetings: [] };

/** @type {import("../views/admin.js").AdminActions} */
const actions = {
  openBoxes: new Set(),
  links: new Map(),
  enrol: (member) => run(async () => {
    const { link } = await post(`/api/admin/members/${member.id}/enrolment`);
    actions.links.set(member.id, link);
    announce(t("admin.done.link", { name: member.name }));
  }),
  revoke: async (member) => {
    const ok = await confirmDialog(() => ({
      title: t("admin.revoke.title", { name: member.name }), text: t("admin.revoke.text"),
      confirm: t("admin.member.revoke"), danger: true,
    }));
    if (ok === null) return;
    await run(async () => {
      await post(`/api/admin/members/${member.id}/revoke`);
      actions.links.delete(member.id);
      announce(t("admin.done.revoked", { name: member.name }));
    });
  },
  copy: async (link, button) => {
    try {
      await navigator.clipboard.writeText(link);
    } catch {
      const input = /** @type {HTMLInputElement | null} */ (button.parentElement?.querySelector("input"));
      input?.select();
      document.execCommand("copy");
    }
    button.textContent = t("admin.link.copied");
    announce(t("admin.link.copied"));
  },
  importRoster: (body) => (form) => submit(form, async (data) => {
    const { imported } = await post(`/api/admin/bodies/${body.id}/roster`, { csv: data.get("csv") || "" });
    return t("admin.done.roster", { n: imported, name: body.name });
  }),
  saveVocabulary: (body) => (form) => submit(form, async (data) => {
    const terms = String(data.get("terms") || "").split("\n").map((line) => line.trim()).filter(Boolean);
    const saved = await api("PUT", `/api/bodies/${body.id}/vocabulary`, { body: { terms }, csrf });
    return t("admin.done.vocabulary", { n: saved.terms.length, name: body.name });
  }),
  addItem: (meeting) => (form) => submit(form, async (data) => {
    await post(`/api/admin/meetings/${meeting.id}/agenda`, { title: data.get("title"), kind: data.get("kind") });
    return t("admin.done.item", { title: String(data.get("title")) });
  }),
  addParticipant: (meeting) => (form) => submit(form, async (data) => {
    await post(`/api/admin/meetings/${meeting.id}/participants`, {
      name: data.get("name"), reading: data.get("reading"), role: data.get("role"),
    });
    return t("admin.done.guest", { name: String(data.get("name")) });
  }),
};

/**
 * @param {string} path
 * @param {Record<string, any>} [body]
 * @returns {Promise<any>}
 */
function post(path, body = {}) {
  return api("POST", path, { body, csrf });
}

/**
 * Do one change, then show the fresh overview; a refusal goes to the page's alert.
 * @param {() => Promise<void>} change
 * @returns {Promise<void>}
 */
async function run(change) {
  showProblem($("admin-problem"), "");
  try {
    await change();
    await load();
  } catch (error) {
    showProblem($("admin-problem"), errorText(error));
  }
}

/**
 * Submit a form's change; its own alert shows a refusal, and its fields keep what was typed.
 * @param {HTMLFormElement} form
 * @param {(data: FormData) => Promise<string>} change returns the success message
 * @returns {Promise<void>}
 */
async function submit(form, change) {
  const problem = /** @type {HTMLElement} */ (form.querySelector(".problem"));
  showProblem(problem, "");
  try {
    const message = await change(new FormData(form));
    form.reset();
    announce(message);
    await load();
  } catch (error) {
    showProblem(problem, errorText(error));
  }
}

async function load() {
  overview = await api("GET", "/api/admin/overview");
  render();
}

function render() {
  $("admin-who").textContent = t("admin.who", { name: clerkName });
  const lockouts = overview.lockouts ?? [];
  const paused = $("admin-lockouts");
  paused.hidden = lockouts.length === 0;
  paused.replaceChildren(h("p", {}, t("admin.lockouts")), h("ul", {}, ...lockouts.map((l) =>
    h("li", {}, t(`admin.lockout.${l.kind}`, { key: l.key, n: l.failures, s: l.seconds })))));
  const meetings = $("meetings");
  meetings.replaceChildren(...(overview.meetings.length
    ? overview.meetings.map((m) => meetingCard(m, overview.bodies, actions))
    : [h("p", { class: "hint" }, t("admin.no_meetings"))]));
  $("bodies").replaceChildren(...overview.bodies.map((b) => bodyCard(b, actions)));
  const choose = /** @type {HTMLSelectElement} */ (document.querySelector("#meeting-form select[name=body_id]"));
  const chosen = choose.value;
  choose.replaceChildren(...overview.bodies.filter((b) => !b.rehearsal)
    .map((b) => new Option(b.name, b.id, false, b.id === chosen)));
}

async function start() {
  initPage(render);
  $("logout").addEventListener("click", async () => {
    try { await api("POST", "/api/logout", { csrf }); } catch { /* leaving anyway */ }
    location.replace("/login");
  });
  $("body-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = /** @type {HTMLFormElement} */ (event.target);
    submit(form, async (data) => {
      const { body } = await post("/api/admin/bodies", {
        name: data.get("name"), kind: data.get("kind"), fixed_membership: Number(data.get("fixed_membership")),
      });
      actions.openBoxes.add(`roster-${body.id}`); // the next step is its roster
      return t("admin.done.body", { name: body.name });
    });
  });
  $("meeting-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = /** @type {HTMLFormElement} */ (event.target);
    submit(form, async (data) => {
      const { meeting } = await post("/api/admin/meetings", {
        body_id: data.get("body_id"), title: data.get("title"),
        scheduled_at: data.get("scheduled_at"), place: data.get("place") || "",
      });
      actions.openBoxes.add(`item-${meeting.id}`); // the next step is its agenda
      return t("admin.done.meeting", { title: meeting.title });
    });
  });
  try {
    const me = await whoAmI();
    if (!me) {
      location.replace("/login");
      return;
    }
    if (me.account.kind !== "clerk") {
      showProblem($("admin-problem"), t("admin.clerk_only"));
      return;
    }
    csrf = me.csrf;
    clerkName = me.account.name;
    await load();
  } catch (error) {
    showProblem($("admin-problem"), errorText(error));
  }
}

start();
