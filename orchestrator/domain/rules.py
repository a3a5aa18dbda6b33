"""A body's standing rules (会議規則) as data, and the arithmetic that follows from them.

Nothing here is hard-coded per council: every default below is what most Japanese local
councils use, and each can be changed for a body.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from fractions import Fraction


class SpeechKind(str, enum.Enum):
    SPEECH = "speech"  # 発言
    QUESTION = "question"  # 質疑
    DEBATE_PRO = "debate_pro"  # 賛成討論
    DEBATE_CONTRA = "debate_contra"  # 反対討論
    POINT_OF_ORDER = "point_of_order"  # 議事進行
    EXPLANATION = "explanation"  # 説明 (presenter / expert, granted by the chair)


DEFAULT_SPEECH_LIMITS = {
    SpeechKind.SPEECH: 10 * 60,
    SpeechKind.QUESTION: 10 * 60,
    SpeechKind.DEBATE_PRO: 10 * 60,
    SpeechKind.DEBATE_CONTRA: 10 * 60,
    SpeechKind.POINT_OF_ORDER: 3 * 60,
    SpeechKind.EXPLANATION: 20 * 60,
}


@dataclass(frozen=True)
class StandingRules:
    # Quorum: present / fixed membership >= quorum_fraction ("half or more" by default).
    quorum_fraction: Fraction = Fraction(1, 2)
    # Whether members attending remotely count toward quorum / may vote, per kind of sitting.
    remote_counts_in_plenary: bool = False
    remote_counts_in_committee: bool = True
    remote_votes_in_plenary: bool = False
    remote_votes_in_committee: bool = True
    # Local Autonomy Act art. 116: the chair does not vote, except to break a tie.
    chair_votes_only_on_tie: bool = True
    # Speaking-time limits in seconds per speech kind, and the warning before the end.
    speech_limits: dict[SpeechKind, int] = field(default_factory=lambda: dict(DEFAULT_SPEECH_LIMITS))
    warning_seconds: int = 60
    # Presence seen on camera: how long a problem must last before a member stops being
    # counted, and how long they must be seen again before they are counted again.
    away_after_seconds: int = 10  # no face
    camera_off_after_seconds: int = 5  # no live picture (off, black, frozen)
    link_lost_after_seconds: int = 10  # not receiving the chamber
    return_after_seconds: int = 3
    # The archive: record sittings while open (the chair can switch it off and on), whether a
    # recess is recorded too, and how many years recordings are kept (0: for ever).
    record_sittings: bool = True
    record_recess: bool = False
    retention_years: int = 0

    def __post_init__(self) -> None:
        if not (0 < self.quorum_fraction <= 1):
            raise ValueError("quorum fraction must be in (0, 1]")
        if any(limit <= 0 for limit in self.speech_limits.values()):
            raise ValueError("speaking limits must be positive")

    def speech_limit(self, kind: SpeechKind) -> int:
        return self.speech_limits.get(kind, DEFAULT_SPEECH_LIMITS[kind])

    def remote_counts(self, plenary: bool) -> bool:
        return self.remote_counts_in_plenary if plenary else self.remote_counts_in_committee

    def remote_votes(self, plenary: bool) -> bool:
        return self.remote_votes_in_plenary if plenary else self.remote_votes_in_committee


def quorum_needed(fixed_membership: int, rules: StandingRules) -> int:
    """The smallest number present that makes a quorum (12 fixed, one half: 6)."""
    needed = fixed_membership * rules.quorum_fraction
    return int(needed) if needed.denominator == 1 else int(needed) + 1


def quorum_met(present: int, fixed_membership: int, rules: StandingRules) -> bool:
    return present >= quorum_needed(fixed_membership, rules)
