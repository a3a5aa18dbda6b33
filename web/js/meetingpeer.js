/**
 * The meeting's media connection as the page uses it: made on the server's first offer, its
 * answers sent on the socket that brought the offer, closed when that socket goes, and every
 * 2 s a report of how many frames of the others' video it decoded, which the server's presence
 * detection uses to tell that a remote member receives the chamber.
 */
import { MediaPeer } from "./peer.js";

/**
 * @typedef {import("./signaling.js").Signaling} Signaling
 * @typedef {import("./peer.js").RemoteMedia} RemoteMedia
 * @typedef {object} MeetingPeerHooks
 * @property {() => MediaStream | null} localStream camera and microphone, when there are any
 * @property {(step: string) => void} mark note when a joining step happened
 * @property {(remote: RemoteMedia) => void} onRemoteMedia the others' media, after every offer
 * @property {(signaling: Signaling) => void} onFailed the media path broke (ICE failed)
 * @property {() => RTCIceServer[]} iceServers TURN relays with this member's current credentials
 */

export class MeetingPeer {
  /** @param {MeetingPeerHooks} hooks */
  constructor(hooks) {
    this.hooks = hooks;
    /** @type {MediaPeer | null} */
    this.peer = null;
  }

  /**
   * The connection, made on the first offer of a socket.
   * @param {Signaling} signaling the socket the offer came on; answers go back on it
   * @returns {MediaPeer}
   */
  ensure(signaling) {
    if (this.peer) return this.peer;
    const peer = new MediaPeer({
      localStream: this.hooks.localStream(),
      iceServers: this.hooks.iceServers(),
      sendAnswer: (sdp, revision) => {
        this.hooks.mark("answer_sent");
        return signaling.request("answer", { sdp, revision });
      },
      onRemoteMedia: (remote) => this.hooks.onRemoteMedia(remote),
      onFailed: () => {
        if (this.peer === peer) this.hooks.onFailed(signaling);
      },
    });
    this.peer = peer;
    return peer;
  }

  /**
   * Close the media connection; tiles keep their names but lose their media.
   * @returns {void}
   */
  close() {
    this.peer?.close();
    this.peer = null;
    this.hooks.onRemoteMedia(new Map());
  }

  /**
   * Tell the server how many frames of the others' video this screen has decoded. In audio
   * only no video comes: the others' audio packets count too, so that the server still sees
   * that this member receives the chamber (docs/protocol.md, `reception`).
   * @param {Signaling} signaling
   * @param {boolean} [audioOnly]
   * @returns {Promise<void>}
   */
  async reportReception(signaling, audioOnly = false) {
    const peer = this.peer;
    if (!peer) return;
    try {
      const stats = await peer.receiveStats();
      let decoded = 0;
      for (const kinds of Object.values(stats)) {
        decoded += (kinds.video?.framesDecoded || 0) + (audioOnly ? kinds.audio?.packetsReceived || 0 : 0);
      }
      await signaling.request("reception", { frames_decoded: Math.min(decoded, Number.MAX_SAFE_INTEGER) });
    } catch { /* an older server, or the socket is going: the next report will do */ }
  }
}
