"""The speaking order: requests for the floor, the queue, the floor itself and its timer."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from gikai.orchestrator.domain.errors import (
    AlreadyRequested,
    InvalidArgument,
    NotFound,
    StaleState,
)
from gikai.orchestrator.domain.model import new_id
from gikai.orchestrator.domain.rules import SpeechKind, StandingRules


@dataclass(frozen=True)
class FloorRequest:
    participant_id: str
    kind: SpeechKind
    requested_at: datetime
    id: str = field(default_factory=new_id)


@dataclass(frozen=True)
class Floor:
    """Who is speaking, since when, for how long at most."""

    holder_id: str
    kind: SpeechKind
    started_at: datetime
    limit_seconds: int
    extended_seconds: int = 0
    request_id: str | None = None

    @property
    def ends_at(self) -> datetime:
        return self.started_at + timedelta(seconds=self.limit_seconds + self.extended_seconds)

    def remaining(self, now: datetime) -> float:
        return (self.ends_at - now).total_seconds()

    def in_warning(self, now: datetime, rules: StandingRules) -> bool:
        return 0 < self.remaining(now) <= rules.warning_seconds

    def overrun(self, now: datetime) -> bool:
        return self.remaining(now) <= 0


@dataclass
class SpeakerQueue:
    """Pending requests in the order the chair will call them.

    A point of order (議事進行) goes ahead of every other kind of request, behind any
    earlier point of order. ``version`` changes with every change, so a chair's screen
    that reorders from a stale list is refused rather than scrambling the order.
    """

    requests: list[FloorRequest] = field(default_factory=list)
    version: int = 0

    def find(self, request_id: str) -> FloorRequest:
        for r in self.requests:
            if r.id == request_id:
                return r
        raise NotFound(f"floor request {request_id}")

    def pending_for(self, participant_id: str) -> FloorRequest | None:
        return next((r for r in self.requests if r.participant_id == participant_id), None)

    def add(self, request: FloorRequest) -> None:
        if self.pending_for(request.participant_id) is not None:
            raise AlreadyRequested()
        if request.kind is SpeechKind.POINT_OF_ORDER:
            at = sum(1 for r in self.requests if r.kind is SpeechKind.POINT_OF_ORDER)
            self.requests.insert(at, request)
        else:
            self.requests.append(request)
        self.version += 1

    def remove(self, request_id: str) -> FloorRequest:
        request = self.find(request_id)
        self.requests.remove(request)
        self.version += 1
        return request

    def reorder(self, order: list[str], expected_version: int) -> None:
        if expected_version != self.version:
            raise StaleState(f"queue is at version {self.version}, not {expected_version}")
        if sorted(order) != sorted(r.id for r in self.requests):
            raise StaleState("the new order must list exactly the pending requests")
        by_id = {r.id: r for r in self.requests}
        self.requests = [by_id[i] for i in order]
        self.version += 1


def start_speech(request: FloorRequest, now: datetime, rules: StandingRules) -> Floor:
    return Floor(request.participant_id, request.kind, now, rules.speech_limit(request.kind), 0, request.id)


def extend(floor: Floor, seconds: int) -> Floor:
    if seconds <= 0 or seconds > 3600:
        raise InvalidArgument("an extension is between 1 second and 1 hour")
    return replace(floor, extended_seconds=floor.extended_seconds + seconds)
