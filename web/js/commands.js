/**
 * How a refused request is shown on the meeting page: the server's own words in both languages
 * (the panel shows whichever is chosen, also after a language change), or "not connected" when
 * the socket was gone.
 */
import { ProtocolError } from "./signaling.js";
import { TABLES } from "./i18n.js";

/**
 * @typedef {import("./store.js").StoreEvent} StoreEvent
 */

/**
 * The store event that puts a refusal in the sitting panel's banner.
 * @param {unknown} error from a request: a ProtocolError, or the connection's failure
 * @returns {StoreEvent}
 */
export function refusalEvent(error) {
  if (error instanceof ProtocolError) {
    return { type: "command_error", code: error.code, message: error.serverMessage };
  }
  const offline = "sitting.error.offline";
  return { type: "command_error", code: "connection_lost", message: {
    ja: TABLES.ja[offline] ?? offline, en: TABLES.en[offline] ?? offline,
  } };
}
