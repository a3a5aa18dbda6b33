/**
 * `/enrol#TOKEN`: a member registers the passkey of this tablet with the one-time link
 * the clerk gave them. The token leaves the address bar at once (kept for this tab, so a
 * reload still works).
 */
import { t } from "../i18n.js";
import { api, ApiError } from "../api.js";
import { creationOptions, credentialJSON, passkeysAvailable, ceremonyProblem } from "../webauthn.js";
import { byId as $ } from "../views/dom.js";
import { initPage, errorText, showProblem, announce } from "./page.js";

const TOKEN_KEY = "gikai.enrol";

/** @type {string} */
let memberName = "";
/** @type {ApiError | null} */
let invalid = null;

/** @returns {string} */
function readToken() {
  let token = location.hash.replace(/^#/, "");
  try { token = decodeURIComponent(token); } catch { /* keep raw */ }
  try {
    if (token) {
      sessionStorage.setItem(TOKEN_KEY, token);
      history.replaceState(null, "", location.pathname);
      return token;
    }
    return sessionStorage.getItem(TOKEN_KEY) || "";
  } catch {
    return token;
  }
}

const token = readToken();

/**
 * @param {"intro" | "done" | "invalid"} which
 * @returns {void}
 */
function show(which) {
  $("enrol-intro").hidden = which !== "intro";
  $("enrol-done").hidden = which !== "done";
  $("enrol-invalid").hidden = which !== "invalid";
  const heading = /** @type {HTMLElement | null} */ (document.querySelector(`#enrol-${which} h2`));
  heading?.focus({ preventScroll: true });
}

/** @param {unknown} error */
function linkUnusable(error) {
  invalid = error instanceof ApiError ? error : null;
  show("invalid");
  render();
}

/**
 * Ask the server for fresh options (a ceremony lasts five minutes), let the tablet make
 * the passkey, and send it back.
 * @returns {Promise<void>}
 */
async function enrol() {
  const button = /** @type {HTMLButtonElement} */ ($("enrol-button"));
  const problem = $("enrol-problem");
  showProblem(problem, "");
  if (!passkeysAvailable()) {
    showProblem(problem, t("enrol.problem.unsupported"));
    return;
  }
  button.disabled = true;
  announce(t("enrol.working"));
  try {
    const { ceremony, options } = await api("POST", "/api/enrol/options", { body: { token } });
    const credential = /** @type {PublicKeyCredential | null} */ (
      await navigator.credentials.create({ publicKey: creationOptions(options) }));
    if (!credential) throw new DOMException("no credential", "NotAllowedError");
    await api("POST", "/api/enrol/verify", { body: { token, ceremony, credential: credentialJSON(credential) } });
    try { sessionStorage.removeItem(TOKEN_KEY); } catch { /* nothing kept */ }
    announce("");
    show("done");
  } catch (error) {
    announce("");
    if (error instanceof ApiError && error.code === "enrolment_invalid") {
      linkUnusable(error);
    } else {
      showProblem(problem, error instanceof ApiError ? errorText(error) : t(`enrol.problem.${ceremonyProblem(error)}`));
    }
  } finally {
    button.disabled = false;
  }
}

function render() {
  const forWhom = $("enrol-for");
  forWhom.hidden = !memberName;
  forWhom.textContent = memberName ? t("enrol.for", { name: memberName }) : "";
  $("invalid-text").textContent = invalid ? errorText(invalid) : t("enrol.no_token");
}

async function start() {
  initPage(render);
  $("enrol-button").addEventListener("click", () => enrol());
  if (!token) {
    linkUnusable(null);
    return;
  }
  // Check the link at once: a used or expired one is said plainly before anything else.
  try {
    const reply = await api("POST", "/api/enrol/options", { body: { token } });
    memberName = reply.name || "";
    render();
  } catch (error) {
    if (error instanceof ApiError && error.code === "enrolment_invalid") linkUnusable(error);
    else showProblem($("enrol-problem"), errorText(error));
  }
}

start();
