/**
 * How this page was opened: a rehearsal link `/join#TOKEN` (the token is kept for this
 * tab and taken out of the address bar), or a member's page `/meeting/ID` that needs a
 * login (the session cookie says who is joining).
 */

const TOKEN_KEY = "gikai.token";

/**
 * The join token from the link's fragment (`/join#TOKEN`), kept for this tab so that a
 * reload works; it is taken out of the address bar so it is not shown or bookmarked.
 * @returns {string}
 */
export function readToken() {
  let fromHash = location.hash.replace(/^#/, "");
  try { fromHash = decodeURIComponent(fromHash); } catch { /* keep raw */ }
  try {
    if (fromHash) {
      sessionStorage.setItem(TOKEN_KEY, fromHash);
      history.replaceState(null, "", location.pathname + location.search);
      return fromHash;
    }
    return sessionStorage.getItem(TOKEN_KEY) || "";
  } catch {
    return fromHash;
  }
}

/**
 * The meeting id of a member's page `/meeting/ID`, or "" on a rehearsal link.
 * @returns {string}
 */
export function meetingIdFromPath() {
  const match = /^\/meeting\/([A-Za-z0-9_-]{1,64})\/?$/.exec(location.pathname);
  return match ? match[1] : "";
}

/**
 * Send a member who is not logged in to the login page, and back here afterwards.
 * @returns {void}
 */
export function goToLogin() {
  location.replace(`/login?next=${encodeURIComponent(location.pathname)}`);
}

/**
 * A member's page needs a login: find out at once, not after the device check.
 * @returns {Promise<void>}
 */
export async function checkLogin() {
  try {
    const response = await fetch("/api/me", { credentials: "same-origin", cache: "no-store" });
    if (response.status === 401) goToLogin();
  } catch { /* offline: joining will tell */ }
}
