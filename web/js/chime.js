/**
 * The chair's chime for a new request for the floor: two short tones made on the page's one
 * AudioContext (nothing to download), on unless the chair turned it off on this device.
 */
import { audioContext } from "./media.js";

const STORAGE_KEY = "gikai.chime";
/** How many chimes this page has played (for the test hooks). */
let played = 0;

/** @returns {boolean} whether the chime is on (it is unless turned off here) */
export function chimeOn() {
  try {
    return localStorage.getItem(STORAGE_KEY) !== "off";
  } catch {
    return true;
  }
}

/**
 * @param {boolean} on
 * @returns {void}
 */
export function setChime(on) {
  try { localStorage.setItem(STORAGE_KEY, on ? "on" : "off"); } catch { /* not kept */ }
}

/** @returns {number} */
export function chimesPlayed() {
  return played;
}

/**
 * Play the chime if it is on: a high and a lower tone, soft, under half a second.
 * @returns {boolean} whether it was played
 */
export function chime() {
  if (!chimeOn()) return false;
  played += 1;
  try {
    const ctx = audioContext();
    const start = ctx.currentTime;
    for (const [i, frequency] of [880, 660].entries()) {
      const tone = ctx.createOscillator();
      const gain = ctx.createGain();
      tone.frequency.value = frequency;
      const at = start + i * 0.18;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.16);
      tone.connect(gain).connect(ctx.destination);
      tone.start(at);
      tone.stop(at + 0.17);
    }
  } catch { /* no audio output: the visible cue is there */ }
  return true;
}
