/**
 * Read-only hooks on `window.gikai` for end-to-end tests and for support staff in the
 * console (web/README.md lists them).
 */
import { language } from "./i18n.js";
import { selectedPair } from "./peer.js";
import { chimesPlayed } from "./chime.js";

/**
 * @param {import("./app.js").App} app
 * @returns {void}
 */
export function exposeHooks(app) {
  /** @type {any} */ (window).gikai = {
    get state() { return app.state; },
    get language() { return language(); },
    /** How many times the chair's chime for a new request has sounded on this page. */
    get chimes() { return chimesPlayed(); },
    get firstRemoteFrameMs() { return app.firstRemoteFrameMs; },
    get firstFrameByParticipant() { return { ...app.firstFrameByParticipant }; },
    get timeline() { return { ...app.timeline }; },
    get peerTimeline() { return app.peer ? { ...app.peer.timeline } : {}; },
    /** Remote videos shown now, with their decoded frame counts. */
    remoteVideos() {
      return [...app.meeting.tiles.values()].filter((tile) => tile.videoTrack).map((tile) => ({
        participant: tile.id,
        frames: tile.totalVideoFrames(),
        shown: tile.framesShown,
        width: tile.video.videoWidth,
        height: tile.video.videoHeight,
      }));
    },
    /** Received audio level per participant (analyser, 0..1 on a 60 dB scale). */
    audioLevels() {
      /** @type {Record<string, number>} */
      const out = {};
      for (const tile of app.meeting.tiles.values()) if (tile.meter) out[tile.id] = tile.meter.level();
      return out;
    },
    /** The shared screen on the stage: whose, and the video's decoded size and frames. */
    sharedScreen() {
      const video = app.panels.stage.video;
      return {
        presenter: app.state.sharedScreen?.presenter_id ?? null,
        shown: !app.panels.stage.section.hidden,
        width: video.videoWidth,
        height: video.videoHeight,
        frames: video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality().totalVideoFrames : 0,
        sharing: !!app.panels.screenShare.stream,
      };
    },
    /** inbound-rtp statistics per participant and kind. */
    stats() { return app.peer ? app.peer.receiveStats() : Promise.resolve({}); },
    get connectionState() { return app.peer ? app.peer.pc.connectionState : "none"; },
    /** The ICE servers the media connection was given (TURN URLs and a username; no credential). */
    get iceServers() {
      return app.iceServers.map((s) => ({ urls: s.urls, username: s.username }));
    },
    /** The selected candidate pair's two ends (type, address, port, protocol), or null. */
    selectedPair() { return app.peer ? selectedPair(app.peer.pc) : Promise.resolve(null); },
    /** The camera sender's scalability mode: asked for (parameters) and encoded (outbound-rtp). */
    async cameraScalability() {
      const sender = app.peer?.uplinks.video?.sender;
      if (!sender) return null;
      /** @type {(string | null)[]} */
      const encoded = [];
      (await sender.getStats()).forEach((stat) => {
        if (stat.type === "outbound-rtp") encoded.push(stat.scalabilityMode ?? null);
      });
      const asked = sender.getParameters().encodings.map((e) => /** @type {any} */ (e).scalabilityMode ?? null);
      return { asked, encoded };
    },
    /** Drop the socket as a network failure would; the client must rejoin by itself. */
    dropConnection() { app.signaling?.reconnect(); },
  };
}
