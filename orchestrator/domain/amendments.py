"""Motions (動議) and amendments (修正案), and the order in which an item is voted on.

An amendment to an item on the agenda is moved by a member with the supporters (賛成者) the
rules require; so is a procedural motion (休憩, 閉議, 延会). Per the 会議規則 every amendment
is voted on before the original (the chair arranges the amendments among themselves: the one
furthest from the original first); then, if an amendment was adopted, the original less the
amended parts (修正部分を除く原案), otherwise the original (原案). The item's result is derived
from those ballots' outcomes, never typed in.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from gikai.orchestrator.domain.errors import (
    InvalidArgument,
    NotAMember,
    NotEnoughSupporters,
    NotOnAgenda,
    SupporterNotAllowed,
    VoteOrderNotAllowed,
)
from gikai.orchestrator.domain.model import new_id
from gikai.orchestrator.domain.rules import StandingRules
from gikai.orchestrator.domain.voting import Outcome

TEXT_MAX = 20_000


# -- supporters -------------------------------------------------------------------------
def check_supporters(mover_id: str, supporters: Sequence[str], members: Collection[str],
                     needed: int) -> tuple[str, ...]:
    """The supporters as given, checked: members of the sitting, not the mover, each once, enough."""
    if mover_id not in members:
        raise NotAMember("only a member of the sitting can move a motion")
    if len(set(supporters)) != len(supporters):
        raise SupporterNotAllowed("a supporter is named twice")
    for s in supporters:
        if s == mover_id:
            raise SupporterNotAllowed("the mover cannot support their own motion")
        if s not in members:
            raise SupporterNotAllowed(f"{s} is not a member of the sitting")
    if len(supporters) < needed:
        raise NotEnoughSupporters(f"{len(supporters)} supporters, {needed} needed")
    return tuple(supporters)


def amendment_supporters_needed(rules: StandingRules, plenary: bool, fixed_membership: int) -> int:
    """Supporters an amendment needs besides its mover: the motion rule, and in plenary at
    least the rules' fraction of the fixed membership as movers (Local Autonomy Act art. 115-3)."""
    needed = rules.motion_supporters(plenary)
    if plenary:
        movers = math.ceil(fixed_membership * rules.amendment_movers_fraction_in_plenary)
        needed = max(needed, movers - 1)
    return needed


# -- procedural motions -------------------------------------------------------------------
class MotionKind(str, enum.Enum):
    RECESS = "recess"  # 休憩の動議
    CLOSE = "close"  # 閉議の動議 (close the day's proceedings)
    ADJOURN = "adjourn"  # 延会の動議 (continue on another day)

    @property
    def ja(self) -> str:
        """What the ballot on the motion is called."""
        return {"recess": "休憩の動議", "close": "閉議の動議", "adjourn": "延会の動議"}[self.value]


@dataclass(frozen=True)
class ProceduralMotion:
    kind: MotionKind
    mover_id: str
    supporters: tuple[str, ...]
    moved_at: datetime
    id: str = field(default_factory=new_id)


def move_motion(kind: MotionKind | str, mover_id: str, supporters: Sequence[str], members: Collection[str],
                rules: StandingRules, plenary: bool, now: datetime) -> ProceduralMotion:
    try:
        kind = MotionKind(kind)
    except ValueError:
        raise InvalidArgument(f"no motion kind {kind!r}") from None
    checked = check_supporters(mover_id, supporters, members, rules.motion_supporters(plenary))
    return ProceduralMotion(kind, mover_id, checked, now)


# -- amendments and the vote order --------------------------------------------------------
@dataclass(frozen=True)
class Amendment:
    item_id: str
    mover_id: str
    text: str
    supporters: tuple[str, ...]
    moved_at: datetime
    original: str = ""  # the words of the 原案 it changes (shown beside it as a diff); "" when it adds
    id: str = field(default_factory=new_id)


def move_amendment(item_id: str, agenda_item_ids: Collection[str], mover_id: str, text: str,
                   supporters: Sequence[str], members: Collection[str], rules: StandingRules, plenary: bool,
                   fixed_membership: int, now: datetime, original: str = "") -> Amendment:
    if item_id not in agenda_item_ids:
        raise NotOnAgenda(f"no agenda item {item_id}")
    text, original = text.strip(), original.strip()
    if not text or len(text) > TEXT_MAX or len(original) > TEXT_MAX:
        raise InvalidArgument("an amendment needs its text")
    needed = amendment_supporters_needed(rules, plenary, fixed_membership)
    checked = check_supporters(mover_id, supporters, members, needed)
    return Amendment(item_id, mover_id, text, checked, now, original)


class TargetKind(str, enum.Enum):
    AMENDMENT = "amendment"  # 修正案
    ORIGINAL = "original"  # 原案
    ORIGINAL_LESS_AMENDED = "original_less_amended"  # 修正部分を除く原案

    @property
    def ja(self) -> str:
        """What the ballot on the target is called."""
        return {"amendment": "修正案", "original": "原案", "original_less_amended": "修正部分を除く原案"}[self.value]


@dataclass(frozen=True)
class VoteTarget:
    kind: TargetKind
    amendment_id: str | None = None


class ItemResult(str, enum.Enum):
    ADOPTED_AS_PROPOSED = "adopted_as_proposed"  # 原案可決
    ADOPTED_AS_AMENDED = "adopted_as_amended"  # 修正可決
    REJECTED = "rejected"  # 否決

    @property
    def ja(self) -> str:
        return {"adopted_as_proposed": "原案可決", "adopted_as_amended": "修正可決", "rejected": "否決"}[self.value]


@dataclass(frozen=True)
class ItemVotes:
    """One item's amendments in the order the chair will put them, and the outcomes so far."""

    item_id: str
    amendments: tuple[Amendment, ...] = ()
    outcomes: tuple[tuple[VoteTarget, Outcome], ...] = ()

    def voted(self, target: VoteTarget) -> bool:
        return any(t == target for t, _ in self.outcomes)

    def pending_amendments(self) -> tuple[Amendment, ...]:
        return tuple(a for a in self.amendments if not self.voted(VoteTarget(TargetKind.AMENDMENT, a.id)))

    def amended(self) -> bool:
        return any(t.kind is TargetKind.AMENDMENT and o is Outcome.ADOPTED for t, o in self.outcomes)

    def add(self, amendment: Amendment) -> ItemVotes:
        """An amendment is moved: refused for another item or once the original was put."""
        if amendment.item_id != self.item_id:
            raise NotOnAgenda(f"the amendment is to {amendment.item_id}, not {self.item_id}")
        if any(t.kind is not TargetKind.AMENDMENT for t, _ in self.outcomes):
            raise VoteOrderNotAllowed("the original has already been put to the vote")
        return replace(self, amendments=(*self.amendments, amendment))

    def arrange(self, order: Sequence[str]) -> ItemVotes:
        """The chair orders the amendments not yet voted on (the one furthest from the original first)."""
        pending = self.pending_amendments()
        if sorted(order) != sorted(a.id for a in pending):
            raise VoteOrderNotAllowed("the order must list exactly the amendments not yet voted on")
        by_id = {a.id: a for a in pending}
        done = tuple(a for a in self.amendments if a.id not in by_id)
        return replace(self, amendments=done + tuple(by_id[i] for i in order))

    def record(self, target: VoteTarget, outcome: Outcome) -> ItemVotes:
        """A ballot's outcome on ``target``, which must be what the rules put next."""
        if outcome is Outcome.TIED:
            raise InvalidArgument("a tie counts once the chair has decided it")
        expected = next_vote(self)
        if expected is None:
            raise VoteOrderNotAllowed("this item has been decided")
        if target != expected:
            raise VoteOrderNotAllowed(f"{_describe(expected)} is put next, not {_describe(target)}")
        return replace(self, outcomes=(*self.outcomes, (target, outcome)))


def _describe(target: VoteTarget) -> str:
    return f"amendment {target.amendment_id}" if target.amendment_id else target.kind.value


def parse_target(text: str) -> VoteTarget:
    """A vote target as the edge sends it: ``amendment:<id>``, ``original`` or ``original_less_amended``."""
    kind, _, amendment_id = str(text).partition(":")
    try:
        target = TargetKind(kind)
    except ValueError:
        raise InvalidArgument(f"no vote target {text!r}") from None
    if (target is TargetKind.AMENDMENT) != bool(amendment_id):
        raise InvalidArgument(f"no vote target {text!r}")
    return VoteTarget(target, amendment_id or None)


def target_text(target: VoteTarget) -> str:
    return f"amendment:{target.amendment_id}" if target.kind is TargetKind.AMENDMENT else target.kind.value


def next_vote(item: ItemVotes) -> VoteTarget | None:
    """What is put to the vote next; None once the item is decided."""
    pending = item.pending_amendments()
    if pending:
        return VoteTarget(TargetKind.AMENDMENT, pending[0].id)
    last = VoteTarget(TargetKind.ORIGINAL_LESS_AMENDED if item.amended() else TargetKind.ORIGINAL)
    return None if item.voted(last) else last


def item_result(item: ItemVotes) -> ItemResult | None:
    """The item's result from its ballots (None while votes remain): the original adopted is
    原案可決 (also after every amendment was rejected); an amendment and the original less the
    amended parts adopted is 修正可決; the original (or its remainder) rejected is 否決."""
    if next_vote(item) is not None:
        return None
    final = item.outcomes[-1][1]
    if final is Outcome.REJECTED:
        return ItemResult.REJECTED
    return ItemResult.ADOPTED_AS_AMENDED if item.amended() else ItemResult.ADOPTED_AS_PROPOSED
