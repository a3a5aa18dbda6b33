/**
 * The public gallery's media connection: receive only. The server makes every offer (the first
 * video m-line is the picture, the audio m-lines the microphones that may be heard); the viewer
 * answers every m-line `recvonly`, with its candidates gathered in the answer (no trickling).
 */
import { RELAY_GATHER_TIMEOUT_MS, gatheringComplete, setIceServers } from "../peer.js";

const GATHER_TIMEOUT_MS = 2000;

/** The receive-only media connection; the server makes every offer. */
export class GalleryPeer {
  /**
   * @param {(sdp: string, revision: number) => void} sendAnswer
   * @param {(event: RTCTrackEvent) => void} onTrack
   * @param {RTCIceServer[]} [iceServers] TURN relays from the watch reply
   */
  constructor(sendAnswer, onTrack, iceServers = []) {
    this.pc = new RTCPeerConnection({ iceServers, bundlePolicy: "max-bundle" });
    this.relayed = iceServers.length > 0;
    this.pc.addEventListener("track", onTrack);
    /** Called when the media path breaks (ICE failed): the page starts over. */
    this.onFailed = () => {};
    this.pc.addEventListener("connectionstatechange", () => {
      if (this.pc.connectionState === "failed") this.onFailed();
    });
    this.sendAnswer = sendAnswer;
    /** @type {Promise<void>} */
    this.queue = Promise.resolve();
  }

  /** @param {RTCIceServer[]} iceServers fresh TURN credentials, for the next gathering */
  setIceServers(iceServers) {
    setIceServers(this.pc, iceServers);
  }

  /** @param {{sdp: string, revision: number}} offer */
  offer(offer) {
    this.queue = this.queue.then(() => this.apply(offer)).catch((e) => console.warn("offer failed", e));
  }

  /** @param {{sdp: string, revision: number}} offer */
  async apply({ sdp, revision }) {
    const pc = this.pc;
    if (pc.signalingState === "closed") return;
    await pc.setRemoteDescription({ type: "offer", sdp });
    for (const transceiver of pc.getTransceivers()) {
      if (transceiver.mid !== null && transceiver.direction !== "recvonly") transceiver.direction = "recvonly";
    }
    await pc.setLocalDescription(await pc.createAnswer());
    await gatheringComplete(pc, this.relayed ? RELAY_GATHER_TIMEOUT_MS : GATHER_TIMEOUT_MS);
    // The page may have closed the connection while the answer was being made.
    const closed = /** @type {RTCSignalingState} */ (pc.signalingState) === "closed";
    if (!closed && pc.localDescription) this.sendAnswer(pc.localDescription.sdp, revision);
  }

  close() {
    try { this.pc.close(); } catch { /* closed */ }
  }
}
