"""The 会議録 draft's recogniser (the orchestrator's ``SpeechDrafter`` port): one speech's sound is
read from the sitting's recorded segments of its speaker's microphone and recognised with the
server's speech engine and the body's vocabulary. No business here: which speeches are drafted,
and what is kept of a correction, is the transcript service's."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from gikai.media.archive.render.plan import SourceFile
from gikai.orchestrator.service.archive import ArchiveService

if TYPE_CHECKING:  # the optional speech extra
    from gikai.media.analysis.speech import SpeechEngine


class RecordedSpeechDrafter:
    def __init__(self, archive: ArchiveService, engine: SpeechEngine) -> None:
        self.archive = archive
        self.engine = engine

    async def draft(self, meeting_id: str, track_key: str, start: float, end: float,
                    prompt: str) -> list[tuple[float, float, str]]:
        """Sentences (start, end, text) in seconds of the sitting; none when nothing was recorded."""
        from gikai.media.analysis.speech import draft, speech_samples

        track = next((t for t in await self.archive.tracks(meeting_id) if t.key == track_key), None)
        if track is None or end <= start:
            return []
        files = [SourceFile(self.archive.recording_file(meeting_id, s["path"]), s["start"],
                            s["end"] if s["end"] is not None else end) for s in track.segments]
        # Decoding and resampling the segments take a while: not on the event loop.
        samples = await asyncio.to_thread(speech_samples, files, start, end)
        return [(round(start + u.start, 2), round(start + u.end, 2), u.text)
                for u in await draft(self.engine, samples, prompt)]
