/**
 * The meeting screen's panels around the gallery: the sitting panel, the vote panel, the
 * documents, the shared screen on the stage, and the voting flow behind the vote panel. Built
 * and wired here; the page (app.js) gives them the state, the socket and its own commands.
 */
import { ConnectionLost } from "./signaling.js";
import { SittingView } from "./views/sitting.js";
import { VotePanel } from "./views/vote.js";
import { DocumentsView } from "./views/documents.js";
import { StageView } from "./views/stage.js";
import { RollCallStage } from "./views/rollcall.js";
import { ScreenShare } from "./screenshare.js";
import { Votes } from "./voting.js";
import { byId } from "./views/dom.js";
import { isPresiding } from "./sitting.js";

/**
 * @typedef {import("./store.js").State} State
 * @typedef {import("./store.js").StoreEvent} StoreEvent
 * @typedef {import("./signaling.js").Signaling} Signaling
 * @typedef {import("./peer.js").MediaPeer} MediaPeer
 * @typedef {object} PanelsHost what the panels need from the page
 * @property {() => State} state
 * @property {(event: StoreEvent) => void} dispatch
 * @property {() => Signaling | null} signaling the socket now, if any
 * @property {() => MediaPeer | null} peer the media connection now, if any
 * @property {(name: string, fields?: Record<string, any>) => Promise<boolean>} command a sitting command
 * @property {(error: unknown) => void} refused show why a request was refused
 * @property {() => string} token the rehearsal join token ("" for a logged-in member)
 */

export class MeetingPanels {
  /** @param {PanelsHost} host */
  constructor(host) {
    /**
     * A request on the socket now; refused at once while there is none.
     * @param {string} type
     * @param {Record<string, any>} [fields]
     * @returns {Promise<any>}
     */
    const request = (type, fields) => {
      const signaling = host.signaling();
      return signaling ? signaling.request(type, fields) : Promise.reject(new ConnectionLost());
    };
    const screen = byId("screen-meeting");
    this.sitting = new SittingView(byId("sitting"), {
      command: host.command,
      dismissError: () => host.dispatch({ type: "dismiss_error" }),
      attendance: () => request("attendance"),
      ballot: (action, fields) => this.votes.ballotAction(action, fields),
      showResult: (ballotId) => this.vote.showResult(ballotId),
    });
    this.vote = new VotePanel(byId("vote-panel"), {
      choose: (choice) => this.votes.step("confirm", { choice }),
      back: () => this.votes.step("choose"),
      cast: () => this.votes.cast(),
      dismiss: () => this.votes.step("dismissed"),
    });
    this.documents = new DocumentsView(screen, {
      present: (action, fields) => request("present", fields),
      token: host.token,
    });
    this.stage = new StageView(screen, {
      share: () => { this.screenShare.start(); },
      stop: () => { this.screenShare.end(); },
    });
    this.rollCall = new RollCallStage(screen, host.command);
    this.screenShare = new ScreenShare({
      peer: host.peer,
      present: (fields) => request("present", fields),
      onLocal: (stream) => this.stage.setLocalScreen(stream),
      onRefused: host.refused,
    });
    this.votes = new Votes({
      state: host.state,
      dispatch: host.dispatch,
      signaling: host.signaling,
      refused: host.refused,
      announced: (before, after, news) => {
        this.sitting.announceBallot(before, after);
        // The announcement is shown to everyone, large, until they close it; not to the chair
        // who announced it: the console shows it, and 議決 or 散会 come next without a 閉じる.
        if (after && news === "published" && !isPresiding(host.state())) this.vote.showResult(after.id);
      },
    });
  }

  /**
   * @param {State} state
   * @returns {void}
   */
  render(state) {
    this.sitting.render(state);
    this.vote.render(state);
    this.documents.render(state);
    this.stage.render(state);
    this.rollCall.render(state);
  }

  /** Rebuild every text after a language change. */
  retranslate() {
    this.sitting.retranslate();
    this.vote.retranslate();
    this.documents.retranslate();
    this.stage.retranslate();
  }

  /**
   * What a `sitting` push says happened, for the panels that read it out or follow it.
   * @param {import("./views/sitting.js").SittingEvent[]} events
   * @returns {void}
   */
  announce(events) {
    this.sitting.announce(events);
    this.documents.announce(events);
  }
}
