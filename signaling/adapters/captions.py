"""Live captions: whoever may be heard while a sitting is open is captioned (the floor holder and the
presiding chair; a microphone the SFU does not forward is never recognised), and each caption goes to
the sitting's members, its public gallery and its caption screens (``/captions/<sitting>``).

No business here: who may be heard is the sitting's rule (``Sitting.audible``), told to this bridge
by the handlers subscribed in signaling/app.py. Captions are not part of the record; the 会議録's
words come from the recordings after the sitting (the draft), which the clerk corrects.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gikai.media import SFU
from gikai.orchestrator.domain.model import MeetingState
from gikai.orchestrator.domain.sitting import Event, Sitting
from gikai.orchestrator.domain.transcript import prompt_terms
from gikai.signaling.tasks import Spawn

if TYPE_CHECKING:  # the speech extra is optional: imported only when a model is configured
    from gikai.media.analysis.speech import Caption, LiveCaptions, SpeechEngine

logger = logging.getLogger(__name__)

Tell = Callable[[str, dict[str, Any], str], None]  # (meeting id, message, its JSON): to members and gallery
RECENT = 30  # captions kept per sitting for a screen that opens late (in memory only)
SCREEN_QUEUE = 64  # captions waiting for a slow caption screen before it is dropped


@dataclass
class _Shown:
    """What one sitting's captions depend on."""

    meeting_id: str
    open: bool = False
    audible: set[str] = field(default_factory=set)
    names: dict[str, str] = field(default_factory=dict)
    prompt: str = ""
    live: LiveCaptions | None = None
    watched: dict[str, Any] = field(default_factory=dict)  # participant id -> the up-track tapped
    recent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=RECENT))
    screens: set[asyncio.Queue[str]] = field(default_factory=set)


class CaptionsBridge:
    """One recogniser (``engine``, a worker process) for the whole server; None: captions are off
    (no model), and every page says so."""

    def __init__(self, sfu: SFU, engine: SpeechEngine | None, spawn: Spawn, tell: Tell) -> None:
        self.sfu = sfu
        self.engine = engine
        self._spawn = spawn
        self._tell = tell
        self._shown: dict[str, _Shown] = {}
        self._warming: asyncio.Task[None] | None = None
        self.delivered = 0  # captions sent (metrics)

    @property
    def enabled(self) -> bool:
        return self.engine is not None

    def watching(self) -> int:
        """Microphones being recognised now, all sittings together."""
        return sum(len(shown.watched) for shown in self._shown.values())

    # -- what may be heard -----------------------------------------------------------------
    def sitting_changed(self, sitting: Sitting, events: Sequence[Event]) -> None:
        del events
        shown = self._shown.setdefault(sitting.meeting.id, _Shown(sitting.meeting.id))
        shown.open = sitting.meeting.state is MeetingState.OPEN
        if shown.open and self.engine is not None and self._warming is None:
            # The recogniser's process starts and loads its model now, not at the first utterance.
            self._warming = self._spawn(self._warm_up(self.engine))
        shown.audible = set(sitting.audible())
        shown.names = {pid: p.name for pid, p in sitting.participants.items()}
        members = list(sitting.participants.values())
        shown.prompt = prompt_terms(sitting.body, members, sitting.agenda.items)
        self._rebind(shown)
        if sitting.meeting.state is MeetingState.ADJOURNED and not shown.screens:
            self._forget(shown)

    async def _warm_up(self, engine: SpeechEngine) -> None:
        try:
            await engine.warm_up()
        except Exception:
            logger.exception("the speech recogniser did not start: no live captions")

    def set_audible(self, meeting_id: str, participant_ids: set[str]) -> None:
        shown = self._shown.get(meeting_id)
        if shown is not None:
            shown.audible = set(participant_ids)
            self._rebind(shown)

    def peers_changed(self, room_id: str) -> None:
        shown = self._shown.get(room_id)
        if shown is not None:
            self._rebind(shown)

    def _rebind(self, shown: _Shown) -> None:
        if self.engine is None:
            return
        room = self.sfu.rooms.get(shown.meeting_id)
        wanted: dict[str, Any] = {}
        if shown.open and room is not None:
            for pid in shown.audible:
                peer = room.peers.get(pid)
                if peer is not None and "audio" in peer.ups:
                    wanted[pid] = peer.ups["audio"]
        if wanted and shown.live is None:
            from gikai.media.analysis.speech import LiveCaptions

            shown.live = LiveCaptions(self.engine, self._reporter(shown), lambda: shown.prompt)
        live = shown.live
        if live is None:
            return
        for pid, up in list(shown.watched.items()):
            if wanted.get(pid) is not up:  # no longer heard, or reconnected with a new track
                live.unwatch(pid)
                del shown.watched[pid]
        for pid, up in wanted.items():
            if pid not in shown.watched:
                live.watch(pid, up)
                shown.watched[pid] = up

    def _forget(self, shown: _Shown) -> None:
        self._shown.pop(shown.meeting_id, None)
        if shown.live is not None:
            self._spawn(shown.live.close())

    # -- captions out ----------------------------------------------------------------------
    def _reporter(self, shown: _Shown) -> Callable[[Caption], None]:
        def report(caption: Caption) -> None:
            if caption.peer_id not in shown.watched:
                return  # recognised after the microphone was closed: it was heard, but the floor moved on
            self._deliver(shown, caption_view(caption, shown.names.get(caption.peer_id, "")))
        return report

    def _deliver(self, shown: _Shown, view: dict[str, Any]) -> None:
        shown.recent.append(view)
        self.delivered += 1
        message = {"type": "caption", "caption": view}
        text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        self._tell(shown.meeting_id, message, text)
        for queue in list(shown.screens):
            if queue.full():
                shown.screens.discard(queue)  # a screen that does not read is let go; it reconnects
            else:
                queue.put_nowait(text)

    # -- caption screens (server-sent events) ------------------------------------------------
    def recent(self, meeting_id: str) -> list[dict[str, Any]]:
        shown = self._shown.get(meeting_id)
        return list(shown.recent) if shown is not None else []

    def listen(self, meeting_id: str) -> asyncio.Queue[str]:
        queue: asyncio.Queue[str] = asyncio.Queue(SCREEN_QUEUE)
        self._shown.setdefault(meeting_id, _Shown(meeting_id)).screens.add(queue)
        return queue

    def unlisten(self, meeting_id: str, queue: asyncio.Queue[str]) -> None:
        shown = self._shown.get(meeting_id)
        if shown is not None:
            shown.screens.discard(queue)

    def end_screens(self) -> None:
        """The server is stopping: every caption screen's stream ends (the screen reconnects)."""
        for shown in self._shown.values():
            for queue in shown.screens:
                if queue.full():
                    queue.get_nowait()  # a screen that is behind loses its oldest caption, not the end
                queue.put_nowait("")
            shown.screens.clear()

    async def close(self) -> None:
        for shown in list(self._shown.values()):
            if shown.live is not None:
                await shown.live.close()
        self._shown.clear()
        if self.engine is not None:
            await self.engine.close()


def caption_view(caption: Caption, speaker: str) -> dict[str, Any]:
    """A caption as every page gets it; times in milliseconds since the epoch."""
    return {"speaker_id": caption.peer_id, "speaker": speaker, "text": caption.text,
            "started_at": round(caption.started_at * 1000), "ended_at": round(caption.ended_at * 1000),
            "automatic": caption.automatic}

