"""Votes (表決): motions, ballots, who may vote, casting, tallies and majority rules.

Pure rules only; identity (passkeys), evidence and the tamper-evident ledger live at the
edges and in the service layer. A ballot snapshots who is entitled when it opens; a vote is
accepted only from an entitled member who is present at the moment of casting; a cast vote
cannot be changed, and repeating the same vote changes nothing (a retried request).
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from gikai.orchestrator.domain.errors import DomainError, QuorumNotMet
from gikai.orchestrator.domain.model import new_id


class Choice(str, enum.Enum):
    YES = "yes"  # 賛成
    NO = "no"  # 反対
    ABSTAIN = "abstain"  # 棄権 (only where the rules allow it)


class BallotKind(str, enum.Enum):
    NAMED = "named"  # 記名: each member's choice is on the record
    SECRET = "secret"  # 無記名


class Majority(str, enum.Enum):
    SIMPLE = "simple"  # more yes than no among the votes cast; a tie is decided by the chair
    TWO_THIRDS_PRESENT = "two_thirds_present"  # yes from two thirds or more of those entitled (present)
    ABSOLUTE = "absolute"  # yes from more than half of the fixed membership


class BallotState(str, enum.Enum):
    CREATED = "created"
    OPEN = "open"
    CLOSED = "closed"
    PUBLISHED = "published"


class Outcome(str, enum.Enum):
    ADOPTED = "adopted"  # 可決
    REJECTED = "rejected"  # 否決
    TIED = "tied"  # 可否同数: the chair decides


class BallotNotOpen(DomainError):
    code = "ballot_not_open"
    ja = "この採決は受け付けていません。"
    en = "This ballot is not open."


class NotEntitled(DomainError):
    code = "not_entitled"
    ja = "この採決で投票できる方に含まれていません。"
    en = "You are not entitled to vote in this ballot."


class NotPresent(DomainError):
    code = "not_present"
    ja = "投票の時点でカメラに映っていないため、投票できません。カメラの正面に座ってください。"
    en = "You must be seen on camera when you vote. Please sit in front of the camera."


class AlreadyVoted(DomainError):
    code = "already_voted"
    ja = "すでに投票しています。投票は変更できません。"
    en = "You have already voted. A vote cannot be changed."


class ChoiceNotAllowed(DomainError):
    code = "choice_not_allowed"
    ja = "この採決では選べない選択肢です。"
    en = "That choice is not available in this ballot."


class BallotAlreadyOpen(DomainError):
    code = "ballot_already_open"
    ja = "ほかの採決がまだ終わっていません。先にその採決を締め切ってください。"
    en = "Another ballot is still open. Close it first."


class NoPasskey(DomainError):
    code = "no_passkey"
    ja = "本人確認用のパスキーが登録されていません。事務局に登録用リンクを依頼してください。"
    en = "You have no passkey yet. Please ask the clerk for an enrolment link."


class VoteNotConfirmed(DomainError):
    code = "passkey_failed"
    # The one text of passkey_failed, also for a login whose passkey fails (signaling/errors.py).
    ja = "パスキーで本人確認できませんでした。もう一度やり直してください。"
    en = "Your passkey could not be verified. Please try again."


def vote_challenge(ballot_id: str, choice: Choice, voter_id: str, nonce: bytes) -> bytes:
    """The WebAuthn challenge for one vote: the passkey signs this ballot and this choice only."""
    bound = "\0".join(("gikai-vote", ballot_id, choice.value, voter_id)).encode()
    return hashlib.sha256(bound + b"\0" + nonce).digest()


@dataclass(frozen=True)
class Tally:
    yes: int
    no: int
    abstain: int
    entitled: int
    fixed_membership: int
    outcome: Outcome
    decided_by_chair: bool = False

    @property
    def cast(self) -> int:
        return self.yes + self.no + self.abstain


@dataclass
class Ballot:
    """One round of voting on a motion."""

    meeting_id: str
    agenda_item_id: str | None
    motion: str
    kind: BallotKind = BallotKind.NAMED
    majority: Majority = Majority.SIMPLE
    abstain_allowed: bool = False
    state: BallotState = BallotState.CREATED
    entitled: frozenset[str] = frozenset()
    fixed_membership: int = 0
    chair_id: str | None = None
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    voters: set[str] = field(default_factory=set)  # who voted (both kinds)
    named: dict[str, Choice] = field(default_factory=dict)  # named ballots only
    counts: dict[Choice, int] = field(default_factory=lambda: dict.fromkeys(Choice, 0))
    chair_decision: Choice | None = None
    id: str = field(default_factory=new_id)

    def open(self, entitled: set[str], fixed_membership: int, chair_id: str | None,
             quorum_met: bool, now: datetime) -> None:
        """Open the ballot with a snapshot of who may vote."""
        if self.state is not BallotState.CREATED:
            raise BallotNotOpen("the ballot has already been opened")
        if not quorum_met:
            raise QuorumNotMet("a ballot cannot open without quorum")
        self.entitled = frozenset(entitled)
        self.fixed_membership = fixed_membership
        self.chair_id = chair_id
        self.opened_at = now
        self.state = BallotState.OPEN

    def cast(self, member_id: str, choice: Choice, present_now: bool) -> bool:
        """Record a vote; False when the same vote was already recorded (a retry)."""
        if self.state is not BallotState.OPEN:
            raise BallotNotOpen()
        if member_id not in self.entitled:
            raise NotEntitled()
        if choice is Choice.ABSTAIN and not self.abstain_allowed:
            raise ChoiceNotAllowed("abstaining is not allowed in this ballot")
        if member_id in self.voters:
            if self.kind is BallotKind.NAMED and self.named.get(member_id) is choice:
                return False  # the same vote again: nothing changes
            raise AlreadyVoted()
        if not present_now:
            raise NotPresent()
        self.voters.add(member_id)
        self.counts[choice] += 1
        if self.kind is BallotKind.NAMED:
            self.named[member_id] = choice
        return True

    def close(self, quorum_met: bool, now: datetime) -> Tally:
        if self.state is not BallotState.OPEN:
            raise BallotNotOpen()
        if not quorum_met:
            raise QuorumNotMet("a ballot cannot close without quorum")
        self.state = BallotState.CLOSED
        self.closed_at = now
        return self.tally()

    def decide_tie(self, chair_id: str, choice: Choice) -> Tally:
        """可否同数のときは議長の決するところによる (Local Autonomy Act art. 116)."""
        if self.state is not BallotState.CLOSED or self.tally().outcome is not Outcome.TIED:
            raise BallotNotOpen("only a closed, tied ballot is decided by the chair")
        if chair_id != self.chair_id:
            from gikai.orchestrator.domain.errors import NotChair

            raise NotChair()
        if choice is Choice.ABSTAIN:
            raise ChoiceNotAllowed("the chair decides yes or no")
        self.chair_decision = choice
        return self.tally()

    def publish(self) -> Tally:
        tally = self.tally()
        if self.state is not BallotState.CLOSED or tally.outcome is Outcome.TIED:
            raise BallotNotOpen("close the ballot (and decide a tie) before publishing")
        self.state = BallotState.PUBLISHED
        return tally

    def tally(self) -> Tally:
        yes, no, abstain = self.counts[Choice.YES], self.counts[Choice.NO], self.counts[Choice.ABSTAIN]
        outcome = outcome_of(self.majority, yes, no, len(self.entitled), self.fixed_membership)
        by_chair = False
        if outcome is Outcome.TIED and self.chair_decision is not None:
            outcome = Outcome.ADOPTED if self.chair_decision is Choice.YES else Outcome.REJECTED
            by_chair = True
        return Tally(yes, no, abstain, len(self.entitled), self.fixed_membership, outcome, by_chair)


def outcome_of(majority: Majority, yes: int, no: int, entitled: int, fixed_membership: int) -> Outcome:
    if majority is Majority.SIMPLE:
        if yes == no:
            return Outcome.TIED
        return Outcome.ADOPTED if yes > no else Outcome.REJECTED
    if majority is Majority.TWO_THIRDS_PRESENT:
        return Outcome.ADOPTED if yes * 3 >= entitled * 2 and yes > 0 else Outcome.REJECTED
    return Outcome.ADOPTED if yes * 2 > fixed_membership else Outcome.REJECTED


def entitled_members(counted: set[str], remote: set[str], chair_id: str | None, *,
                     remote_may_vote: bool, chair_votes_only_on_tie: bool, majority: Majority) -> set[str]:
    """Who may vote when a ballot opens.

    Members counted present, less remote members where the rules do not let them vote, less
    the chair for a simple majority (the chair decides only a tie). For special majorities the
    chair votes like any member (Local Autonomy Act art. 116 para. 2).
    """
    entitled = set(counted)
    if not remote_may_vote:
        entitled -= remote
    if chair_id is not None and chair_votes_only_on_tie and majority is Majority.SIMPLE:
        entitled.discard(chair_id)
    return entitled
