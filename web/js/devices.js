/**
 * This screen's own camera and microphone: chosen on the device check (the choice is kept in
 * `localStorage`), shown there with a level meter, then handed to the meeting. Muting only
 * disables tracks, so unmuting is instant and the camera light stays truthful when leaving.
 */
import { acquireMedia, listDevices, stopStream, LevelMeter } from "./media.js";

/**
 * @typedef {import("./media.js").DeviceChoice} DeviceChoice
 * @typedef {import("./views/check.js").CheckView} CheckView
 */

const DEVICES_KEY = "gikai.devices";

/** @returns {DeviceChoice} */
function savedDevices() {
  try {
    const saved = JSON.parse(localStorage.getItem(DEVICES_KEY) || "{}");
    return { audio: String(saved.audio || ""), video: String(saved.video || "") };
  } catch {
    return { audio: "", video: "" };
  }
}

export class LocalDevices {
  /**
   * @param {CheckView} check the device check's view
   * @param {() => {audio: boolean, video: boolean}} muted what the member has switched off
   * @param {() => void} onReady the camera (or the failure to get one) is known
   */
  constructor(check, muted, onReady) {
    this.check = check;
    this.muted = muted;
    this.onReady = onReady;
    /** @type {DeviceChoice} */
    this.choice = savedDevices();
    /** @type {MediaStream | null} */
    this.stream = null;
    /** @type {Promise<void> | null} */
    this.acquiring = null;
    /** @type {LevelMeter | null} */
    this.meter = null;
  }

  /** A device was plugged in or out: show the lists again (during the check). */
  relist() {
    listDevices().then((devices) => this.check.setDevices(devices, this.check.selected)).catch(() => {});
  }

  /** Start getting camera and microphone for the current choice. */
  start() {
    this.acquiring = this.acquire();
  }

  /** Get camera and microphone for the current choice and show them. */
  async acquire() {
    this.check.setProblems(null);
    const { stream, problems } = await acquireMedia(this.choice);
    this.onReady();
    this.setStream(stream);
    this.check.setProblems(problems);
    const devices = await listDevices().catch(() => ({ audio: [], video: [] }));
    this.check.setDevices(devices, {
      audio: stream?.getAudioTracks()[0]?.getSettings().deviceId || "",
      video: stream?.getVideoTracks()[0]?.getSettings().deviceId || "",
    });
  }

  /**
   * @param {MediaStream | null} stream
   * @returns {void}
   */
  setStream(stream) {
    this.stream = stream;
    const muted = this.muted();
    for (const track of stream?.getAudioTracks() || []) track.enabled = !muted.audio;
    for (const track of stream?.getVideoTracks() || []) track.enabled = !muted.video;
    this.check.setStream(stream);
    this.closeMeter();
    if (stream?.getAudioTracks().length) {
      try {
        this.meter = new LevelMeter(new MediaStream(stream.getAudioTracks()));
      } catch { /* no WebAudio */ }
    }
  }

  /**
   * @param {"audio" | "video"} kind
   * @param {string} deviceId
   */
  async change(kind, deviceId) {
    this.choice = { ...this.choice, [kind]: deviceId };
    try { localStorage.setItem(DEVICES_KEY, JSON.stringify(this.choice)); } catch { /* not kept */ }
    await this.acquiring;
    stopStream(this.stream); // some cameras cannot be opened twice
    this.start();
    await this.acquiring;
  }

  /** The check's level meter is not needed in the meeting. */
  closeMeter() {
    this.meter?.close();
    this.meter = null;
  }

  /**
   * Switch a kind of track on or off (the tracks stay open).
   * @param {"audio" | "video"} kind
   * @param {boolean} muted
   * @returns {void}
   */
  setMuted(kind, muted) {
    const tracks = kind === "audio" ? this.stream?.getAudioTracks() : this.stream?.getVideoTracks();
    for (const track of tracks || []) track.enabled = !muted;
  }

  /** Let go of camera and microphone: the camera light goes off. */
  release() {
    stopStream(this.stream);
    this.stream = null;
  }
}
