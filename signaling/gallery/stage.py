"""What the public gallery shows of a sitting: its public part (no roster, queue, presence or
attendance; the speech's clock, as the chamber's timer shows it), whose camera is on screen, and a
published ballot's result.

The view is one JSON text per sitting, built once per change and sent as it is to every viewer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from gikai.media import Offer, Peer, Room, UpTrack
from gikai.media.sfu.viewer import Viewer
from gikai.orchestrator.domain.model import MeetingState
from gikai.orchestrator.domain.sitting import Sitting
from gikai.orchestrator.domain.voting import Ballot, BallotKind, BallotState


class Watcher(Protocol):
    """A gallery viewer as the stage and the seats see it (gallery/viewer.py)."""

    id: str
    remote: str  # the client's address: seats per address are capped
    stage: Stage | None
    peer: Viewer | None

    @property
    def closed(self) -> bool: ...

    def post(self, text: str) -> None: ...

    async def send_text(self, text: str) -> None: ...

    async def send_offer(self, offer: Offer) -> None: ...

    def media_failed(self, peer: Peer) -> None: ...

    async def close(self, code: int = 1000, reason: str = "") -> None: ...


def _epoch_ms(at: datetime) -> int:
    return int(at.replace(tzinfo=UTC).timestamp() * 1000)


def _person(sitting: Sitting, participant_id: str | None) -> dict[str, Any] | None:
    p = sitting.participants.get(participant_id) if participant_id else None
    return {"name": p.name, "role": p.role.value} if p else None


def stage_view(sitting: Sitting) -> dict[str, Any]:
    """The public part of a sitting: no roster, queue, presence or attendance."""
    speaker = _person(sitting, sitting.floor.holder_id) if sitting.floor else None
    if speaker is not None and sitting.floor is not None:
        f = sitting.floor
        # the speech's clock, as the chamber's timer shows it (Unix ms; the display counts down)
        speaker.update(kind=f.kind.value, started_at=_epoch_ms(f.started_at), ends_at=_epoch_ms(f.ends_at),
                       limit_seconds=f.limit_seconds + f.extended_seconds)
    return {
        "meeting_id": sitting.meeting.id,
        "title": sitting.meeting.title,
        "body": sitting.body.name,
        "plenary": sitting.plenary,
        "state": sitting.meeting.state.value,
        "agenda": [{"id": i.id, "position": i.position, "title": i.title, "state": i.state.value,
                    "result": i.result} for i in sitting.agenda.items],
        "current_item_id": sitting.agenda.current.id if sitting.agenda.current else None,
        "speaker": speaker,
        "chair": _person(sitting, sitting.acting_chair_id()),
    }


def result_view(sitting: Sitting, ballot: Ballot) -> dict[str, Any]:
    """A published ballot's result; a named ballot's votes by member name, in seat order."""
    assert ballot.state is BallotState.PUBLISHED, "only published results reach the gallery"
    t = ballot.tally()
    votes = None
    if ballot.kind is BallotKind.NAMED:
        people = [(sitting.participants.get(pid), choice.value) for pid, choice in ballot.named.items()]
        votes = [{"name": p.name, "choice": c} for p, c in
                 sorted(((p, c) for p, c in people if p is not None), key=lambda pc: (pc[0].seat or 0, pc[0].name))]
    return {"id": ballot.id, "motion": ballot.motion, "kind": ballot.kind.value, "majority": ballot.majority.value,
            "agenda_item_id": ballot.agenda_item_id, "outcome": t.outcome.value, "yes": t.yes, "no": t.no,
            "abstain": t.abstain, "decided_by_chair": t.decided_by_chair, "votes": votes}


@dataclass
class Stage:
    """One sitting's gallery: its viewers and what they are shown."""

    meeting_id: str
    base: dict[str, Any]
    speaker_id: str | None
    chair_id: str | None
    audible: set[str]
    result: dict[str, Any] | None = None
    on_screen: str | None = None  # "speaker" or "chair": whose camera the video is; "screen": a shared screen
    screen_of: str | None = None  # with a shared screen: "speaker" or "chair", whose it is
    viewers: set[Watcher] = field(default_factory=set)
    text: str = ""

    @property
    def open(self) -> bool:
        return bool(self.base["state"] == MeetingState.OPEN.value)

    def take(self, sitting: Sitting) -> None:
        self.base = stage_view(sitting)
        self.speaker_id = sitting.floor.holder_id if sitting.floor else None
        self.chair_id = sitting.acting_chair_id()
        self.audible = set(sitting.audible())

    def view(self) -> dict[str, Any]:
        return {**self.base, "on_screen": self.on_screen, "screen_of": self.screen_of, "result": self.result}

    def push_text(self) -> str:
        return json.dumps({"type": "gallery", "view": self.view()}, ensure_ascii=False, separators=(",", ":"))


def on_stage(room: Room | None, stage: Stage) -> tuple[str | None, list[UpTrack], list[UpTrack]]:
    """What the public sees and hears of an open sitting: whose picture ("screen", "speaker" or
    "chair"; None: nobody's) and its publication, and the audible microphones. A shared screen
    takes the stage, as it does on the members' screens; then the floor holder's camera, then the
    presiding chair's. Nothing before the opening, in recess or after adjournment."""
    if room is None or not stage.open:
        return None, [], []
    for who, pid in (("screen", room.screen), ("speaker", stage.speaker_id), ("chair", stage.chair_id)):
        peer = room.peers.get(pid) if pid else None
        slot = "screen" if who == "screen" else "video"
        if peer is not None and slot in peer.ups:
            return who, [peer.ups[slot]], _audible(room, stage)
    return None, [], _audible(room, stage)


def _audible(room: Room, stage: Stage) -> list[UpTrack]:
    return [room.peers[pid].ups["audio"] for pid in sorted(stage.audible)
            if pid in room.peers and "audio" in room.peers[pid].ups]
