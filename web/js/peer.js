/**
 * The browser's media connection to the SFU. The server makes every offer; the browser
 * only answers (docs/protocol.md). On the first offer the camera and microphone go on
 * the first video/audio m-lines that the offer's `streams` does not name, and the second
 * such video m-line is kept for a screen share (empty until one is shared); every other
 * m-line receives. After each offer the received tracks are mapped to participants
 * afresh from `streams`, because the server reuses m-lines after someone leaves.
 */

const GATHER_TIMEOUT_MS = 2000;
/** With a TURN relay the answer waits longer: an allocation over TCP/TLS takes a few round trips. */
export const RELAY_GATHER_TIMEOUT_MS = 6000;

/**
 * @typedef {{participant: string, kind: "audio" | "video", slot?: "screen"}} StreamInfo
 * @typedef {{sdp: string, revision: number, streams: Record<string, StreamInfo>}} OfferPush
 * @typedef {Map<string, {audio: MediaStream | null, video: MediaStream | null, screen?: MediaStream | null}>} RemoteMedia
 *   participant id -> one fresh MediaStream per kind (and their shared screen, if it is sent)
 */

/**
 * @typedef {object} MediaPeerOptions
 * @property {MediaStream | null} localStream camera and/or microphone, or null
 * @property {(sdp: string, revision: number) => Promise<void>} sendAnswer
 * @property {(remote: RemoteMedia) => void} onRemoteMedia after every applied offer
 * @property {() => void} onFailed the media path broke (ICE failed)
 * @property {RTCIceServer[]} [iceServers] TURN relays from the join reply (none: host candidates only)
 */

export class MediaPeer {
  /** @param {MediaPeerOptions} options */
  constructor(options) {
    this.options = options;
    this.pc = new RTCPeerConnection({ iceServers: options.iceServers ?? [], bundlePolicy: "max-bundle" });
    /** @type {{audio: RTCRtpTransceiver | null, video: RTCRtpTransceiver | null, screen: RTCRtpTransceiver | null}} */
    this.uplinks = { audio: null, video: null, screen: null };
    /** @type {Record<string, StreamInfo>} */
    this.streams = {};
    this.closed = false;
    /** @type {Promise<void>} offers are applied one after another */
    this.queue = Promise.resolve();
    /** @type {Record<string, number>} */
    this.timeline = {};
    this.pc.addEventListener("connectionstatechange", () => {
      this.timeline[this.pc.connectionState] ??= Math.round(performance.now());
      if (!this.closed && this.pc.connectionState === "failed") this.options.onFailed();
    });
  }

  /**
   * Queue an offer from the server; resolves once it is answered.
   * @param {OfferPush} offer
   * @returns {Promise<void>}
   */
  handleOffer(offer) {
    const run = this.queue.then(() => this.applyOffer(offer));
    this.queue = run.catch(() => {});
    return run;
  }

  /**
   * @param {OfferPush} offer
   * @returns {Promise<void>}
   */
  async applyOffer({ sdp, revision, streams }) {
    if (this.closed) return;
    const pc = this.pc;
    await pc.setRemoteDescription({ type: "offer", sdp });
    const first = this.uplinks.audio === null && this.uplinks.video === null;
    if (first) await this.attachLocal(streams);
    for (const transceiver of pc.getTransceivers()) {
      if (Object.values(this.uplinks).includes(transceiver)) continue;
      if (transceiver.currentDirection === "stopped" || transceiver.mid === null) continue;
      if (transceiver.direction !== "recvonly") transceiver.direction = "recvonly";
    }
    await pc.setLocalDescription(await pc.createAnswer());
    if (first) await preferTemporalLayers(this.uplinks.video?.sender ?? null);
    this.timeline.gathering ??= Math.round(performance.now());
    await gatheringComplete(pc, this.options.iceServers?.length ? RELAY_GATHER_TIMEOUT_MS : GATHER_TIMEOUT_MS);
    this.timeline.gathered ??= Math.round(performance.now());
    if (this.closed) return;
    this.streams = streams || {};
    const local = /** @type {RTCSessionDescription} */ (pc.localDescription);
    const sent = this.options.sendAnswer(local.sdp, revision);
    this.options.onRemoteMedia(this.remoteMedia());
    await sent;
  }

  /**
   * Put the camera and microphone on the upload m-lines of the first offer, and keep the
   * second video one for a screen share.
   * @param {Record<string, StreamInfo>} streams
   * @returns {Promise<void>}
   */
  async attachLocal(streams) {
    const local = this.options.localStream;
    const unnamed = this.pc.getTransceivers().filter((t) => t.mid !== null && !(t.mid in (streams || {})));
    const videos = unnamed.filter((t) => t.receiver.track.kind === "video");
    const slots = {
      video: videos[0] || null,
      audio: unnamed.find((t) => t.receiver.track.kind === "audio") || null,
      screen: videos[1] || null,
    };
    for (const slot of /** @type {const} */ (["video", "audio", "screen"])) {
      const transceiver = slots[slot];
      if (!transceiver) continue;
      this.uplinks[slot] = transceiver;
      const kind = slot === "audio" ? "audio" : "video";
      const track = local && slot !== "screen" ? local.getTracks().find((t) => t.kind === kind) || null : null;
      await transceiver.sender.replaceTrack(track);
      if (local && track) transceiver.sender.setStreams(local);
      // Sending even without a track keeps the slot ready for replaceLocalTrack().
      transceiver.direction = "sendonly";
    }
  }

  /**
   * Swap the camera, microphone or shared screen without renegotiating.
   * @param {"audio" | "video" | "screen"} slot
   * @param {MediaStreamTrack | null} track
   * @returns {Promise<boolean>} whether there is such a slot to send on
   */
  async replaceLocalTrack(slot, track) {
    const transceiver = this.uplinks[slot];
    if (!transceiver || this.closed) return false;
    await transceiver.sender.replaceTrack(track);
    return true;
  }

  /**
   * Which participant each received track belongs to, from the latest `streams`.
   * @returns {RemoteMedia}
   */
  remoteMedia() {
    /** @type {RemoteMedia} */
    const media = new Map();
    for (const transceiver of this.pc.getTransceivers()) {
      const info = transceiver.mid !== null ? this.streams[transceiver.mid] : undefined;
      if (!info) continue;
      const entry = media.get(info.participant) || { audio: null, video: null, screen: null };
      entry[info.slot || info.kind] = new MediaStream([transceiver.receiver.track]);
      media.set(info.participant, entry);
    }
    return media;
  }

  /**
   * Receiver statistics per participant and kind ("audio", "video", or "screen" for a shared
   * screen), for the status view and tests.
   * @returns {Promise<Record<string, Record<string, Record<string, number>>>>}
   */
  async receiveStats() {
    /** @type {Record<string, Record<string, Record<string, number>>>} */
    const out = {};
    const jobs = this.pc.getTransceivers().map(async (transceiver) => {
      const info = transceiver.mid !== null ? this.streams[transceiver.mid] : undefined;
      if (!info) return;
      const report = await transceiver.receiver.getStats();
      report.forEach((stat) => {
        if (stat.type !== "inbound-rtp") return;
        out[info.participant] ??= {};
        out[info.participant][info.slot || info.kind] = {
          packetsReceived: stat.packetsReceived ?? 0,
          bytesReceived: stat.bytesReceived ?? 0,
          framesDecoded: stat.framesDecoded ?? 0,
          framesPerSecond: stat.framesPerSecond ?? 0,
          audioLevel: stat.audioLevel ?? 0,
          totalAudioEnergy: stat.totalAudioEnergy ?? 0,
          frameWidth: stat.frameWidth ?? 0,
          frameHeight: stat.frameHeight ?? 0,
        };
      });
    });
    await Promise.all(jobs);
    return out;
  }

  /**
   * Fresh TURN credentials (pushed before the old ones expire): used by the next gathering.
   * @param {RTCIceServer[]} iceServers
   * @returns {void}
   */
  setIceServers(iceServers) {
    setIceServers(this.pc, iceServers);
  }

  /**
   * Close the connection; later offers for it are ignored.
   * @returns {void}
   */
  close() {
    if (this.closed) return;
    this.closed = true;
    try {
      this.pc.close();
    } catch { /* already closed */ }
  }
}

/**
 * Give a connection new ICE servers; a closed connection or a browser that refuses keeps the old.
 * @param {RTCPeerConnection} pc
 * @param {RTCIceServer[]} iceServers
 * @returns {void}
 */
export function setIceServers(pc, iceServers) {
  try {
    pc.setConfiguration({ ...pc.getConfiguration(), iceServers });
  } catch (error) {
    console.warn("could not renew the TURN credentials", error);
  }
}

/**
 * Resolve when ICE gathering is complete, or after `timeoutMs` at most: the server
 * (aiortc) takes no trickled candidates, so the answer must carry them all.
 * @param {RTCPeerConnection} pc
 * @param {number} timeoutMs
 * @returns {Promise<void>}
 */
export function gatheringComplete(pc, timeoutMs) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === "complete") done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

/**
 * What `getStats()` says the media path is: the local and remote candidate of the pair in use.
 * @param {RTCPeerConnection} pc
 * @returns {Promise<{local: Record<string, any>, remote: Record<string, any>} | null>}
 */
export async function selectedPair(pc) {
  const report = await pc.getStats();
  /** @type {Map<string, any>} */
  const byId = new Map();
  report.forEach((entry) => byId.set(entry.id, entry));
  const transport = [...byId.values()].find((entry) => entry.type === "transport" && entry.selectedCandidatePairId);
  const pair = transport ? byId.get(transport.selectedCandidatePairId) : null;
  if (!pair || pair.state !== "succeeded") return null;
  /** @param {any} c */
  const end = (c) => c && ({ candidateType: c.candidateType, address: c.address, port: c.port,
    protocol: c.protocol, relayProtocol: c.relayProtocol });
  return { local: end(byId.get(pair.localCandidateId)), remote: end(byId.get(pair.remoteCandidateId)) };
}

/**
 * Ask for the camera as VP8 with three temporal layers (L1T3: every 4th frame is layer 0,
 * every other one layer 1 or 2, none refers to a higher layer): the SFU then sends a member on
 * a weak link 7.5 or 3.75 fps of it without lowering anyone else's. A browser that refuses it
 * (or knows no scalabilityMode) sends one layer, and the SFU forwards every frame to everyone.
 * @param {RTCRtpSender | null} sender
 * @returns {Promise<boolean>} whether the browser took it
 */
export async function preferTemporalLayers(sender) {
  if (!sender) return false;
  try {
    const parameters = sender.getParameters();
    const encodings = /** @type {(RTCRtpEncodingParameters & {scalabilityMode?: string})[]} */ (parameters.encodings || []);
    if (encodings.length === 0) return false;
    for (const encoding of encodings) encoding.scalabilityMode = "L1T3";
    await sender.setParameters(parameters);
    return true;
  } catch (error) {
    console.info("the camera is sent without temporal layers:", error);
    return false;
  }
}
