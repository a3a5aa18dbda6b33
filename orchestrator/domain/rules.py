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
    GENERAL_QUESTION = "general_question"  # 一般質問 (the executive answers; see LimitBasis)


class LimitBasis(str, enum.Enum):
    """What a speaking-time limit counts (each 会議規則 says it per kind of speech)."""

    QUESTION_ONLY = "question_only"  # 質問のみ: the clock runs only while the member speaks
    WITH_ANSWERS = "with_answers"  # 答弁を含む: the executive's answers count against the limit too


DEFAULT_SPEECH_LIMITS = {
    SpeechKind.SPEECH: 10 * 60,
    SpeechKind.QUESTION: 10 * 60,
    SpeechKind.DEBATE_PRO: 10 * 60,
    SpeechKind.DEBATE_CONTRA: 10 * 60,
    SpeechKind.POINT_OF_ORDER: 3 * 60,
    SpeechKind.EXPLANATION: 20 * 60,
    SpeechKind.GENERAL_QUESTION: 60 * 60,
}

# Kinds not named here count the question only.
DEFAULT_LIMIT_BASIS = {SpeechKind.GENERAL_QUESTION: LimitBasis.WITH_ANSWERS}

# The 2023 Q&A on remote plenary sittings: a member attending remotely may hold the floor for a
# general question only; in committee, for every kind of speech.
DEFAULT_REMOTE_MAY_SPEAK_IN_PLENARY = frozenset({SpeechKind.GENERAL_QUESTION})
DEFAULT_REMOTE_MAY_SPEAK_IN_COMMITTEE = frozenset(SpeechKind)


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
    # A third person on a remote member's camera (more than one face) for this long is flagged to
    # the chair and the clerk and noted on the record; the body's rule decides whether the member
    # then stops being counted (and voting) or is only warned about.
    third_person_after_seconds: int = 10
    third_person_stops_counting: bool = False
    # The archive: record sittings while open (the chair can switch it off and on), whether a
    # recess is recorded too, and how many years recordings are kept (0: for ever).
    record_sittings: bool = True
    record_recess: bool = False
    retention_years: int = 0
    # What each kind's limit counts (kinds not named: the question only).
    limit_basis: dict[SpeechKind, LimitBasis] = field(default_factory=lambda: dict(DEFAULT_LIMIT_BASIS))
    # Which kinds of speech a member attending remotely may hold the floor for, per kind of sitting.
    remote_may_speak_in_plenary: frozenset[SpeechKind] = DEFAULT_REMOTE_MAY_SPEAK_IN_PLENARY
    remote_may_speak_in_committee: frozenset[SpeechKind] = DEFAULT_REMOTE_MAY_SPEAK_IN_COMMITTEE
    # Remote attendance by the chair's permission (remote_permission.py), per kind of sitting; an
    # application is made until this many hours before the scheduled start (0: until the opening).
    # Off unless the body's rules say so: a body that never set it keeps counting its remote
    # members as before (the clerk turns it on per body: `gikai body create --remote-permission`).
    remote_requires_permission_in_plenary: bool = False
    remote_requires_permission_in_committee: bool = False
    remote_application_deadline_hours: int = 0
    # 動議: how many supporters (賛成者, besides the mover) a motion needs, per kind of sitting.
    motion_supporters_in_plenary: int = 1
    motion_supporters_in_committee: int = 1
    # Local Autonomy Act art. 115-3: an amendment in plenary is moved by at least this fraction
    # of the fixed membership (mover and supporters together); 0 leaves only the number above.
    amendment_movers_fraction_in_plenary: Fraction = Fraction(1, 12)
    # 会議録署名議員: how many members the chair names at the opening to sign the minutes.
    minutes_signers: int = 2

    def __post_init__(self) -> None:
        if not (0 < self.quorum_fraction <= 1):
            raise ValueError("quorum fraction must be in (0, 1]")
        if any(limit <= 0 for limit in self.speech_limits.values()):
            raise ValueError("speaking limits must be positive")
        if not (0 <= self.amendment_movers_fraction_in_plenary <= 1):
            raise ValueError("the amendment movers' fraction must be in [0, 1]")
        counts = (self.remote_application_deadline_hours, self.motion_supporters_in_plenary,
                  self.motion_supporters_in_committee, self.minutes_signers)
        if any(n < 0 for n in counts):
            raise ValueError("deadlines, supporters and signers cannot be negative")

    def speech_limit(self, kind: SpeechKind) -> int:
        return self.speech_limits.get(kind, DEFAULT_SPEECH_LIMITS[kind])

    def remote_counts(self, plenary: bool) -> bool:
        return self.remote_counts_in_plenary if plenary else self.remote_counts_in_committee

    def remote_votes(self, plenary: bool) -> bool:
        return self.remote_votes_in_plenary if plenary else self.remote_votes_in_committee

    def limit_basis_of(self, kind: SpeechKind) -> LimitBasis:
        return self.limit_basis.get(kind, LimitBasis.QUESTION_ONLY)

    def remote_may_speak(self, plenary: bool) -> frozenset[SpeechKind]:
        return self.remote_may_speak_in_plenary if plenary else self.remote_may_speak_in_committee

    def remote_requires_permission(self, plenary: bool) -> bool:
        return self.remote_requires_permission_in_plenary if plenary else self.remote_requires_permission_in_committee

    def motion_supporters(self, plenary: bool) -> int:
        return self.motion_supporters_in_plenary if plenary else self.motion_supporters_in_committee


def quorum_needed(fixed_membership: int, rules: StandingRules) -> int:
    """The smallest number present that makes a quorum (12 fixed, one half: 6)."""
    needed = fixed_membership * rules.quorum_fraction
    return int(needed) if needed.denominator == 1 else int(needed) + 1


def quorum_met(present: int, fixed_membership: int, rules: StandingRules) -> bool:
    return present >= quorum_needed(fixed_membership, rules)
