/**
 * Which screen is shown, the status line, the meeting title and the error text. DOM only.
 */
import { t, pick } from "../i18n.js";

/**
 * @typedef {import("../store.js").State} State
 */

const SCREENS = ["check", "meeting", "left", "error"];

/** Status line text per connection state. */
const STATUS_KEYS = {
  idle: "status.idle",
  connecting: "status.connecting",
  connected: "status.connected",
  reconnecting: "status.reconnecting",
  media_failed: "status.media_failed",
  left: "status.idle", // the screen itself says it
};

/**
 * @param {State} state
 * @returns {void}
 */
export function renderScreens(state) {
  const previous = document.body.dataset.screen;
  for (const name of SCREENS) {
    const el = /** @type {HTMLElement} */ (document.getElementById(`screen-${name}`));
    el.hidden = name !== state.screen;
  }
  document.body.dataset.screen = state.screen;
  if (previous !== undefined && previous !== state.screen) {
    // Screen readers and keyboards start at the new screen's heading.
    const heading = /** @type {HTMLElement | null} */ (document.querySelector(`#screen-${state.screen} h2`));
    heading?.focus({ preventScroll: true });
  }

  const status = /** @type {HTMLElement} */ (document.getElementById("status"));
  const text = t(STATUS_KEYS[state.connection] || "status.idle");
  if (status.textContent !== text) status.textContent = text;
  status.dataset.connection = state.connection;
  status.hidden = !text;

  const title = /** @type {HTMLElement} */ (document.getElementById("meeting-title"));
  title.textContent = state.meeting ? state.meeting.title : "";

  const errorText = /** @type {HTMLElement} */ (document.getElementById("error-text"));
  const errorTitle = /** @type {HTMLElement} */ (document.getElementById("error-title"));
  errorTitle.textContent = t(state.error?.code === "replaced" ? "error.replaced.title" : "error.title");
  if (state.error) {
    const code = state.error.code;
    if (code === "no_token") errorText.textContent = t("error.no_token");
    else if (code === "invalid_token") errorText.textContent = t("error.invalid_token");
    else if (code === "replaced") errorText.textContent = t("error.replaced");
    else errorText.textContent = t("error.generic", { message: pick(state.error.message) || code });
  }
  const retry = /** @type {HTMLElement} */ (document.getElementById("retry-button"));
  retry.hidden = state.error?.code !== "replaced";

  for (const button of document.querySelectorAll(".lang-button")) {
    const lang = /** @type {HTMLElement} */ (button).dataset.lang;
    button.setAttribute("aria-pressed", String(lang === document.documentElement.lang));
  }
}
