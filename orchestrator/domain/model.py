"""Bodies, members, sittings and the participants of a sitting.

A sitting (会議) is the class ``Meeting`` here, with its ``MeetingState``: the other layers,
the database and the protocol use those names, so they stay; inside the domain the word is
"sitting".
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from gikai.orchestrator.domain.errors import InvalidRoster
from gikai.orchestrator.domain.rules import StandingRules


def new_id() -> str:
    return uuid.uuid4().hex


class BodyKind(str, enum.Enum):
    PLENARY = "plenary"  # 本会議
    COMMITTEE = "committee"  # 委員会


class Role(str, enum.Enum):
    CHAIR = "chair"  # 委員長 / 議長
    VICE_CHAIR = "vice_chair"  # 副委員長 / 副議長
    MEMBER = "member"  # 委員 / 議員
    CLERK = "clerk"  # 事務局
    PRESENTER = "presenter"  # 説明員
    EXPERT = "expert"  # 参考人
    OBSERVER = "observer"  # 傍聴・その他

    @property
    def is_member(self) -> bool:
        return self in (Role.CHAIR, Role.VICE_CHAIR, Role.MEMBER)


class MeetingState(str, enum.Enum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    RECESSED = "recessed"
    ADJOURNED = "adjourned"


@dataclass
class Body:
    name: str
    kind: BodyKind
    fixed_membership: int
    id: str = field(default_factory=new_id)
    rehearsal: bool = False
    rules: StandingRules = field(default_factory=StandingRules)
    # Terms the speech recogniser is prompted with (domain/transcript.py clean_vocabulary)
    vocabulary: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidRoster("a body needs a name")
        if self.fixed_membership < 1:
            raise InvalidRoster("fixed membership must be at least 1")


@dataclass
class Member:
    body_id: str
    name: str
    reading: str
    seat: int
    role: Role = Role.MEMBER
    id: str = field(default_factory=new_id)


@dataclass
class Meeting:
    """A sitting of a body: what it is called, when and where it is held, how far it has got."""

    body_id: str
    title: str
    scheduled_at: datetime
    place: str = ""
    state: MeetingState = MeetingState.SCHEDULED
    id: str = field(default_factory=new_id)


@dataclass
class Participant:
    """Someone taking part in one sitting: a member of the body, or a clerk, presenter…"""

    meeting_id: str
    name: str
    reading: str
    role: Role
    seat: int | None = None
    member_id: str | None = None
    id: str = field(default_factory=new_id)
