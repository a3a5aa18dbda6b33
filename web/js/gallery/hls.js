/**
 * The public broadcast played when the gallery's WebRTC seats are full or WebRTC fails: the
 * sitting's HLS stream (/broadcast/<meeting id>/index.m3u8, H.264 + AAC in fMP4 segments) read by
 * this small player through Media Source Extensions, or natively where the browser plays HLS and
 * has no MSE. Nothing is fetched but the playlist and its segments; no library.
 *
 * The playlist is read every target duration; new segments are appended in order. Playback
 * starts three segments from the live end and is kept within a few seconds of it.
 */

const CODECS = 'video/mp4; codecs="avc1.42C01E, mp4a.40.2"'; // media/archive/broadcast/live.py's settings
const START_BEHIND = 3; // segments from the live end where playback starts
const MAX_BEHIND_S = 6; // further behind the buffered end than this: jump to near the end
const KEEP_S = 30; // seconds kept behind the playback position

/**
 * @typedef {{init: string | null, sequence: number, segments: string[], ended: boolean, target: number}} Playlist
 */

/** @param {string} text @returns {Playlist} */
export function parsePlaylist(text) {
  /** @type {Playlist} */
  const out = { init: null, sequence: 0, segments: [], ended: false, target: 1 };
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#EXT-X-MAP:")) out.init = (/URI="([^"]+)"/.exec(line) || [])[1] || null;
    else if (line.startsWith("#EXT-X-MEDIA-SEQUENCE:")) out.sequence = Number(line.split(":")[1]) || 0;
    else if (line.startsWith("#EXT-X-TARGETDURATION:")) out.target = Number(line.split(":")[1]) || 1;
    else if (line === "#EXT-X-ENDLIST") out.ended = true;
    else if (line && !line.startsWith("#")) out.segments.push(line);
  }
  return out;
}

/** @param {string} url @returns {Promise<boolean>} whether the broadcast is on (its playlist exists) */
export async function broadcastAvailable(url) {
  try {
    return (await fetch(url, { cache: "no-store" })).ok;
  } catch {
    return false;
  }
}

/** Can this browser play the broadcast at all? */
export function canPlayBroadcast() {
  return (typeof MediaSource !== "undefined" && MediaSource.isTypeSupported(CODECS))
    || document.createElement("video").canPlayType("application/vnd.apple.mpegurl") !== "";
}

export class HlsPlayer {
  /**
   * @param {HTMLVideoElement} video
   * @param {string} url the playlist
   */
  constructor(video, url) {
    this.video = video;
    this.url = url;
    this.base = url.slice(0, url.lastIndexOf("/") + 1);
    this.stopped = false;
    this.segmentsAppended = 0;
    /** @type {string | null} */
    this.init = null;
    this.next = -1; // media sequence number of the next segment to append
    /** @type {SourceBuffer | null} */
    this.buffer = null;
    /** @type {MediaSource | null} */
    this.source = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
  }

  start() {
    if (typeof MediaSource === "undefined" || !MediaSource.isTypeSupported(CODECS)) {
      this.video.src = this.url; // the browser plays HLS itself (Safari on an iPhone)
      this.video.play().catch(() => {});
      return;
    }
    const source = this.source = new MediaSource();
    source.addEventListener("sourceopen", () => {
      this.buffer = source.addSourceBuffer(CODECS);
      this.poll();
    }, { once: true });
    this.video.src = URL.createObjectURL(source);
  }

  stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.video.src.startsWith("blob:")) URL.revokeObjectURL(this.video.src);
    this.video.removeAttribute("src");
    this.video.load();
  }

  async poll() {
    if (this.stopped) return;
    let wait = 1000;
    try {
      const response = await fetch(this.url, { cache: "no-store" });
      if (response.ok) {
        const list = parsePlaylist(await response.text());
        wait = list.target * 1000;
        await this.take(list);
        if (list.ended && this.next >= list.sequence + list.segments.length) {
          if (this.source?.readyState === "open" && !this.buffer?.updating) this.source.endOfStream();
          return;
        }
      }
    } catch (error) {
      console.warn("broadcast:", error);
    }
    this.timer = setTimeout(() => this.poll(), wait);
  }

  /** @param {Playlist} list */
  async take(list) {
    if (!list.init || !list.segments.length) return;
    if (list.init !== this.init) {
      // A new encoder run (the server restarted): its timeline starts again.
      if (this.init !== null) this.buffer?.abort();
      this.init = list.init;
      await this.append(this.base + list.init);
      this.next = -1;
    }
    const last = list.sequence + list.segments.length - 1;
    if (this.next < list.sequence || this.next > last + 1) {
      this.next = Math.max(list.sequence, last - START_BEHIND + 1); // start, or fell off the list
    }
    for (; this.next <= last && !this.stopped; this.next++) {
      await this.append(this.base + list.segments[this.next - list.sequence]);
      this.segmentsAppended += 1;
    }
    this.keepUp();
  }

  /** @param {string} url */
  async append(url) {
    const response = await fetch(url);
    if (!response.ok) return; // rolled off the list meanwhile
    const data = await response.arrayBuffer();
    const buffer = /** @type {SourceBuffer} */ (this.buffer);
    await new Promise((resolve, reject) => {
      buffer.addEventListener("updateend", resolve, { once: true });
      buffer.addEventListener("error", reject, { once: true });
      buffer.appendBuffer(data);
    });
  }

  /** Play near the live end; drop what is long past. */
  keepUp() {
    const video = this.video;
    const ranges = video.buffered;
    if (!ranges.length) return;
    const end = ranges.end(ranges.length - 1);
    if (video.currentTime < ranges.start(0) || end - video.currentTime > MAX_BEHIND_S) {
      video.currentTime = Math.max(ranges.start(ranges.length - 1), end - START_BEHIND);
    }
    if (video.paused) video.play().catch(() => {});
    const buffer = this.buffer;
    if (buffer && !buffer.updating && video.currentTime - ranges.start(0) > KEEP_S + 10) {
      buffer.remove(0, video.currentTime - KEEP_S);
    }
  }
}
