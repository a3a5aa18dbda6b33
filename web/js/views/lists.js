/**
 * The sitting's lists, built fresh from the state: the speaker queue, the agenda, the
 * quorum and the roster. Everyone sees the queue and the agenda; the presiding chair
 * gets buttons in them, the chair and the clerk get the quorum and the roster. DOM only.
 */
import { t } from "../i18n.js";
import { h, button } from "./dom.js";
import {
  person, selfId, moved, attendanceOf, inSeatOrder, isMemberRole, presenceOf,
} from "../sitting.js";

/**
 * @typedef {import("../store.js").State} State
 * @typedef {import("../signaling.js").Sitting} Sitting
 * @typedef {(name: string, fields?: Record<string, any>) => Promise<boolean>} Command
 * @typedef {{command: Command, decide: (itemId: string, title: string) => void,
 *   remove: (participantId: string, name: string) => void}} ListActions
 */

/**
 * "山田 太郎(委員長)"
 * @param {State} state
 * @param {string} id
 * @returns {string}
 */
export function nameWithRole(state, id) {
  const p = person(state, id);
  const role = p.role ? t(`role.${p.role}`) : "";
  return role ? t("sitting.name_role", { name: p.name, role }) : p.name;
}

/**
 * The speaker queue; with `chair`, grant / deny / move buttons per request.
 * @param {State} state
 * @param {boolean} chair
 * @param {ListActions} actions
 * @returns {Node[]}
 */
export function queueItems(state, chair, actions) {
  const sitting = /** @type {Sitting} */ (state.sitting);
  const requests = sitting.queue.requests;
  if (!requests.length) return [h("li", { class: "empty" }, t("sitting.queue.empty"))];
  const ids = requests.map((r) => r.id);
  const version = sitting.queue.version;
  const canGrant = sitting.state === "open" && !sitting.floor;
  return requests.map((request, i) => {
    const mine = request.participant_id === selfId(state);
    const label = h("div", { class: "row-text" },
      h("span", { class: "seq", "aria-hidden": "true" }, `${i + 1}`),
      h("span", { class: "who" }, nameWithRole(state, request.participant_id)),
      mine ? h("span", { class: "chip you" }, t("meeting.you")) : null,
      h("span", { class: `chip kind kind-${request.kind}` }, t(`speech.${request.kind}`)));
    const buttons = chair ? h("div", { class: "row-buttons" },
      button(t("chair.grant"), "grant", () => actions.command("grant", { request_id: request.id }),
        { kind: "primary", disabled: !canGrant, key: `grant-${request.id}` }),
      button(t("chair.deny"), "deny", () => actions.command("deny", { request_id: request.id }),
        { key: `deny-${request.id}` }),
      button(t("chair.up"), "move-up", () => actions.command("reorder", { order: moved(ids, i, -1), version }),
        { disabled: i === 0, key: `up-${request.id}` }),
      button(t("chair.down"), "move-down", () => actions.command("reorder", { order: moved(ids, i, 1), version }),
        { disabled: i === requests.length - 1, key: `down-${request.id}` }),
    ) : null;
    return h("li", {
      class: `queue-item${mine ? " mine" : ""}`, "data-testid": "queue-item",
      "data-participant-id": request.participant_id, "data-request-id": request.id,
    }, label, buttons);
  });
}

/**
 * The agenda with the current item marked; with `chair`, take up / decide buttons.
 * @param {State} state
 * @param {boolean} chair
 * @param {ListActions} actions
 * @returns {Node[]}
 */
export function agendaItems(state, chair, actions) {
  const sitting = /** @type {Sitting} */ (state.sitting);
  if (!sitting.agenda.length) return [h("li", { class: "empty" }, t("sitting.agenda.empty"))];
  const open = sitting.state === "open";
  return sitting.agenda.map((item) => {
    const current = item.id === sitting.current_item_id;
    const done = item.state === "decided" || item.state === "withdrawn";
    let actionsRow = null;
    if (chair && !done) {
      actionsRow = h("div", { class: "row-buttons" }, current
        ? button(t("chair.decide"), "decide", () => actions.decide(item.id, item.title),
          { kind: "primary", disabled: !open, key: `decide-${item.id}` })
        : button(t("chair.take_up"), "take-up", () => actions.command("take_up", { item_id: item.id }),
          { disabled: !open, key: `take-${item.id}` }));
    }
    return h("li", {
      class: `agenda-item state-${item.state}${current ? " current" : ""}`, "data-testid": "agenda-item",
      "data-item-id": item.id, "aria-current": current ? "step" : null,
    },
    h("div", { class: "row-text" },
      h("span", { class: "chip" }, t(`item.kind.${item.kind}`)),
      h("span", { class: "title" }, item.title)),
    h("div", { class: "row-text" },
      h("span", { class: `chip item-state state-${item.state}` }, t(`item.state.${item.state}`)),
      item.result ? h("span", { class: "result", "data-testid": "agenda-result" },
        t("sitting.agenda.result", { result: item.result })) : null),
    actionsRow);
  });
}

/**
 * Why a member is not counted, in the chair's words: absent, remote (a plenary that does not
 * count remote members), or what the camera analysis sees of a connected member.
 * @param {Sitting} sitting
 * @param {{id: string, reason: string}} entry
 * @returns {string} a `quorum.why.*` suffix
 */
export function notCountedWhy(sitting, entry) {
  if (entry.reason !== "absent") return entry.reason;
  const seen = presenceOf(sitting, entry.id);
  return ["away", "camera_off", "link_lost", "not_alone"].includes(seen) ? seen : "absent";
}

const WHY_ORDER = ["away", "camera_off", "link_lost", "not_alone", "remote_not_permitted", "remote_not_counted",
  "absent"];

/**
 * Counted vs needed of the fixed membership, who is counted, and who is not and why.
 * @param {State} state
 * @returns {Node[]}
 */
export function quorumParts(state) {
  const sitting = /** @type {Sitting} */ (state.sitting);
  const q = sitting.quorum;
  const counted = q.counted.length;
  const percent = Math.min(100, Math.round((counted / Math.max(1, q.fixed)) * 100));
  const needPercent = Math.min(100, Math.round((q.needed / Math.max(1, q.fixed)) * 100));
  const parts = [
    h("p", { class: `quorum-verdict ${q.met ? "met" : "not-met"}`, "data-testid": "quorum-verdict" },
      q.met ? t("quorum.met") : t("quorum.not_met", { missing: q.needed - counted })),
    h("p", { class: "quorum-numbers", "data-testid": "quorum-numbers" },
      t("quorum.numbers", { counted, needed: q.needed, fixed: q.fixed })),
    h("div", {
      class: "quorum-meter", role: "meter", "aria-valuemin": 0, "aria-valuemax": q.fixed,
      "aria-valuenow": counted, "aria-label": t("quorum.title"),
      style: `--counted:${percent}%;--needed:${needPercent}%`,
    }, h("div", { class: "quorum-bar" }), h("div", { class: "quorum-mark" })),
  ];
  const list = (/** @type {string} */ testid, /** @type {string} */ heading, /** @type {string[]} */ ids,
    /** @type {string} */ cls) => h("div", { class: `quorum-group ${cls}`, "data-testid": testid },
    h("strong", {}, heading),
    h("ul", { class: "quorum-names" }, ...ids.map((id) =>
      h("li", { "data-participant-id": id }, person(state, id).name))));
  if (counted) parts.push(list("counted", t("quorum.counted", { n: counted }), q.counted, "counted"));
  /** @type {Record<string, string[]>} */
  const byWhy = {};
  for (const entry of q.not_counted) (byWhy[notCountedWhy(sitting, entry)] ??= []).push(entry.id);
  for (const why of WHY_ORDER) {
    const ids = byWhy[why];
    if (!ids?.length) continue;
    parts.push(list(`not-counted-${why}`, t("quorum.reason_count", { reason: t(`quorum.why.${why}`), n: ids.length }),
      ids, `not-counted why-${why}`));
  }
  return parts;
}

/**
 * The roster with attendance. `mode` "chair": mute / remove per person; "clerk": check
 * members in and out of the chamber.
 * @param {State} state
 * @param {"chair" | "clerk"} mode
 * @param {ListActions} actions
 * @returns {Node[]}
 */
export function rosterItems(state, mode, actions) {
  const sitting = /** @type {Sitting} */ (state.sitting);
  const me = selfId(state);
  const people = inSeatOrder(state.participants).filter((p) => mode === "chair" || isMemberRole(p.role));
  return people.map((p) => {
    const attendance = attendanceOf(sitting, p.id);
    const removed = sitting.removed.includes(p.id);
    const muted = sitting.muted.includes(p.id);
    const chips = [
      h("span", { class: `chip attendance attendance-${attendance}`, "data-testid": "attendance" },
        t(`attendance.${attendance}`)),
      presenceChip(sitting, p.id, attendance),
      muted ? h("span", { class: "chip warn" }, t("roster.muted")) : null,
      removed ? h("span", { class: "chip danger" }, t("roster.removed")) : null,
      p.id === me ? h("span", { class: "chip you" }, t("meeting.you")) : null,
    ];
    /** @type {HTMLElement[]} */
    const buttons = [];
    if (mode === "chair" && p.id !== me && !removed) {
      buttons.push(button(t(muted ? "chair.unmute" : "chair.mute"), muted ? "unmute" : "mute",
        () => actions.command("mute", { participant_id: p.id, muted: !muted }), { key: `mute-${p.id}` }));
      buttons.push(button(t("chair.remove"), "remove", () => actions.remove(p.id, p.name),
        { kind: "danger-outline", key: `remove-${p.id}` }));
    }
    if (mode === "clerk" && !removed) {
      const inRoom = attendance === "in_room";
      buttons.push(button(t(inRoom ? "clerk.check_out" : "clerk.check_in"), inRoom ? "check-out" : "check-in",
        () => actions.command(inRoom ? "check_out" : "check_in", { participant_id: p.id }),
        { kind: "secondary", key: `check-${p.id}` }));
    }
    return h("li", { class: "roster-item", "data-testid": "roster-item", "data-participant-id": p.id },
      h("div", { class: "row-text" },
        h("span", { class: "who" }, nameWithRole(state, p.id)), ...chips),
      buttons.length ? h("div", { class: "row-buttons" }, ...buttons) : null);
  });
}

/**
 * What the camera analysis sees of a remote participant, for the chair and the clerk.
 * @param {Sitting} sitting
 * @param {string} id
 * @param {string} attendance
 * @returns {HTMLElement | null}
 */
function presenceChip(sitting, id, attendance) {
  const presence = presenceOf(sitting, id);
  if (!presence || presence === "disconnected" || attendance === "in_room") return null;
  return h("span", { class: `chip presence presence-${presence}`, "data-testid": "presence" },
    t(`presence.${presence}`));
}
