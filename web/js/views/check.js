/**
 * The device check screen: own preview, level meter, device selects, Join button.
 * DOM only: it reports choices through callbacks and is told what to show.
 */
import { t } from "../i18n.js";

/**
 * @typedef {import("../media.js").Acquired["problems"]} Problems
 * @typedef {object} CheckCallbacks
 * @property {() => void} onJoin
 * @property {(kind: "audio" | "video", deviceId: string) => void} onDeviceChange
 */

export class CheckView {
  /** @param {CheckCallbacks} callbacks */
  constructor(callbacks) {
    this.preview = /** @type {HTMLVideoElement} */ (document.getElementById("check-preview"));
    this.problem = /** @type {HTMLElement} */ (document.getElementById("check-problem"));
    this.cameraSelect = /** @type {HTMLSelectElement} */ (document.getElementById("camera-select"));
    this.micSelect = /** @type {HTMLSelectElement} */ (document.getElementById("mic-select"));
    this.meter = /** @type {HTMLElement} */ (document.getElementById("level-meter"));
    this.bar = /** @type {HTMLElement} */ (document.getElementById("level-bar"));
    this.joinButton = /** @type {HTMLButtonElement} */ (document.getElementById("join-button"));
    /** @type {Problems | null} */
    this.problems = null;
    this.loading = true;
    /** @type {{audio: MediaDeviceInfo[], video: MediaDeviceInfo[]}} */
    this.devices = { audio: [], video: [] };
    /** @type {{audio: string, video: string}} */
    this.selected = { audio: "", video: "" };
    /** @type {import("../api.js").SeatInfo | null} */
    this.seat = null;

    this.joinButton.addEventListener("click", () => callbacks.onJoin());
    this.cameraSelect.addEventListener("change", () => callbacks.onDeviceChange("video", this.cameraSelect.value));
    this.micSelect.addEventListener("change", () => callbacks.onDeviceChange("audio", this.micSelect.value));
  }

  /**
   * Which sitting, and who joins: said before anything else on the check.
   * @param {import("../api.js").SeatInfo | null} seat
   * @returns {void}
   */
  setSeat(seat) {
    this.seat = seat;
    /** @type {HTMLElement} */ (document.getElementById("check-who")).hidden = !seat;
    if (!seat) return;
    /** @type {HTMLElement} */ (document.getElementById("check-sitting")).textContent = seat.meeting.title;
    /** @type {HTMLElement} */ (document.getElementById("check-person")).textContent =
      t("sitting.name_role", { name: seat.name, role: t(`role.${seat.role}`) });
  }

  /**
   * @param {MediaStream | null} stream
   * @returns {void}
   */
  setStream(stream) {
    const video = stream && stream.getVideoTracks().length ? new MediaStream(stream.getVideoTracks()) : null;
    this.preview.srcObject = video;
    this.preview.classList.toggle("empty", !video);
    // No microphone, nothing to measure: the meter would only confuse.
    /** @type {HTMLElement} */ (document.getElementById("level-field")).hidden = !stream?.getAudioTracks().length;
  }

  /**
   * @param {Problems | null} problems null while still acquiring
   * @returns {void}
   */
  setProblems(problems) {
    this.loading = problems === null;
    this.problems = problems;
    this.renderProblem();
  }

  /**
   * Say plainly what is wrong with the camera or microphone, if anything.
   * @returns {void}
   */
  renderProblem() {
    const p = this.problems;
    /** @type {string} */
    let key = "";
    if (this.loading) key = "check.loading";
    else if (p && (p.audio === "denied" || p.video === "denied") && p.audio && p.video) key = "check.denied";
    else if (p?.audio && p?.video) key = "check.no_devices";
    else if (p?.video) key = "check.no_camera";
    else if (p?.audio) key = "check.no_microphone";
    this.problem.hidden = !key;
    this.problem.textContent = key ? t(key) : "";
    this.problem.classList.toggle("info", key === "check.loading");
    this.problem.setAttribute("role", key === "check.loading" ? "status" : "alert");
  }

  /**
   * @param {{audio: MediaDeviceInfo[], video: MediaDeviceInfo[]}} devices
   * @param {{audio: string, video: string}} selected deviceIds in use
   * @returns {void}
   */
  setDevices(devices, selected) {
    this.devices = devices;
    this.selected = selected;
    fillSelect(this.cameraSelect, devices.video, selected.video, "kind.videoinput");
    fillSelect(this.micSelect, devices.audio, selected.audio, "kind.audioinput");
  }

  /**
   * @param {number} level 0..1
   * @returns {void}
   */
  setLevel(level) {
    const percent = Math.round(level * 100);
    this.bar.style.transform = `scaleX(${level.toFixed(3)})`;
    this.meter.setAttribute("aria-valuenow", String(percent));
  }

  /**
   * @param {boolean} busy
   * @returns {void}
   */
  setJoining(busy) {
    this.joinButton.disabled = busy;
    this.joinButton.textContent = t(busy ? "check.joining" : "check.join");
  }

  /** Text built here (not in data-i18n) is rebuilt on a language change. */
  retranslate() {
    this.setSeat(this.seat);
    this.renderProblem();
    this.setDevices(this.devices, this.selected);
    this.setJoining(this.joinButton.disabled);
  }
}

/**
 * @param {HTMLSelectElement} select
 * @param {MediaDeviceInfo[]} devices
 * @param {string} selected
 * @param {string} kindKey
 * @returns {void}
 */
function fillSelect(select, devices, selected, kindKey) {
  select.replaceChildren();
  if (!devices.length) {
    select.append(new Option(t("check.device.none"), ""));
    select.disabled = true;
    return;
  }
  select.disabled = false;
  devices.forEach((device, i) => {
    const label = device.label || t("check.device.unnamed", { kind: t(kindKey), n: i + 1 });
    select.append(new Option(label, device.deviceId, false, device.deviceId === selected));
  });
}
