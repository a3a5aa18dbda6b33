"""Speeches' texts: each sentence as drafted and as it reads now, every correction, and the search
over them by substrings (trigrams: Japanese has no spaces between words).

SQLite keeps a copy of each sentence's searched text in the FTS5 table ``sentence_search``
(tokenize='trigram'), written here with the sentence; PostgreSQL searches ``speech_sentences``
itself through a pg_trgm GIN index. Both need three characters for a trigram: a shorter query
falls back to LIKE (PostgreSQL's planner does that by itself).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, column, delete, insert, select, table, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from gikai.orchestrator.domain.transcript import Correction, Sentence, SpeechText
from gikai.orchestrator.persistence.rows import CorrectionRow, MeetingRow, ParticipantRow, SentenceRow, SpeechTextRow

_FTS = table("sentence_search", column("folded"), column("meeting_id"), column("speech_index"),
             column("sentence_index"))


def fold(value: str) -> str:
    """What a search matches against: NFKC, case-folded, without white space."""
    return "".join(unicodedata.normalize("NFKC", value).casefold().split())


@dataclass(frozen=True)
class SentenceFound:
    meeting_id: str
    title: str  # the sitting's
    state: str  # the sitting's
    scheduled_at: datetime
    speech_index: int
    sentence_index: int
    speaker_id: str
    speaker: str
    start: float
    end: float
    text: str
    corrected: bool


class TranscriptRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _sqlite(self) -> bool:
        bind = self.session.bind
        assert bind is not None, "gikai's sessions are bound to the engine"
        return bind.dialect.name == "sqlite"

    # -- reading ---------------------------------------------------------------------
    async def texts(self, meeting_id: str) -> dict[int, SpeechText]:
        """The sitting's speech texts by speech index, with every correction, oldest first."""
        speeches = (await self.session.scalars(
            select(SpeechTextRow).where(SpeechTextRow.meeting_id == meeting_id))).all()
        sentences = (await self.session.scalars(
            select(SentenceRow).where(SentenceRow.meeting_id == meeting_id)
            .order_by(SentenceRow.speech_index, SentenceRow.sentence_index))).all()
        corrections = (await self.session.scalars(
            select(CorrectionRow).where(CorrectionRow.meeting_id == meeting_id).order_by(CorrectionRow.id))).all()
        out = {s.speech_index: SpeechText(s.speech_index, s.speaker_id, [], s.model, s.drafted_at) for s in speeches}
        for row in sentences:
            if row.speech_index in out:
                out[row.speech_index].sentences.append(Sentence(row.start, row.end, row.draft))
        for c in corrections:
            if c.speech_index in out:
                out[c.speech_index].corrections.append(Correction(c.sentence_index, c.old, c.new, c.by, c.at))
        return out

    async def text(self, meeting_id: str, speech_index: int) -> SpeechText | None:
        return (await self.texts(meeting_id)).get(speech_index)  # a sitting has a few hundred sentences

    # -- writing ---------------------------------------------------------------------
    async def set_draft(self, meeting_id: str, speech: SpeechText) -> None:
        """Replace the speech's draft (a speech with corrections is never drafted again: the
        service checks), its sentences and their search entries."""
        await self._forget_sentences(meeting_id, speech.speech_index)
        await self.session.execute(delete(SpeechTextRow).where(SpeechTextRow.meeting_id == meeting_id,
                                                               SpeechTextRow.speech_index == speech.speech_index))
        await self.session.flush()
        self.session.add(SpeechTextRow(meeting_id=meeting_id, speech_index=speech.speech_index,
                                       speaker_id=speech.speaker_id, model=speech.model, drafted_at=speech.drafted_at))
        rows = [SentenceRow(meeting_id=meeting_id, speech_index=speech.speech_index, sentence_index=i,
                            start=s.start, end=s.end, draft=s.text, text=s.text, folded=fold(s.text), corrected=False)
                for i, s in enumerate(speech.sentences)]
        self.session.add_all(rows)
        await self.session.flush()
        if self._sqlite and rows:
            await self.session.execute(insert(_FTS), [
                {"folded": r.folded, "meeting_id": meeting_id, "speech_index": r.speech_index,
                 "sentence_index": r.sentence_index} for r in rows])

    async def add_correction(self, meeting_id: str, speech_index: int, correction: Correction) -> None:
        """Keep the correction and make it the sentence's text."""
        self.session.add(CorrectionRow(meeting_id=meeting_id, speech_index=speech_index,
                                       sentence_index=correction.sentence_index, old=correction.old,
                                       new=correction.new, by=correction.by, at=correction.at))
        row = await self.session.get(SentenceRow, (meeting_id, speech_index, correction.sentence_index))
        if row is None:
            raise LookupError(f"sentence {correction.sentence_index} of speech {speech_index}")
        row.text, row.folded, row.corrected = correction.new, fold(correction.new), True
        await self.session.flush()
        if self._sqlite:
            await self.session.execute(
                _FTS.update().where(_FTS.c.meeting_id == meeting_id, _FTS.c.speech_index == speech_index,
                                    _FTS.c.sentence_index == correction.sentence_index)
                .values(folded=row.folded))

    async def _forget_sentences(self, meeting_id: str, speech_index: int) -> None:
        await self.session.execute(delete(SentenceRow).where(SentenceRow.meeting_id == meeting_id,
                                                             SentenceRow.speech_index == speech_index))
        if self._sqlite:
            await self.session.execute(delete(_FTS).where(_FTS.c.meeting_id == meeting_id,
                                                          _FTS.c.speech_index == speech_index))

    # -- searching -------------------------------------------------------------------
    async def search(self, query: str, speaker: str = "", limit: int = 100) -> list[SentenceFound]:
        """Sentences whose text (as it reads now) contains ``query`` (folded as :func:`fold`),
        of speakers whose name contains ``speaker``; newest sitting first, then in speech order."""
        folded = fold(query)
        if not folded:
            return []
        statement = (
            select(SentenceRow, MeetingRow.title, MeetingRow.state, MeetingRow.scheduled_at, SpeechTextRow.speaker_id,
                   ParticipantRow.name)
            .join(SpeechTextRow, and_(SpeechTextRow.meeting_id == SentenceRow.meeting_id,
                                      SpeechTextRow.speech_index == SentenceRow.speech_index))
            .join(MeetingRow, MeetingRow.id == SentenceRow.meeting_id)
            .outerjoin(ParticipantRow, ParticipantRow.id == SpeechTextRow.speaker_id)
            .order_by(MeetingRow.scheduled_at.desc(), SentenceRow.meeting_id, SentenceRow.speech_index,
                      SentenceRow.sentence_index)
            .limit(limit))
        if self._sqlite and len(folded) >= 3:
            phrase = '"' + folded.replace('"', '""') + '"'  # one FTS5 string: every trigram, in order
            matching = (select(_FTS.c.meeting_id, _FTS.c.speech_index, _FTS.c.sentence_index)
                        .where(text("sentence_search MATCH :phrase").bindparams(phrase=phrase)))
            statement = statement.where(tuple_(SentenceRow.meeting_id, SentenceRow.speech_index,
                                               SentenceRow.sentence_index).in_(matching))
        else:
            statement = statement.where(SentenceRow.folded.contains(folded, autoescape=True))
        if speaker.strip():
            statement = statement.where(ParticipantRow.name.contains(speaker.strip(), autoescape=True))
        rows = (await self.session.execute(statement)).all()
        return [SentenceFound(s.meeting_id, title, state, at, s.speech_index, s.sentence_index, speaker_id,
                              name or "", s.start, s.end, s.text, s.corrected)
                for s, title, state, at, speaker_id, name in rows]
