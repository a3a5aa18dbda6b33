"""Amendments (修正案) at the sitting, and the item's result from its ballots.

A member moves an amendment to an agenda item with its supporters (賛成者), or the clerk or the
chair enters it for the member (a 修正案 is usually handed in on paper); the chair may arrange the
amendments' order. Ballots on the item then follow the 会議規則 (amendments.py ``next_vote``):
each amendment first, then the original or the original less the amended parts. When the last
of them is published, the item is decided with the result that follows (原案可決, 修正可決, 否決),
never typed in. Everything here is replayed from the record after a restart (``item_votes_of``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from gikai.orchestrator.domain.agenda import ItemState
from gikai.orchestrator.domain.amendments import (
    Amendment,
    ItemVotes,
    MotionKind,
    ProceduralMotion,
    VoteTarget,
    item_result,
    move_amendment,
    move_motion,
    next_vote,
    parse_target,
    target_text,
)
from gikai.orchestrator.domain.errors import NotFound, VoteOrderNotAllowed
from gikai.orchestrator.domain.events import Entry, Event
from gikai.orchestrator.domain.sitting_state import SittingState
from gikai.orchestrator.domain.voting import Outcome


class SittingAmendments(SittingState):
    def move_amendment(self, actor: str, item_id: str, mover_id: str, original: str, text: str,
                       supporters: Sequence[str], now: datetime) -> list[Event]:
        self._require_open()
        if actor != mover_id:
            self._require_clerk_or_chair(actor)  # entered for the member who moved it
        members = {p.id for p in self.participants.values() if p.role.is_member and p.id not in self.removed}
        amendment = move_amendment(item_id, {i.id for i in self.agenda.items}, mover_id, text, supporters, members,
                                   self.rules, self.plenary, self.body.fixed_membership, now, original)
        if self.agenda.item(item_id).state is ItemState.DECIDED:
            raise VoteOrderNotAllowed("the item has been decided")
        self.item_votes[item_id] = self.votes_on(item_id).add(amendment)
        return [Event(Entry.AMENDMENT_MOVED, now, actor, {
            "amendment_id": amendment.id, "mover_id": mover_id, "supporters": list(amendment.supporters),
            "original": amendment.original, "text": amendment.text}, item_id)]

    def arrange_amendments(self, actor: str, item_id: str, order: Sequence[str], now: datetime) -> list[Event]:
        self._require_open()
        self._require_chair(actor)
        votes = self.votes_on(item_id)
        arranged = votes.arrange(order)
        if arranged == votes:
            return []
        self.item_votes[item_id] = arranged
        return [Event(Entry.AMENDMENTS_ARRANGED, now, actor, {"order": list(order)}, item_id)]

    # -- procedural motions (動議: 休憩, 閉議, 延会), each put to a vote of its own --------------
    def move_procedural_motion(self, actor: str, kind: str, mover_id: str, supporters: Sequence[str],
                               now: datetime) -> list[Event]:
        self._require_open()
        if actor != mover_id:
            self._require_clerk_or_chair(actor)
        members = {p.id for p in self.participants.values() if p.role.is_member and p.id not in self.removed}
        motion = move_motion(kind, mover_id, supporters, members, self.rules, self.plenary, now)
        self.motions[motion.id] = motion
        return [Event(Entry.MOTION_MOVED, now, actor, {
            "motion_id": motion.id, "kind": motion.kind.value, "mover_id": mover_id,
            "supporters": list(motion.supporters)})]

    def motion_target(self, motion_id: str) -> ProceduralMotion:
        """A motion to put to the vote: moved, and not voted on yet."""
        motion = self.motions.get(motion_id)
        if motion is None:
            raise NotFound(f"motion {motion_id}")
        if motion_id in self.motion_outcomes:
            raise VoteOrderNotAllowed("this motion has been voted on")
        return motion

    def motion_result(self, motion_id: str, outcome: Outcome) -> None:
        """A published ballot on the motion (its result is that ballot's entry)."""
        self.motion_outcomes[motion_id] = outcome

    def votes_on(self, item_id: str) -> ItemVotes:
        return self.item_votes.get(item_id) or ItemVotes(item_id)

    def vote_target(self, item_id: str, requested: str) -> VoteTarget:
        """The ballot's target, checked against what the rules put to the vote next."""
        target = parse_target(requested)
        expected = next_vote(self.votes_on(item_id))
        if expected is None:
            raise VoteOrderNotAllowed("this item has been decided")
        if target != expected:
            raise VoteOrderNotAllowed(f"{target_text(expected)} is put to the vote next")
        return target

    def ballot_result(self, item_id: str, target: VoteTarget, outcome: Outcome, now: datetime,
                      actor: str | None) -> list[Event]:
        """A published ballot on ``target``; once it is the last the rules call for, the item is
        decided with the result that follows from the ballots."""
        votes = self.votes_on(item_id).record(target, outcome)
        self.item_votes[item_id] = votes
        result = item_result(votes)
        if result is None:
            return []
        item = self.agenda.item(item_id)
        item.state, item.result = ItemState.DECIDED, result.ja
        return [Event(Entry.ITEM_DECIDED, now, actor, {"result": result.ja, "by_ballots": result.value}, item_id)]


def item_votes_of(entries: Iterable[tuple[str, datetime, Mapping[str, Any], str | None]],
                  start: Mapping[str, ItemVotes] | None = None) -> dict[str, ItemVotes]:
    """Replay ``(name, at, data, agenda item id)`` entries (after ``start``): each item's
    amendments in their order and the outcomes of the ballots on them (a ballot counts once its
    result is published)."""
    votes: dict[str, ItemVotes] = dict(start or {})
    targets: dict[str, tuple[str, VoteTarget]] = {}
    for name, at, d, item_id in entries:
        if name == Entry.AMENDMENT_MOVED and item_id:
            amendment = Amendment(item_id, str(d["mover_id"]), str(d["text"]), tuple(d.get("supporters", ())), at,
                                  str(d.get("original", "")), str(d["amendment_id"]))
            votes[item_id] = votes.get(item_id, ItemVotes(item_id)).add(amendment)
        elif name == Entry.AMENDMENTS_ARRANGED and item_id:
            votes[item_id] = votes.get(item_id, ItemVotes(item_id)).arrange(list(d["order"]))
        elif name == Entry.BALLOT_OPENED and item_id and d.get("target") and not is_motion(str(d["target"])):
            targets[str(d["ballot_id"])] = (item_id, parse_target(str(d["target"])))
        elif name == Entry.RESULT_PUBLISHED and str(d.get("ballot_id")) in targets:
            on, target = targets.pop(str(d["ballot_id"]))
            votes[on] = votes.get(on, ItemVotes(on)).record(target, Outcome(d["outcome"]))
    return votes


AMENDMENT_ENTRIES = (Entry.AMENDMENT_MOVED, Entry.AMENDMENTS_ARRANGED, Entry.BALLOT_OPENED, Entry.RESULT_PUBLISHED)


MOTION_PREFIX = "motion:"


def is_motion(target: str) -> bool:
    return target.startswith(MOTION_PREFIX)


def motions_of(entries: Iterable[tuple[str, datetime, Mapping[str, Any]]],
               ) -> tuple[dict[str, ProceduralMotion], dict[str, Outcome]]:
    """Replay the procedural motions moved and the published results of the ballots on them."""
    motions: dict[str, ProceduralMotion] = {}
    outcomes: dict[str, Outcome] = {}
    on: dict[str, str] = {}  # ballot -> motion
    for name, at, d in entries:
        if name == Entry.MOTION_MOVED:
            motions[str(d["motion_id"])] = ProceduralMotion(MotionKind(d["kind"]), str(d["mover_id"]),
                                                            tuple(d.get("supporters", ())), at, str(d["motion_id"]))
        elif name == Entry.BALLOT_OPENED and is_motion(str(d.get("target", ""))):
            on[str(d["ballot_id"])] = str(d["target"])[len(MOTION_PREFIX):]
        elif name == Entry.RESULT_PUBLISHED and str(d.get("ballot_id")) in on:
            outcomes[on.pop(str(d["ballot_id"]))] = Outcome(d["outcome"])
    return motions, outcomes


MOTION_ENTRIES = (Entry.MOTION_MOVED, Entry.BALLOT_OPENED, Entry.RESULT_PUBLISHED)
