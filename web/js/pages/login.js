/**
 * `/login`: members log in with their passkey and see their meetings; the clerk logs in
 * with a name and password and goes to `/admin`.
 */
import { t, language } from "../i18n.js";
import { api, whoAmI, ApiError } from "../api.js";
import { requestOptions, credentialJSON, passkeysAvailable, ceremonyProblem } from "../webauthn.js";
import { h, byId as $ } from "../views/dom.js";
import { initPage, errorText, showProblem, announce, formatWhen, nextPage } from "./page.js";

/**
 * @typedef {{id: string, title: string, state: string, scheduled_at: string, place?: string}} MeetingSummary
 * @typedef {{account: {id: string, kind: string, name: string, member_id: string|null}, csrf: string}} Me
 */


/** @type {Me | null} */
let me = null;
/** @type {MeetingSummary[]} */
let meetings = [];

/**
 * Log in with a passkey: options from the server, the tablet asks for the fingerprint,
 * face or PIN, the server verifies the signed answer.
 * @returns {Promise<void>}
 */
async function passkeyLogin() {
  const button = /** @type {HTMLButtonElement} */ ($("passkey-login"));
  const problem = $("passkey-problem");
  showProblem(problem, "");
  if (!passkeysAvailable()) {
    showProblem(problem, t("login.problem.unsupported"));
    return;
  }
  button.disabled = true;
  announce(t("login.checking"));
  try {
    const { ceremony, options } = await api("POST", "/api/passkey/options", { body: {} });
    const credential = /** @type {PublicKeyCredential | null} */ (
      await navigator.credentials.get({ publicKey: requestOptions(options) }));
    if (!credential) throw new DOMException("no credential", "NotAllowedError");
    me = await api("POST", "/api/passkey/verify", { body: { ceremony, credential: credentialJSON(credential) } });
    const next = nextPage();
    if (next) {
      location.assign(next);
      return;
    }
    announce(t("login.done", { name: me?.account.name || "" }));
    await showMeetings();
  } catch (error) {
    announce("");
    showProblem(problem, error instanceof ApiError ? errorText(error) : t(`login.problem.${ceremonyProblem(error)}`));
  } finally {
    button.disabled = false;
  }
}

/**
 * @param {SubmitEvent} event
 * @returns {Promise<void>}
 */
async function clerkLogin(event) {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ (event.target);
  const data = new FormData(form);
  const problem = $("clerk-problem");
  showProblem(problem, "");
  try {
    await api("POST", "/api/login", { body: { username: data.get("username"), password: data.get("password") } });
    location.assign("/admin");
  } catch (error) {
    showProblem(problem, errorText(error));
  }
}

/**
 * The meetings this account may join, each with a big "join" link.
 * @returns {Promise<void>}
 */
async function showMeetings() {
  try {
    meetings = (await api("GET", "/api/meetings")).meetings || [];
    showProblem($("meetings-problem"), "");
  } catch (error) {
    showProblem($("meetings-problem"), errorText(error));
  }
  $("passkey-section").hidden = true;
  $("clerk-section").hidden = true;
  $("meetings-section").hidden = false;
  render();
  $("meetings-title").focus({ preventScroll: true });
}

/** Text built here, again after a language change. */
function render() {
  if (!me) return;
  $("logged-in-as").textContent = t("login.as", { name: me.account.name });
  $("admin-link").hidden = me.account.kind !== "clerk";
  const list = $("meeting-list");
  if (!meetings.length) {
    list.replaceChildren(h("li", { class: "empty" }, t("login.no_meetings")));
    return;
  }
  list.replaceChildren(...meetings.map((m) => {
    const when = [formatWhen(m.scheduled_at, language()), m.place || ""].filter(Boolean).join("・");
    return h("li", { class: "meeting-card", "data-testid": "meeting-card", "data-meeting-id": m.id },
      h("h3", {}, m.title),
      h("p", {}, h("span", { class: `chip state-${m.state}` }, t(`meeting_state.${m.state}`)), " ", when),
      h("a", {
        class: "btn primary huge", href: `/meeting/${encodeURIComponent(m.id)}`, "data-testid": "join-meeting",
        "aria-label": t("login.join_named", { title: m.title }),
      }, t("login.join")));
  }));
}

async function logout() {
  try {
    await api("POST", "/api/logout", { csrf: me?.csrf });
  } catch { /* the session ends anyway */ }
  location.replace("/login");
}

async function start() {
  initPage(render);
  $("passkey-login").addEventListener("click", () => passkeyLogin());
  $("clerk-form").addEventListener("submit", (event) => clerkLogin(/** @type {SubmitEvent} */ (event)));
  $("logout").addEventListener("click", () => logout());
  try {
    me = await whoAmI();
  } catch {
    me = null;
  }
  if (me) {
    const next = nextPage();
    if (next && me.account.kind === "member") location.replace(next);
    else await showMeetings();
  }
}

start();
