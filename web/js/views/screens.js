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

/** Refusals with a text of their own; anything else shows the server's message.
 * @type {Record<string, string>} */
const TEXT_KEYS = {
  no_token: "error.no_token",
  invalid_token: "error.invalid_token",
  replaced: "error.replaced",
  removed: "error.removed",
  not_a_participant: "error.not_a_participant",
  not_found: "error.not_found",
};
/** @type {Record<string, string>} */
const TITLE_KEYS = {
  replaced: "error.replaced.title",
  removed: "error.removed.title",
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
  const reason = state.connection === "reconnecting" ? pick(state.connectionReason ?? undefined) : "";
  const text = reason || t(STATUS_KEYS[state.connection] || "status.idle");
  if (status.textContent !== text) status.textContent = text;
  status.dataset.connection = state.connection;
  status.hidden = !text;

  const title = /** @type {HTMLElement} */ (document.getElementById("meeting-title"));
  title.textContent = state.meeting ? state.meeting.title : "";

  const errorText = /** @type {HTMLElement} */ (document.getElementById("error-text"));
  const errorTitle = /** @type {HTMLElement} */ (document.getElementById("error-title"));
  const code = state.error?.code || "";
  errorTitle.textContent = t(TITLE_KEYS[code] || "error.title");
  document.body.dataset.error = code;
  if (state.error) {
    errorText.textContent = code in TEXT_KEYS
      ? t(TEXT_KEYS[code])
      : t("error.generic", { message: pick(state.error.message) || code });
  }
  const retry = /** @type {HTMLElement} */ (document.getElementById("retry-button"));
  retry.hidden = state.error?.code !== "replaced";

  for (const button of document.querySelectorAll(".lang-button")) {
    const lang = /** @type {HTMLElement} */ (button).dataset.lang;
    button.setAttribute("aria-pressed", String(lang === document.documentElement.lang));
  }
}
