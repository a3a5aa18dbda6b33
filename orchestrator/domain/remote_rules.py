"""What a member attending remotely may do, per kind of sitting and kind of speech, and what a
speaking-time limit counts.

The defaults follow the Ministry's 2023 Q&A on remote plenary sittings: in plenary a remote
member may hold the floor for a general question (一般質問) only, is not counted toward
quorum and does not vote; in committee a remote member does everything. Each is a rule of
the body (rules.py), not a fact of the code. Whether a remote member attends at all (the
chair's permission) is remote_permission.py's question: ``remote_rights`` joins both.
"""

from __future__ import annotations

from dataclasses import dataclass

from gikai.orchestrator.domain.errors import RemoteSpeechNotAllowed
from gikai.orchestrator.domain.remote_permission import RemoteApplications, may_attend_remotely
from gikai.orchestrator.domain.rules import LimitBasis, SpeechKind, StandingRules


def remote_may_take_floor(rules: StandingRules, plenary: bool, kind: SpeechKind) -> bool:
    return kind in rules.remote_may_speak(plenary)


def check_remote_floor(rules: StandingRules, plenary: bool, kind: SpeechKind) -> None:
    """Refuse the floor to a remote member for a kind of speech the rules keep from them."""
    if not remote_may_take_floor(rules, plenary, kind):
        where = "plenary" if plenary else "committee"
        raise RemoteSpeechNotAllowed(f"{kind.value} from a remote member in {where}")


@dataclass(frozen=True)
class RemoteRights:
    """What one member attending remotely may do in one sitting."""

    attends: bool  # False: may watch only (no permission where the rules require it)
    counted: bool  # toward quorum
    votes: bool
    may_speak: frozenset[SpeechKind]

    @property
    def watch_only(self) -> bool:
        return not self.attends


def remote_rights(applications: RemoteApplications, member_id: str, rules: StandingRules,
                  plenary: bool) -> RemoteRights:
    if not may_attend_remotely(applications, member_id, rules, plenary):
        return RemoteRights(False, False, False, frozenset())
    return RemoteRights(True, rules.remote_counts(plenary), rules.remote_votes(plenary),
                        rules.remote_may_speak(plenary))


def seconds_counted(rules: StandingRules, kind: SpeechKind, asking: float, answering: float) -> float:
    """How much of a speech counts against its limit: the member's own time, plus the
    answers' where the limit includes them (答弁を含む)."""
    if asking < 0 or answering < 0:
        raise ValueError("times cannot be negative")
    if rules.limit_basis_of(kind) is LimitBasis.WITH_ANSWERS:
        return asking + answering
    return asking


def seconds_left(rules: StandingRules, kind: SpeechKind, asking: float, answering: float,
                 extended: int = 0) -> float:
    """What is left of the limit (negative: over it)."""
    return rules.speech_limit(kind) + extended - seconds_counted(rules, kind, asking, answering)
