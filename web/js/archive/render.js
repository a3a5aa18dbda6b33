/**
 * The publishable video (公開用動画): the clerk starts the server's render job, everyone sees
 * its progress (polled every second; the job lives on the server, so a reloaded page finds
 * it again), the clerk can cancel it, and the finished MP4 is a download link.
 */
import { t } from "../i18n.js";
import { api } from "../api.js";
import { h, button, replaceKeepingFocus } from "../views/dom.js";
import { errorText } from "../pages/page.js";

const POLL_MS = 1000;

/**
 * @typedef {{state: "none" | "running" | "done" | "failed" | "cancelled", progress: number,
 *   error: string | null, speed: number | null, ready: boolean}} RenderStatus
 */

export class RenderPanel {
  /**
   * @param {HTMLElement} box
   * @param {string} meetingId
   * @param {RenderStatus} status as the sitting's page was loaded
   */
  constructor(box, meetingId, status) {
    this.box = box;
    this.meetingId = meetingId;
    this.status = status;
    /** the clerk's CSRF token; "" for everyone else */
    this.csrf = "";
    this.problem = "";
    this.busy = false;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    this.render();
    this.follow();
  }

  /** @param {string} csrf */
  setClerk(csrf) {
    this.csrf = csrf;
    this.render();
  }

  get path() {
    return `/api/archive/${encodeURIComponent(this.meetingId)}/render`;
  }

  /** Poll while the job runs. */
  follow() {
    if (this.timer !== null || this.status.state !== "running") return;
    this.timer = setTimeout(async () => {
      this.timer = null;
      try {
        this.status = (await api("GET", this.path)).render;
        this.problem = "";
      } catch (error) {
        this.problem = errorText(error);
      }
      this.render();
      this.follow();
    }, POLL_MS);
  }

  /** @param {"POST" | "DELETE"} method */
  async send(method) {
    this.busy = true;
    this.problem = "";
    this.render();
    try {
      this.status = (await api(/** @type {any} */ (method), this.path, { csrf: this.csrf })).render;
    } catch (error) {
      this.problem = errorText(error);
    }
    this.busy = false;
    this.render();
    this.follow();
  }

  render() {
    const s = this.status;
    const percent = Math.round((s.progress || 0) * 100);
    const clerk = !!this.csrf;
    /** @type {(Node | null)[]} */
    const parts = [];
    if (s.state === "running") {
      parts.push(h("p", { class: "render-state", "data-testid": "render-state" }, t("archive.render.running", { percent })));
      parts.push(h("progress", {
        class: "render-progress", max: 100, value: percent, "data-testid": "render-progress",
        "aria-label": t("archive.render.progress"),
      }));
      if (clerk) {
        parts.push(button(t("archive.render.cancel"), "render-cancel", () => this.send("DELETE"),
          { kind: "danger-outline", disabled: this.busy, key: "cancel" }));
      }
    } else {
      const said = { failed: "archive.render.failed", cancelled: "archive.render.cancelled", none: "archive.render.none" };
      if (!s.ready && s.state in said) {
        parts.push(h("p", { class: "render-state", "data-testid": "render-state" },
          t(said[/** @type {keyof said} */ (s.state)]), s.state === "failed" && s.error ? ` (${s.error})` : ""));
      }
      if (s.ready) {
        parts.push(h("a", {
          class: "btn primary big", href: `/api/archive/${encodeURIComponent(this.meetingId)}/video.mp4`,
          download: "", "data-testid": "render-download",
        }, t("archive.render.download")));
      }
      if (clerk) {
        parts.push(button(t(s.ready ? "archive.render.again" : "archive.render.start"), "render-start",
          () => this.send("POST"), { kind: s.ready ? "secondary" : "primary big", disabled: this.busy, key: "start" }));
        parts.push(h("p", { class: "hint" }, t("archive.render.hint")));
      }
    }
    if (this.problem) parts.push(h("p", { class: "problem", role: "alert", "data-testid": "render-problem" }, this.problem));
    replaceKeepingFocus(this.box, /** @type {Node[]} */ (parts.filter((p) => p !== null)));
  }
}
