/**
 * What every page outside the meeting shares: the language buttons, translated static
 * text, one status line read out by screen readers, and showing an API error plainly.
 */
import { translate, setLanguage, onLanguageChange, pick, t } from "../i18n.js";
import { ApiError } from "../api.js";
import { eraDate, clockTime } from "../archive/format.js";

/**
 * Translate the page and wire the language buttons.
 * @param {() => void} [rerender] rebuild text made by the page's script
 * @returns {void}
 */
export function initPage(rerender) {
  translate(document);
  markLanguage();
  for (const button of document.querySelectorAll(".lang-button")) {
    button.addEventListener("click", () => setLanguage(/** @type {any} */ (button).dataset.lang));
  }
  onLanguageChange(() => {
    markLanguage();
    rerender?.();
  });
}

function markLanguage() {
  for (const button of document.querySelectorAll(".lang-button")) {
    const lang = /** @type {HTMLElement} */ (button).dataset.lang;
    button.setAttribute("aria-pressed", String(lang === document.documentElement.lang));
  }
}

/**
 * The text to show for a failed call: the server's words, plus its detail if any.
 * @param {unknown} error
 * @returns {string}
 */
export function errorText(error) {
  if (error instanceof ApiError) {
    const text = pick(error.serverMessage) || t("page.error.generic");
    return error.detail ? `${text}(${t("page.error.detail")}: ${error.detail})` : text;
  }
  return t("page.error.generic");
}

/**
 * Show (or clear, with "") a message in an alert element.
 * @param {HTMLElement} el
 * @param {string} text
 * @returns {void}
 */
export function showProblem(el, text) {
  el.textContent = text;
  el.hidden = !text;
}

/**
 * Say something in the page's status line (polite live region).
 * @param {string} text
 * @returns {void}
 */
export function announce(text) {
  const status = document.getElementById("page-status");
  if (!status) return;
  status.textContent = text;
  status.hidden = !text;
}

/**
 * A date and time the way members read it: 令和8年3月10日(火) 10:00 (the Japanese era, as the
 * council's papers write it), or Tue 10 March 2026, 10:00 in English.
 * @param {string} iso
 * @param {string} lang
 * @returns {string}
 */
export function formatWhen(iso, lang) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${eraDate(date, lang)} ${clockTime(date)}`;
}

/**
 * Where to go after logging in: only a member's meeting page of this site.
 * @returns {string}
 */
export function nextPage() {
  const next = new URLSearchParams(location.search).get("next") || "";
  return /^\/meeting\/[A-Za-z0-9_-]{1,64}$/.test(next) ? next : "";
}
