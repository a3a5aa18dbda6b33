/**
 * Dates, clock times and lengths as council members read them: the Japanese era in the
 * Japanese page (令和8年11月26日), "4分30秒" rather than "270 s".
 */
import { t } from "../i18n.js";

/**
 * A date; in Japanese with the era name.
 * @param {Date} date
 * @param {string} lang
 * @param {boolean} [weekday]
 * @returns {string}
 */
export function eraDate(date, lang, weekday = true) {
  if (Number.isNaN(date.getTime())) return "";
  /** @type {Intl.DateTimeFormatOptions} */
  const options = { year: "numeric", month: "long", day: "numeric" };
  if (weekday) options.weekday = "short";
  if (lang === "en") return new Intl.DateTimeFormat("en-GB", options).format(date);
  return new Intl.DateTimeFormat("ja-JP-u-ca-japanese", { era: "long", ...options }).format(date);
}

/**
 * 10:02 (or 10:02:31 with seconds), the local clock.
 * @param {Date} date
 * @param {boolean} [seconds]
 * @returns {string}
 */
export function clockTime(date, seconds = false) {
  const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
  const hm = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  return seconds ? `${hm}:${pad(date.getSeconds())}` : hm;
}

/**
 * A length in words: 4秒, 2分30秒, 1時間5分 / 4 s, 2 min 30 s, 1 h 5 min.
 * @param {number} seconds
 * @returns {string}
 */
export function lengthText(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h) return t(m ? "archive.len.hm" : "archive.len.h", { h, m });
  if (m) return t(sec ? "archive.len.ms" : "archive.len.m", { m, s: sec });
  return t("archive.len.s", { s: sec });
}

/**
 * A position on the player's counter: 2:31 or 1:02:31.
 * @param {number} seconds
 * @returns {string}
 */
export function counter(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/**
 * The moment `offset` seconds after `start`.
 * @param {string} start ISO time
 * @param {number} offset
 * @returns {Date}
 */
export function at(start, offset) {
  return new Date(new Date(start).getTime() + offset * 1000);
}
