"""Recomputing a sitting's decisions from its record alone: quorum and every tally.

The hash chain (ledger.py) proves the record was not edited; this module proves the record
is consistent with itself: that each quorum decision follows from the attendance recorded
before it, that each ballot's entitlement follows from who was counted, that every vote came
from an entitled member once, and that every result follows from the votes and the majority
rule. ``gikai verify`` runs both. Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any

from gikai.orchestrator.domain.amendments import (
    ItemVotes,
    VoteTarget,
    item_result,
    next_vote,
    parse_target,
    target_text,
)
from gikai.orchestrator.domain.errors import DomainError
from gikai.orchestrator.domain.events import QUORUM_DECISIONS, Entry
from gikai.orchestrator.domain.ledger import Problem
from gikai.orchestrator.domain.sitting_amendments import is_motion, item_votes_of
from gikai.orchestrator.domain.voting import Majority, Outcome, outcome_of

CHOICES = ("yes", "no", "abstain")
# Decisions that must not be taken without quorum (a lost quorum is recorded, not refused).
_NEED_QUORUM = frozenset({Entry.SITTING_OPENED, Entry.SITTING_RESUMED, Entry.BALLOT_OPENED, Entry.BALLOT_CLOSED})


@dataclass
class _Ballot:
    kind: str
    majority: Majority
    abstain_allowed: bool
    entitled: frozenset[str]
    fixed_membership: int
    state: str = "open"
    voters: set[str] = field(default_factory=set)
    named: dict[str, str] = field(default_factory=dict)
    received: int = 0
    closed: dict[str, Any] | None = None


class _Bad(Exception):
    pass


@dataclass
class Auditor:
    context: dict[str, Any] | None = None
    present: dict[str, str] = field(default_factory=dict)  # participant id -> remote | in_room
    permitted: set[str] = field(default_factory=set)  # members permitted to attend remotely
    ballots: dict[str, _Ballot] = field(default_factory=dict)
    checked_quorum: int = 0
    checked_ballots: int = 0
    # the minutes' signing: who must sign (presiding first), the final hash, who signed it
    signers: tuple[str, ...] | None = None
    minutes_hash: str | None = None
    signed: set[str] = field(default_factory=set)
    # each item's amendments and targeted ballots (sitting_amendments.py), as replayed
    items: dict[str, ItemVotes] = field(default_factory=dict)
    targets: dict[str, tuple[str, VoteTarget]] = field(default_factory=dict)

    # -- what the record says, replayed -----------------------------------------
    def counted(self) -> list[str]:
        assert self.context is not None
        people = self.context["participants"]
        remote_counts = bool(self.context["remote_counts"])
        # recorded since remote attendance by permission; an older record required none
        by_permission = bool(self.context.get("remote_requires_permission", False))
        return sorted(pid for pid, mode in self.present.items()
                      if people.get(pid, {}).get("member")
                      and (mode == "in_room" or (remote_counts and (not by_permission or pid in self.permitted))))

    def needed(self) -> int:
        assert self.context is not None
        fixed = int(self.context["fixed_membership"])
        needed = fixed * Fraction(self.context["quorum_fraction"])
        return int(needed) if needed.denominator == 1 else int(needed) + 1

    def check_quorum(self, name: str, data: dict[str, Any]) -> bool:
        """The decision's quorum as recomputed; raises when the record says otherwise."""
        recorded = data.get("quorum", data if name in (Entry.QUORUM_LOST, Entry.QUORUM_RESTORED) else None)
        if not isinstance(recorded, dict):
            raise _Bad(f"{name} does not record its quorum")
        counted, needed = self.counted(), self.needed()
        if sorted(recorded.get("counted", [])) != counted:
            raise _Bad(f"{name} counts {len(recorded.get('counted', []))} present, "
                       f"but the attendance recorded before it gives {len(counted)}")
        if recorded.get("needed") != needed:
            raise _Bad(f"{name} needs {recorded.get('needed')}, the rules give {needed}")
        self.checked_quorum += 1
        return len(counted) >= needed

    # -- one entry -----------------------------------------------------------------
    def apply(self, e: dict[str, Any]) -> None:
        name, data, actor = e["name"], e.get("data") or {}, e.get("actor_id")
        if name == Entry.ATTENDANCE_STARTED:
            self.present[data["participant_id"]] = data.get("mode", "remote")
        elif name == Entry.ATTENDANCE_ENDED:
            self.present.pop(data["participant_id"], None)
        elif name == Entry.REMOTE_ATTENDANCE_PERMITTED:
            self.permitted.add(data["member_id"])
        if name == Entry.SITTING_OPENED:
            if not isinstance(data.get("context"), dict):
                raise _Bad("the opening does not record the body's rules and roster")
            self.context = data["context"]
        if name in QUORUM_DECISIONS and self.context is not None:
            met = self.check_quorum(name, data)
            if name in _NEED_QUORUM and not met:
                raise _Bad(f"{name} without quorum")
            if (name == Entry.QUORUM_LOST and met) or (name == Entry.QUORUM_RESTORED and not met):
                raise _Bad(f"{name} contradicts the attendance recorded before it")
        handler = _BALLOT_HANDLERS.get(name) or _MINUTES_HANDLERS.get(name)
        if handler is not None:
            handler(self, data, actor)
        if name in _ITEM_VOTES:
            self._item_votes(name, data, e.get("agenda_item_id"))

    # -- amendments and the order of the votes on an item (amendments.py) ----------------
    def _item_votes(self, name: str, data: dict[str, Any], item_id: str | None) -> None:
        """Replays the item's amendments and targeted ballots; a ballot out of the rules' order,
        or an item result that does not follow from its ballots, is named."""
        try:
            if name == Entry.BALLOT_OPENED and data.get("target") and not is_motion(str(data["target"])):
                if not item_id:
                    raise _Bad("a ballot on an item's amendment or original without its item")
                target = parse_target(str(data["target"]))
                expected = next_vote(self.items.get(item_id) or ItemVotes(item_id))
                if target != expected:
                    raise _Bad(f"a ballot on {data['target']}, but the rules put "
                               f"{target_text(expected) if expected else 'nothing more'} to the vote")
                self.targets[str(data["ballot_id"])] = (item_id, target)
            elif name == Entry.ITEM_DECIDED and data.get("by_ballots"):
                result = item_result(self.items.get(item_id or "") or ItemVotes(str(item_id)))
                if result is None or result.value != data["by_ballots"] or result.ja != data.get("result"):
                    raise _Bad(f"the item's result '{data.get('result')}' does not follow from its ballots")
            elif name == Entry.RESULT_PUBLISHED and str(data.get("ballot_id")) in self.targets:
                on, target = self.targets.pop(str(data["ballot_id"]))
                self.items[on] = (self.items.get(on) or ItemVotes(on)).record(target, Outcome(data["outcome"]))
            elif name in (Entry.AMENDMENT_MOVED, Entry.AMENDMENTS_ARRANGED) and item_id:
                self.items.update(item_votes_of([(name, datetime.min, data, item_id)], self.items))
        except DomainError as exc:
            raise _Bad(f"{name}: {exc.code}") from None

    def _ballot(self, data: dict[str, Any]) -> _Ballot:
        ballot = self.ballots.get(data.get("ballot_id", ""))
        if ballot is None:
            raise _Bad(f"ballot {data.get('ballot_id')} was never opened")
        return ballot

    def _ballot_opened(self, data: dict[str, Any], actor: str | None) -> None:
        if self.context is None:
            raise _Bad("a ballot opened before the sitting")
        majority = Majority(data["majority"])
        counted = set(self.counted())
        entitled = set(counted)
        if not self.context.get("remote_votes", True):
            entitled -= {pid for pid, mode in self.present.items() if mode == "remote"}
        if self.context.get("chair_votes_only_on_tie", True) and majority is Majority.SIMPLE and actor:
            entitled.discard(actor)
        if sorted(entitled) != sorted(data.get("entitled", [])):
            raise _Bad("the ballot's list of who may vote does not follow from the attendance")
        if data["ballot_id"] in self.ballots:
            raise _Bad("the same ballot opened twice")
        self.ballots[data["ballot_id"]] = _Ballot(
            data["kind"], majority, bool(data.get("abstain_allowed", False)), frozenset(entitled),
            int(data.get("fixed_membership", self.context["fixed_membership"])))

    def _vote(self, data: dict[str, Any], actor: str | None) -> _Ballot:
        ballot = self._ballot(data)
        if ballot.state != "open":
            raise _Bad("a vote after the ballot closed")
        if actor not in ballot.entitled:
            raise _Bad("a vote from a member not entitled to vote")
        if actor in ballot.voters:
            raise _Bad("a second vote from the same member")
        ballot.voters.add(actor)
        return ballot

    def _vote_cast(self, data: dict[str, Any], actor: str | None) -> None:
        ballot = self._vote(data, actor)
        choice = data.get("choice")
        if ballot.kind != "named" or choice not in CHOICES or (choice == "abstain" and not ballot.abstain_allowed):
            raise _Bad("a vote that this ballot does not allow")
        assert actor is not None
        ballot.named[actor] = choice

    def _vote_received(self, data: dict[str, Any], actor: str | None) -> None:
        ballot = self._vote(data, actor)
        if ballot.kind != "secret" or "choice" in data:
            raise _Bad("a secret vote on the record with its choice, or on a named ballot")
        ballot.received += 1

    def _counts(self, ballot: _Ballot, data: dict[str, Any]) -> dict[str, int]:
        counts = {c: int(data.get(c, -1)) for c in CHOICES}
        if ballot.kind == "named":
            expected = {c: sum(1 for v in ballot.named.values() if v == c) for c in CHOICES}
            if counts != expected:
                raise _Bad(f"the tally {counts} does not match the votes recorded {expected}")
        elif sum(counts.values()) != ballot.received or min(counts.values()) < 0:
            raise _Bad(f"the tally counts {sum(counts.values())} votes, {ballot.received} were received")
        if data.get("entitled") != len(ballot.entitled):
            raise _Bad("the tally's number entitled does not match the ballot")
        return counts

    def _outcome(self, ballot: _Ballot, counts: dict[str, int]) -> Outcome:
        return outcome_of(ballot.majority, counts["yes"], counts["no"], len(ballot.entitled),
                          ballot.fixed_membership)

    def _ballot_closed(self, data: dict[str, Any], actor: str | None) -> None:
        ballot = self._ballot(data)
        if ballot.state != "open":
            raise _Bad("a ballot closed twice")
        counts = self._counts(ballot, data)
        if data.get("outcome") != self._outcome(ballot, counts).value:
            raise _Bad(f"the result '{data.get('outcome')}' does not follow from the votes")
        ballot.state, ballot.closed = "closed", dict(counts)
        self.checked_ballots += 1

    def _tie_decided_by_chair(self, data: dict[str, Any], actor: str | None) -> None:
        ballot = self._ballot(data)
        if ballot.state != "closed" or ballot.closed is None:
            raise _Bad("a tie decided before the ballot closed")
        if self._outcome(ballot, ballot.closed) is not Outcome.TIED:
            raise _Bad("the chair decided a ballot that was not tied")
        if data.get("outcome") not in (Outcome.ADOPTED.value, Outcome.REJECTED.value):
            raise _Bad("the chair's decision is neither adopted nor rejected")
        ballot.state = "decided:" + data["outcome"]

    def _result_published(self, data: dict[str, Any], actor: str | None) -> None:
        ballot = self._ballot(data)
        if ballot.closed is None or ballot.state == "published":
            raise _Bad("a result published before closing, or twice")
        counts = self._counts(ballot, data)
        if counts != ballot.closed:
            raise _Bad("the published tally differs from the tally at closing")
        expected = self._outcome(ballot, counts)
        if expected is Outcome.TIED:
            if not ballot.state.startswith("decided:"):
                raise _Bad("a tied result published without the chair's decision")
            expected = Outcome(ballot.state.split(":", 1)[1])
        if data.get("outcome") != expected.value:
            raise _Bad(f"the published result '{data.get('outcome')}' does not follow from the votes")
        if ballot.kind == "named" and data.get("votes") != dict(sorted(ballot.named.items())):
            raise _Bad("the published list of votes differs from the votes recorded")
        ballot.state = "published"


    # -- the minutes' signatures (Local Autonomy Act art. 123) -------------------------
    def _signers_named(self, data: dict[str, Any], actor: str | None) -> None:
        presiding, named = list(data.get("presiding", [])), list(data.get("named", []))
        if actor not in presiding:
            raise _Bad("signers named by someone who did not preside")
        people = self.context["participants"] if self.context else {}
        if len(set(named)) != len(named) or any(n in presiding for n in named) or (
                people and any(not people.get(n, {}).get("member") for n in named)):
            raise _Bad("the signers named are not distinct members of the sitting other than the chair")
        if self.minutes_hash is not None:
            raise _Bad("signers named after the minutes were finalised")
        self.signers = tuple(presiding) + tuple(named)

    def _minutes_finalised(self, data: dict[str, Any], actor: str | None) -> None:
        if self.minutes_hash is not None:
            raise _Bad("the minutes finalised twice")
        self.minutes_hash = str(data["sha256"])

    def _minutes_signed(self, data: dict[str, Any], actor: str | None) -> None:
        signer = data.get("signer_id")
        if self.minutes_hash is None:
            raise _Bad("a signature before the minutes were finalised")
        if data.get("sha256") != self.minutes_hash:
            raise _Bad("a signature over other minutes than the ones finalised")
        if self.signers is None or signer not in self.signers or actor != signer:
            raise _Bad(f"a signature by {signer}, who was not named to sign")
        if signer in self.signed:
            raise _Bad(f"a second signature by {signer}")
        self.signed.add(str(signer))

    @property
    def unsigned(self) -> tuple[str, ...]:
        """Who was named to sign the final minutes and has not (empty until both exist)."""
        if self.signers is None or self.minutes_hash is None:
            return ()
        return tuple(s for s in self.signers if s not in self.signed)


_BallotHandler = Callable[[Auditor, dict[str, Any], str | None], None]
_BALLOT_HANDLERS: dict[str, _BallotHandler] = {
    Entry.BALLOT_OPENED: Auditor._ballot_opened,
    Entry.VOTE_CAST: Auditor._vote_cast,
    Entry.VOTE_RECEIVED: Auditor._vote_received,
    Entry.BALLOT_CLOSED: Auditor._ballot_closed,
    Entry.TIE_DECIDED_BY_CHAIR: Auditor._tie_decided_by_chair,
    Entry.RESULT_PUBLISHED: Auditor._result_published,
}


_ITEM_VOTES = frozenset({Entry.AMENDMENT_MOVED, Entry.AMENDMENTS_ARRANGED, Entry.BALLOT_OPENED,
                         Entry.RESULT_PUBLISHED, Entry.ITEM_DECIDED})
_MINUTES_HANDLERS: dict[str, _BallotHandler] = {
    Entry.MINUTES_SIGNERS_NAMED: Auditor._signers_named,
    Entry.MINUTES_FINALISED: Auditor._minutes_finalised,
    Entry.MINUTES_SIGNED: Auditor._minutes_signed,
}


def audit(entries: Sequence[dict[str, Any]]) -> tuple[Problem | None, Auditor]:
    """Replay a chain-verified record; the first entry whose decision does not follow."""
    auditor = Auditor()
    for e in entries:
        try:
            auditor.apply(e)
        except _Bad as bad:
            return Problem(int(e.get("seq", 0)), f"entry {e.get('seq')} ({e.get('name')}): {bad}"), auditor
        except (KeyError, TypeError, ValueError) as exc:
            return Problem(int(e.get("seq", 0)), f"entry {e.get('seq')} ({e.get('name')}) is malformed: {exc}"), auditor
    return None, auditor
