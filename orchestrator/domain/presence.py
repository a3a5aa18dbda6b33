"""Is a remote member really there? A state machine over what the server observes.

Present means: a face on a live picture, and the link working both ways (the member's
screen is receiving the chamber). Short lapses are forgiven: a problem must last its grace
period before the member stops being counted, and a member must be seen for a while before
being counted again, so glancing down at a paper does not strike anyone off.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gikai.orchestrator.domain.rules import StandingRules


class Presence(str, enum.Enum):
    PRESENT = "present"
    CAMERA_OFF = "camera_off"  # no live picture: camera off, black, covered or frozen
    AWAY = "away"  # a live picture without a face
    LINK_LOST = "link_lost"  # not receiving the chamber
    DISCONNECTED = "disconnected"
    NOT_ALONE = "not_alone"  # more than one face: a third person (counted or not: the body's rule)


# The order in which problems are reported when several hold at once.
_PROBLEMS = (Presence.LINK_LOST, Presence.CAMERA_OFF, Presence.AWAY, Presence.NOT_ALONE)


@dataclass(frozen=True)
class Seen:
    """One observation of a remote participant, in the orchestrator's words."""

    connected: bool
    video_live: bool = False
    faces: int = 0
    link_ok: bool = True
    voice: bool = False


def _grace(problem: Presence, rules: StandingRules) -> timedelta:
    seconds = {
        Presence.LINK_LOST: rules.link_lost_after_seconds,
        Presence.CAMERA_OFF: rules.camera_off_after_seconds,
        Presence.AWAY: rules.away_after_seconds,
        Presence.NOT_ALONE: rules.third_person_after_seconds,
    }[problem]
    return timedelta(seconds=seconds)


def current_problem(seen: Seen) -> Presence | None:
    if not seen.connected:
        return Presence.DISCONNECTED
    if not seen.link_ok:
        return Presence.LINK_LOST
    if not seen.video_live:
        return Presence.CAMERA_OFF
    if seen.faces == 0:
        return Presence.AWAY
    if seen.faces > 1:
        return Presence.NOT_ALONE
    return None


@dataclass
class PresenceTracker:
    state: Presence = Presence.DISCONNECTED
    faces: int = 0
    voice: bool = False
    problem_since: dict[Presence, datetime] = field(default_factory=dict)
    good_since: datetime | None = None

    def observe(self, seen: Seen, now: datetime, rules: StandingRules) -> Presence | None:
        """Take one observation; return the new state if it changed."""
        self.faces, self.voice = seen.faces, seen.voice
        if not seen.connected:
            self.problem_since.clear()
            self.good_since = None
            return self._become(Presence.DISCONNECTED)
        holding = {
            Presence.LINK_LOST: not seen.link_ok,
            Presence.CAMERA_OFF: seen.link_ok and not seen.video_live,
            Presence.AWAY: seen.link_ok and seen.video_live and seen.faces == 0,
            Presence.NOT_ALONE: seen.link_ok and seen.video_live and seen.faces > 1,
        }
        for kind, holds in holding.items():
            if holds:
                self.problem_since.setdefault(kind, now)
            else:
                self.problem_since.pop(kind, None)
        problem = current_problem(seen)
        if problem is None:
            self.good_since = self.good_since or now
        else:
            self.good_since = None
        if self.state is Presence.PRESENT:
            for p in _PROBLEMS:
                since = self.problem_since.get(p)
                if since is not None and now - since >= _grace(p, rules):
                    return self._become(p)
            return None
        if problem is None:
            assert self.good_since is not None
            if now - self.good_since >= timedelta(seconds=rules.return_after_seconds):
                return self._become(Presence.PRESENT)
            return None
        # Not counted either way: show the problem as it is now (a third person only once it
        # has lasted its time: a face passing behind a member who joins is not one).
        if problem is Presence.NOT_ALONE:
            since = self.problem_since[Presence.NOT_ALONE]
            return self._become(problem) if now - since >= _grace(problem, rules) else None
        return self._become(problem)

    def on_camera(self, now: datetime, tolerance: timedelta = timedelta(seconds=2),
                  others_allowed: bool = False) -> bool:
        """Seen right now: counted present, and no problem (no face, no picture, no link) for
        longer than a moment (one missed detection is not a walk-out). ``others_allowed``: a
        third person on camera is only warned about (the body's rule), not a problem here."""
        ok = {Presence.PRESENT, Presence.NOT_ALONE} if others_allowed else {Presence.PRESENT}
        return self.state in ok and all(now - since < tolerance for kind, since in self.problem_since.items()
                                        if not (others_allowed and kind is Presence.NOT_ALONE))

    def _become(self, state: Presence) -> Presence | None:
        if state is self.state:
            return None
        self.state = state
        return state
