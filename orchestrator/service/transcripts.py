"""The minutes' words: each body's vocabulary (the recogniser's prompt), each speech's automatic
draft, the clerk's corrections, finalising (a hash of the final texts on the signed record),
and the search by words spoken.

Speeches are those of the sitting's Chronicle, by index; the texts live in the database beside
the record, and only their hash goes on the record, once, when the clerk finalises them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from gikai.orchestrator.domain.chronicle import Chronicle
from gikai.orchestrator.domain.errors import MinutesFinalised, MinutesNotReady, NotFound, SpeechCorrected
from gikai.orchestrator.domain.events import Entry, Event
from gikai.orchestrator.domain.model import MeetingState
from gikai.orchestrator.domain.transcript import (
    CANONICAL_FORM,
    SpeechText,
    clean_sentences,
    clean_vocabulary,
    correct,
    final_texts,
    prompt_terms,
    speech_digest,
    texts_digest,
)
from gikai.orchestrator.service.archive import ArchiveService, tracks_of
from gikai.orchestrator.service.ports import LiveSittings, SpeechDrafter
from gikai.orchestrator.service.signing import Signer
from gikai.orchestrator.service.sittings import utcnow
from gikai.orchestrator.service.unit_of_work import UnitOfWorkFactory


class TranscriptService:
    def __init__(self, units: UnitOfWorkFactory, sittings: LiveSittings, archive: ArchiveService, signer: Signer,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._units = units
        self._sittings = sittings
        self._archive = archive
        self._signer = signer
        self._clock = clock

    # -- the vocabulary --------------------------------------------------------------
    async def vocabulary(self, body_id: str) -> list[str]:
        async with self._units() as uow:
            body = await uow.directory.body(body_id)
        if body is None:
            raise NotFound(f"body {body_id}")
        return body.vocabulary

    async def set_vocabulary(self, body_id: str, terms: object) -> list[str]:
        """Replace the body's terms (the clerk's; the edge checks who asks). Returns them as kept."""
        cleaned = clean_vocabulary(terms)
        async with self._units() as uow:
            if not await uow.directory.set_vocabulary(body_id, cleaned):
                raise NotFound(f"body {body_id}")
            await uow.commit()
        return cleaned

    async def prompt(self, meeting_id: str) -> str:
        """The recogniser's prompt for this sitting: its participants' names, its body's terms and
        its agenda's titles (domain/transcript.py ``prompt_terms``). Live captions use it too."""
        async with self._units() as uow:
            body = await uow.directory.body_of_meeting(meeting_id)
            if body is None:
                raise NotFound(f"meeting {meeting_id}")
            people = await uow.directory.participants(meeting_id)
            agenda = await uow.directory.agenda(meeting_id)
        return prompt_terms(body, people, agenda)

    # -- drafts and corrections -----------------------------------------------------------
    async def texts(self, meeting_id: str) -> dict[int, SpeechText]:
        async with self._units() as uow:
            return await uow.transcripts.texts(meeting_id)

    async def finalised(self, meeting_id: str) -> dict[str, Any] | None:
        """The ``minutes_finalised`` entry's data (with ``at``), None while the minutes are a draft."""
        async with self._units() as uow:
            found = await uow.record.named_entries(meeting_id, [Entry.MINUTES_FINALISED])
        return {**found[0][2], "at": found[0][1].isoformat()} if found else None

    async def set_draft(self, meeting_id: str, speech_index: int, sentences: list[tuple[float, float, str]],
                        model: str) -> SpeechText:
        """The automatic text of one speech (replacing an earlier draft). Refused when the clerk has
        corrected it (SpeechCorrected) or the minutes are final (MinutesFinalised)."""
        c = await self._chronicle(meeting_id)
        if not 0 <= speech_index < len(c.speeches):
            raise NotFound(f"speech {speech_index} of sitting {meeting_id}")
        speech = SpeechText(speech_index, c.speeches[speech_index].holder_id, clean_sentences(sentences),
                            model[:100], self._clock())
        # Under the sitting's lock, like finalising: no draft lands after the texts were hashed.
        async with self._sittings.hold(meeting_id), self._units() as uow:
            if await uow.record.named_entries(meeting_id, [Entry.MINUTES_FINALISED]):
                raise MinutesFinalised("the minutes of this sitting are final")
            earlier = await uow.transcripts.text(meeting_id, speech_index)
            if earlier is not None and earlier.corrected:
                raise SpeechCorrected(f"speech {speech_index} has corrections: it is not drafted again")
            await uow.transcripts.set_draft(meeting_id, speech)
            await uow.commit()
        return speech

    async def correct(self, meeting_id: str, speech_index: int, sentence_index: int, text: str,
                      by: str) -> SpeechText:
        """The clerk's correction of one sentence; every correction is kept, the latest is shown."""
        async with self._sittings.hold(meeting_id), self._units() as uow:  # against a finalising in between
            final = bool(await uow.record.named_entries(meeting_id, [Entry.MINUTES_FINALISED]))
            speech = await uow.transcripts.text(meeting_id, speech_index)
            if speech is None:
                if final:
                    raise MinutesFinalised("the minutes of this sitting are final")
                raise NotFound(f"no text for speech {speech_index}")
            correction = correct(speech, sentence_index, text, by, self._clock(), final)
            if correction is not None:
                await uow.transcripts.add_correction(meeting_id, speech_index, correction)
                await uow.commit()
        return speech

    async def draft_minutes(self, meeting_id: str, drafter: SpeechDrafter, model: str = "") -> int:
        """Draft every speech not corrected yet from its speaker's recorded audio, prompted with
        the sitting's vocabulary (``model`` names the recogniser, kept with each draft). Returns
        how many speeches were drafted (a speaker without a recorded audio track has none to draft
        from). Slow (the recogniser runs for every speech): run it as a background task."""
        c = await self._chronicle(meeting_id)
        if await self.finalised(meeting_id):
            raise MinutesFinalised("the minutes of this sitting are final")
        prompt = await self.prompt(meeting_id)
        audio = {t.participant_id: t.key for t in tracks_of(c) if t.kind == "audio"}
        texts = await self.texts(meeting_id)
        drafted = 0
        for i, s in enumerate(c.speeches):
            key = audio.get(s.holder_id)
            if key is None or (i in texts and texts[i].corrected):
                continue
            start, end = round(c.offset(s.start), 3), round(c.offset(s.end), 3)
            sentences = await drafter.draft(meeting_id, key, start, end, prompt)
            await self.set_draft(meeting_id, i, sentences, model)
            drafted += 1
        return drafted

    # -- finalising ------------------------------------------------------------------
    async def finalise(self, meeting_id: str, by: str) -> str:
        """Put the sha256 of the final texts on the sitting's signed record; from then on the
        texts cannot be corrected. Only after the adjournment. Returns the hash."""
        c = await self._chronicle(meeting_id)
        async with self._sittings.hold(meeting_id) as sitting:
            if sitting.meeting.state is not MeetingState.ADJOURNED:
                raise MinutesNotReady(f"the sitting is {sitting.meeting.state.value}")
            async with self._units() as uow:
                if await uow.record.named_entries(meeting_id, [Entry.MINUTES_FINALISED]):
                    raise MinutesFinalised("the minutes of this sitting are final")
                texts = await uow.transcripts.texts(meeting_id)
                items = final_texts([(s.holder_id, s.kind) for s in c.speeches], texts)
                digest = texts_digest(items)
                event = Event(Entry.MINUTES_FINALISED, self._clock(), None, {
                    "form": CANONICAL_FORM, "sha256": digest, "by": by,
                    "speeches": [speech_digest(text) for _, _, _, text in items]})
                await uow.record.append(meeting_id, [event], self._signer.sign)
                await uow.commit()
        return digest

    # -- reading and searching ----------------------------------------------------------
    async def editor(self, meeting_id: str) -> dict[str, Any]:
        """What the archive page's editor shows: every speech with its sentences (the text as it
        reads now, whether corrected), and whether the minutes are final (with their hash)."""
        c = await self._chronicle(meeting_id)
        texts = await self.texts(meeting_id)
        final = await self.finalised(meeting_id)
        speeches = []
        for i, s in enumerate(c.speeches):
            t = texts.get(i)
            speeches.append({
                "index": i, "speaker_id": s.holder_id, "speaker": c.person(s.holder_id).name, "kind": s.kind,
                "start": round(c.offset(s.start), 3), "end": round(c.offset(s.end), 3),
                "model": t.model if t else None,
                "sentences": [{"index": n, "start": a, "end": b, "text": text, "corrected": fixed}
                              for n, (a, b, text, fixed) in enumerate(t.lines() if t else [])]})
        return {"meeting_id": meeting_id, "finalised": final, "speeches": speeches}

    async def search(self, query: str, speaker: str = "", limit: int = 100) -> list[dict[str, Any]]:
        """Sentences spoken that contain ``query``, with where to seek (seconds from the opening)."""
        async with self._units() as uow:
            found = await uow.transcripts.search(query, speaker, limit)
        return [{"meeting_id": f.meeting_id, "title": f.title, "state": f.state,
                 "scheduled_at": f.scheduled_at.isoformat(), "speech_index": f.speech_index,
                 "sentence_index": f.sentence_index, "speaker_id": f.speaker_id, "speaker": f.speaker,
                 "start": f.start, "end": f.end, "text": f.text, "corrected": f.corrected} for f in found]

    async def _chronicle(self, meeting_id: str) -> Chronicle:
        return await self._archive.chronicle(meeting_id)
