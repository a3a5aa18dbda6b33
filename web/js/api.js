/**
 * The HTTP JSON API (docs/protocol.md, "HTTP API"): one function for every call, with
 * the session's CSRF token on state-changing requests and the server's bilingual
 * error message kept for the page to show.
 */

/** A refused or failed API call. */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 when the server could not be reached
   * @param {string} code the server's stable error code
   * @param {{ja?: string, en?: string} | undefined} message
   * @param {string} [detail] the server's technical detail (e.g. which CSV line is wrong)
   */
  constructor(status, code, message, detail = "") {
    super(`${status} ${code}: ${message?.en || ""}`);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.serverMessage = message;
    this.detail = detail;
  }
}

const OFFLINE = {
  ja: "サーバーにつながりません。ネットワークを確かめて、もう一度お試しください。",
  en: "The server cannot be reached. Please check the network and try again.",
};

/**
 * @param {"GET" | "POST" | "PUT"} method
 * @param {string} path
 * @param {{body?: any, csrf?: string, headers?: Record<string, string>}} [options]
 * @returns {Promise<any>} the reply's JSON (with `ok: true`)
 */
export async function api(method, path, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["Content-Type"] = "application/json";
  if (options.csrf) headers["X-CSRF-Token"] = options.csrf;
  Object.assign(headers, options.headers || {});
  let response;
  try {
    response = await fetch(path, {
      method, headers, credentials: "same-origin", cache: "no-store",
      body: method === "GET" ? undefined : JSON.stringify(options.body ?? {}),
    });
  } catch {
    throw new ApiError(0, "network", OFFLINE);
  }
  /** @type {any} */
  let data = null;
  try {
    data = await response.json();
  } catch { /* not JSON: fall through with null */ }
  if (!response.ok || !data || data.ok === false) {
    throw new ApiError(response.status, data?.code || `http_${response.status}`, data?.message, data?.detail || "");
  }
  return data;
}

/**
 * Who is logged in, or null (401).
 * @returns {Promise<{account: {id: string, kind: string, name: string, member_id: string|null}, csrf: string} | null>}
 */
export async function whoAmI() {
  try {
    return await api("GET", "/api/me");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

/**
 * @typedef {{name: string, role: string, meeting: {id: string, title: string},
 *   body: {name: string, plenary: boolean}}} SeatInfo
 */

/**
 * Who is about to join which sitting (the device check says it): by a rehearsal link's token,
 * or the logged-in member's seat in a sitting.
 * @param {{token: string} | {meeting_id: string}} join
 * @returns {Promise<SeatInfo>}
 */
export async function seatInfo(join) {
  if ("token" in join) return api("GET", "/api/seat", { headers: { "X-Join-Token": join.token } });
  return api("GET", `/api/seat?meeting_id=${encodeURIComponent(join.meeting_id)}`);
}
