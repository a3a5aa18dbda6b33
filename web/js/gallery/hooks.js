/**
 * The gallery page's hooks for the end-to-end tests (`window.gikaiGallery`): what it shows, its
 * media connection's state and statistics, the broadcast player's progress.
 */
import { selectedPair } from "../peer.js";

/** @param {import("../pages/gallery.js").GalleryPage} page */
export function exposeHooks(page) {
  /** @type {any} */ (window).gikaiGallery = {
    get view() { return page.view; },
    get mode() { return page.mode; },
    get soundOn() { return page.soundOn; },
    get framesShown() { return page.framesShown; },
    get fallback() { return page.hls !== null; },
    get broadcastSegments() { return page.hls ? page.hls.segmentsAppended : 0; },
    /** Bytes of sound the broadcast's player has decoded (Chromium), or -1. */
    get broadcastAudioBytes() { return /** @type {any} */ (page.video).webkitAudioDecodedByteCount ?? -1; },
    get videoTime() { return page.video.currentTime; },
    get connectionState() { return page.peer ? page.peer.pc.connectionState : "none"; },
    /** The selected candidate pair's two ends (getStats), or null. */
    selectedPair() { return page.peer ? selectedPair(page.peer.pc) : Promise.resolve(null); },
    audioLevel() { return page.audioLevel(); },
    videoSize() { return { width: page.video.videoWidth, height: page.video.videoHeight }; },
    /** Average colour of the picture shown now, [r, g, b]. */
    colour() {
      const canvas = document.createElement("canvas");
      canvas.width = 64;
      canvas.height = 36;
      const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
      ctx.drawImage(page.video, 0, 0, 64, 36);
      const data = ctx.getImageData(0, 0, 64, 36).data;
      const sum = [0, 0, 0];
      for (let i = 0; i < data.length; i += 4) for (let c = 0; c < 3; c++) sum[c] += data[i + c];
      return sum.map((s) => s / (data.length / 4));
    },
    /** inbound-rtp statistics: one video entry, one per audio slot. */
    async stats() {
      /** @type {{video: Record<string, number> | null, audio: Record<string, number>[]}} */
      const out = { video: null, audio: [] };
      if (!page.peer) return out;
      (await page.peer.pc.getStats()).forEach((s) => {
        if (s.type !== "inbound-rtp") return;
        const entry = { packetsReceived: s.packetsReceived ?? 0, framesDecoded: s.framesDecoded ?? 0,
          totalAudioEnergy: s.totalAudioEnergy ?? 0, frameWidth: s.frameWidth ?? 0 };
        if (s.kind === "video") out.video = entry;
        else out.audio.push(entry);
      });
      return out;
    },
  };
}
