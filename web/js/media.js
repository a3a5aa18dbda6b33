/**
 * Local devices and audio levels: getUserMedia with a graceful fallback, the device
 * lists, and a level meter (WebAudio AnalyserNode) used both for the microphone check
 * and for the speaking indicator of received audio.
 */

/**
 * @typedef {{audio?: string, video?: string}} DeviceChoice deviceIds, empty for default
 * @typedef {"denied" | "missing" | "failed"} MediaProblem
 * @typedef {{stream: MediaStream | null, problems: {audio?: MediaProblem, video?: MediaProblem}}} Acquired
 */

const VIDEO_CONSTRAINTS = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 15, max: 30 } };
const AUDIO_CONSTRAINTS = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

/**
 * @param {unknown} error
 * @returns {MediaProblem}
 */
function classify(error) {
  const name = /** @type {{name?: string}} */ (error)?.name;
  if (name === "NotAllowedError" || name === "SecurityError") return "denied";
  if (name === "NotFoundError" || name === "OverconstrainedError") return "missing";
  return "failed";
}

/**
 * @param {"audio" | "video"} kind
 * @param {string | undefined} deviceId
 * @returns {MediaTrackConstraints}
 */
function constraintsFor(kind, deviceId) {
  const base = kind === "video" ? VIDEO_CONSTRAINTS : AUDIO_CONSTRAINTS;
  return deviceId ? { ...base, deviceId: { exact: deviceId } } : { ...base };
}

/**
 * Get camera and microphone; when both together fail, try each alone so that a
 * member with a broken camera can still be heard.
 * @param {DeviceChoice} choice
 * @returns {Promise<Acquired>}
 */
export async function acquireMedia(choice = {}) {
  if (!navigator.mediaDevices?.getUserMedia) {
    return { stream: null, problems: { audio: "failed", video: "failed" } };
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: constraintsFor("audio", choice.audio),
      video: constraintsFor("video", choice.video),
    });
    return { stream, problems: {} };
  } catch (error) {
    /** @type {Acquired["problems"]} */
    const problems = {};
    const tracks = [];
    for (const kind of /** @type {const} */ (["audio", "video"])) {
      try {
        const single = await navigator.mediaDevices.getUserMedia({ [kind]: constraintsFor(kind, choice[kind]) });
        tracks.push(...single.getTracks());
      } catch (singleError) {
        problems[kind] = classify(singleError);
      }
    }
    if (!problems.audio && !problems.video) problems.video = classify(error);
    return { stream: tracks.length ? new MediaStream(tracks) : null, problems };
  }
}

/**
 * @param {MediaStream | null} stream
 * @returns {void}
 */
export function stopStream(stream) {
  if (!stream) return;
  for (const track of stream.getTracks()) track.stop();
}

/**
 * Cameras and microphones; labels are only known once permission was given.
 * @returns {Promise<{audio: MediaDeviceInfo[], video: MediaDeviceInfo[]}>}
 */
export async function listDevices() {
  if (!navigator.mediaDevices?.enumerateDevices) return { audio: [], video: [] };
  const all = await navigator.mediaDevices.enumerateDevices();
  return {
    audio: all.filter((d) => d.kind === "audioinput"),
    video: all.filter((d) => d.kind === "videoinput"),
  };
}

/** @type {AudioContext | null} */
let sharedContext = null;

/**
 * One AudioContext for the page. Browsers start it suspended until a user gesture.
 * @returns {AudioContext}
 */
export function audioContext() {
  if (!sharedContext) sharedContext = new AudioContext();
  return sharedContext;
}

/**
 * Try to start audio processing; call from a click or touch handler.
 * @returns {Promise<void>}
 */
export async function resumeAudio() {
  const ctx = audioContext();
  if (ctx.state !== "running") {
    try { await ctx.resume(); } catch { /* next gesture */ }
  }
}

/** The loudness of one audio track, read on demand. */
export class LevelMeter {
  /** @param {MediaStream} stream must contain an audio track */
  constructor(stream) {
    const ctx = audioContext();
    this.source = ctx.createMediaStreamSource(stream);
    this.analyser = ctx.createAnalyser();
    this.analyser.fftSize = 1024;
    this.analyser.smoothingTimeConstant = 0.3;
    this.buffer = new Float32Array(this.analyser.fftSize);
    this.source.connect(this.analyser);
  }

  /**
   * Root-mean-square amplitude of the latest block, 0..1.
   * @returns {number}
   */
  rms() {
    this.analyser.getFloatTimeDomainData(this.buffer);
    let sum = 0;
    for (const sample of this.buffer) sum += sample * sample;
    return Math.sqrt(sum / this.buffer.length);
  }

  /**
   * Loudness on a 60 dB scale for a meter, 0..1.
   * @returns {number}
   */
  level() {
    const rms = this.rms();
    if (rms <= 0) return 0;
    return Math.max(0, Math.min(1, (20 * Math.log10(rms) + 60) / 60));
  }

  /**
   * Stop listening to the track.
   * @returns {void}
   */
  close() {
    try {
      this.source.disconnect();
      this.analyser.disconnect();
    } catch { /* already disconnected */ }
  }
}

/**
 * Decides "speaking" from a level with a short hold, so the border does not flicker
 * between syllables.
 */
export class SpeakingDetector {
  /**
   * @param {number} threshold level (0..1 on the meter scale) that counts as voice
   * @param {number} holdMs how long "speaking" lasts after the last loud block
   */
  constructor(threshold = 0.35, holdMs = 600) {
    this.threshold = threshold;
    this.holdMs = holdMs;
    this.lastLoud = -Infinity;
  }

  /**
   * @param {number} level
   * @param {number} now ms
   * @returns {boolean}
   */
  update(level, now) {
    if (level >= this.threshold) this.lastLoud = now;
    return now - this.lastLoud < this.holdMs;
  }
}
