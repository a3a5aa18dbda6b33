"""Attendance, first version: intervals from connections (remote) and the clerk's check-in
(in the chamber). The presence issue will replace "connected" with "seen on camera"."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from gikai.orchestrator.domain.model import Participant, new_id
from gikai.orchestrator.domain.rules import StandingRules, quorum_met, quorum_needed


class Mode(str, enum.Enum):
    REMOTE = "remote"  # 遠隔出席
    IN_ROOM = "in_room"  # 議場


@dataclass
class AttendanceInterval:
    participant_id: str
    mode: Mode
    start: datetime
    end: datetime | None = None
    id: str = field(default_factory=new_id)


@dataclass
class Attendance:
    intervals: list[AttendanceInterval] = field(default_factory=list)

    def open_interval(self, participant_id: str) -> AttendanceInterval | None:
        return next(
            (i for i in reversed(self.intervals) if i.participant_id == participant_id and i.end is None),
            None,
        )

    def arrive(self, participant_id: str, mode: Mode, now: datetime) -> AttendanceInterval | None:
        """Start an interval; None when one is already open in that mode (idempotent)."""
        current = self.open_interval(participant_id)
        if current is not None:
            if current.mode is mode:
                return None
            current.end = now  # moving from the chamber to remote, or back
        interval = AttendanceInterval(participant_id, mode, now)
        self.intervals.append(interval)
        return interval

    def depart(self, participant_id: str, now: datetime) -> AttendanceInterval | None:
        current = self.open_interval(participant_id)
        if current is None:
            return None
        current.end = now
        return current

    def present(self) -> dict[str, Mode]:
        return {i.participant_id: i.mode for i in self.intervals if i.end is None}


@dataclass(frozen=True)
class QuorumStatus:
    counted: tuple[str, ...]  # member ids counted present
    # (member id, reason): "absent", "remote_not_counted", "remote_not_permitted"
    not_counted: tuple[tuple[str, str], ...]
    needed: int
    fixed_membership: int

    @property
    def met(self) -> bool:
        return len(self.counted) >= self.needed


def quorum_status(
    members: Iterable[Participant], present: dict[str, Mode], fixed_membership: int,
    rules: StandingRules, plenary: bool, remote_permitted: frozenset[str] | None = None,
) -> QuorumStatus:
    """``remote_permitted``: the members permitted to attend remotely, where the rules require
    permission (None: they do not); a remote member without it only watches."""
    counted: list[str] = []
    not_counted: list[tuple[str, str]] = []
    for m in members:
        if not m.role.is_member:
            continue
        mode = present.get(m.id)
        if mode is None:
            not_counted.append((m.id, "absent"))
        elif mode is Mode.REMOTE and remote_permitted is not None and m.id not in remote_permitted:
            not_counted.append((m.id, "remote_not_permitted"))
        elif mode is Mode.REMOTE and not rules.remote_counts(plenary):
            not_counted.append((m.id, "remote_not_counted"))
        else:
            counted.append(m.id)
    status = QuorumStatus(tuple(counted), tuple(not_counted), quorum_needed(fixed_membership, rules), fixed_membership)
    assert status.met == quorum_met(len(counted), fixed_membership, rules)
    return status
