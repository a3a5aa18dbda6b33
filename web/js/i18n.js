/**
 * Translation: Japanese by default, English on request. The choice is remembered.
 *
 * Static text in the page carries `data-i18n="key"` (text) or `data-i18n-aria="key"`
 * (aria-label) and is refreshed by `translate(root)`; views that build text themselves
 * call `t()` again when the language changes (see `onLanguageChange`).
 */
import ja from "./i18n/ja.js";
import en from "./i18n/en.js";

/** @typedef {"ja" | "en"} Lang */

/** @type {Record<Lang, Record<string, string>>} */
export const TABLES = { ja, en };
const STORAGE_KEY = "gikai.lang";

/** @type {Lang} */
let current = initialLanguage();
/** @type {Set<(lang: Lang) => void>} */
const listeners = new Set();

/**
 * The remembered choice, else the browser's first preference among ja/en, else ja.
 * @returns {Lang}
 */
function initialLanguage() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === "ja" || saved === "en") return saved;
  } catch { /* storage blocked: fall through */ }
  for (const tag of navigator.languages || [navigator.language || ""]) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (base === "ja") return "ja";
    if (base === "en") return "en";
  }
  return "ja";
}

/** Whether this screen's sitting is a plenary (本会議): titles follow the body. */
let plenary = false;

/**
 * Say which kind of body sits; true when that changed (texts built before must be rebuilt).
 * @param {boolean} isPlenary
 * @returns {boolean}
 */
export function setPlenary(isPlenary) {
  const changed = plenary !== isPlenary;
  plenary = isPlenary;
  return changed;
}

/** @returns {Lang} */
export function language() {
  return current;
}

/**
 * Translate `key`, filling `{name}` placeholders from `params`.
 * A missing key shows the key itself, which a test can catch.
 * @param {string} key
 * @param {Record<string, string | number>} [params]
 * @returns {string}
 */
export function t(key, params) {
  const table = TABLES[current];
  let text = (plenary ? table[`${key}.plenary`] : undefined) ?? table[key] ?? TABLES.ja[key] ?? key;
  // The presiding title follows the body: 委員長 in a committee, 議長 in the plenary.
  if (plenary && current === "ja") text = text.replaceAll("委員長", "議長");
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/**
 * Pick a text in the current language from a server message `{ja, en}`.
 * @param {{ja?: string, en?: string} | string | undefined} message
 * @returns {string}
 */
export function pick(message) {
  if (!message) return "";
  if (typeof message === "string") return message;
  return message[current] || message.ja || message.en || "";
}

/**
 * Switch language, remember it, and refresh the page text.
 * @param {Lang} lang
 * @returns {void}
 */
export function setLanguage(lang) {
  if (lang !== "ja" && lang !== "en") return;
  current = lang;
  try { localStorage.setItem(STORAGE_KEY, lang); } catch { /* not remembered */ }
  translate(document);
  for (const listener of listeners) listener(lang);
}

/**
 * @param {(lang: Lang) => void} listener
 * @returns {() => void} unsubscribe
 */
export function onLanguageChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * Refresh every marked element under `root` and the document language.
 * @param {Document | Element} root
 * @returns {void}
 */
export function translate(root) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.textContent = t(/** @type {string} */ (el.getAttribute("data-i18n")));
  }
  for (const el of root.querySelectorAll("[data-i18n-aria]")) {
    el.setAttribute("aria-label", t(/** @type {string} */ (el.getAttribute("data-i18n-aria"))));
  }
  document.title = t("app.name");
}
