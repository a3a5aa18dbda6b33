"""The minutes' words on SQLite and PostgreSQL: vocabulary, drafts and every correction kept,
finalising on the signed record, and the search by words spoken (trigrams and the short-query
fallback), with a speaker filter."""

from __future__ import annotations

import hashlib
import json

import pytest

from gikai.orchestrator.domain.audit import audit
from gikai.orchestrator.domain.errors import (
    InvalidVocabulary,
    MinutesFinalised,
    MinutesNotReady,
    NotFound,
    SpeechCorrected,
)
from gikai.orchestrator.domain.ledger import verify_chain
from gikai.orchestrator.domain.rules import SpeechKind
from gikai.orchestrator.service.archive import ArchiveService
from gikai.orchestrator.service.signing import Signer, signature_checker
from gikai.orchestrator.service.sittings import SittingService
from gikai.orchestrator.service.transcripts import TranscriptService

from .test_sittings import Clock, Recorder, setup


class World:
    def __init__(self, database, tmp_path):
        self.recorder, self.clock, self.signer = Recorder(), Clock(), Signer.ephemeral()
        self.sittings = SittingService(database.unit_of_work, self.recorder, self.recorder, self.clock,
                                       signer=self.signer)
        self.archive = ArchiveService(database.unit_of_work, self.signer, tmp_path / "rec", tmp_path / "imported")
        self.words = TranscriptService(database.unit_of_work, self.sittings, self.archive, self.signer, self.clock)

    async def run(self, command):
        await self.sittings.execute(self.meeting_id, command)

    async def hold_sitting(self, database, adjourn=True):
        """Two speeches (鈴木's question, 高橋's debate) with recorded audio; adjourned."""
        self.meeting_id, roles = await setup(database)
        chair, members = roles["chair"][0], roles["member"]
        self.chair, self.speakers = chair, members[:2]
        for pid in [chair, *roles["vice_chair"], *members[:5]]:
            await self.run(lambda s, now, pid=pid: s.connected(pid, now))
        await self.run(lambda s, now: s.open(chair, now))
        item = (await self.sittings.get(self.meeting_id)).agenda.items[0]
        await self.run(lambda s, now: s.take_up(chair, item.id, now))
        for pid, kind in zip(self.speakers, (SpeechKind.QUESTION, SpeechKind.DEBATE_CONTRA), strict=True):
            await self.run(lambda s, now, pid=pid, kind=kind: s.request_floor(pid, kind, now))
            request = (await self.sittings.get(self.meeting_id)).queue.requests[0]
            await self.run(lambda s, now, r=request.id: s.grant(chair, r, now))
            await self.run(lambda s, now, pid=pid: s.end_speech(pid, now))
            await self.run(lambda s, now, pid=pid: s.recording_event("recording_segment", now, {
                "key": f"{pid}-audio", "start": 0, "end": 60, "sha256": "0" * 64, "path": f"{pid}-audio-0.webm",
                "kind": "audio"}))
        if adjourn:
            await self.run(lambda s, now: s.adjourn(chair, now))
        return self.meeting_id


class Drafter:
    """The port's smallest implementation: canned sentences per track, and what it was asked."""

    def __init__(self, said):
        self.said, self.asked = said, []

    async def draft(self, meeting_id, track_key, start, end, prompt):
        self.asked.append((track_key, start, end, prompt))
        return [(start + n, start + n + 1, text) for n, text in enumerate(self.said[track_key])]


SAID = ["議案第1号について質疑します。", "除雪体制の予算は十分ですか。"], ["反対の立場から討論します。", "以上です。"]


async def drafted(world, database):
    meeting_id = await world.hold_sitting(database)
    drafter = Drafter({f"{pid}-audio": said for pid, said in zip(world.speakers, SAID, strict=True)})
    assert await world.words.draft_minutes(meeting_id, drafter, model="whisper-base") == 2
    return meeting_id, drafter


async def test_a_body_keeps_its_vocabulary_checked(database, tmp_path):
    world = World(database, tmp_path)
    meeting_id = await world.hold_sitting(database, adjourn=False)
    body = (await world.archive.record(meeting_id))[0]
    async with database.unit_of_work() as uow:
        body_id = (await uow.directory.body_of_meeting(meeting_id)).id
    assert len(await world.words.vocabulary(body_id)) >= 16  # the rehearsal body's
    assert await world.words.set_vocabulary(body_id, [" 議案 ", "質疑", "議案", ""]) == ["議案", "質疑"]
    assert await world.words.vocabulary(body_id) == ["議案", "質疑"]
    with pytest.raises(InvalidVocabulary):
        await world.words.set_vocabulary(body_id, ["あ" * 41])
    with pytest.raises(NotFound):
        await world.words.set_vocabulary("nobody", ["議案"])
    prompt = await world.words.prompt(meeting_id)
    assert prompt.startswith("山田太郎、") and "議案、質疑" in prompt and len(prompt) <= 200
    assert body["title"]


async def test_draft_minutes_drafts_every_speech_from_its_speakers_audio_with_the_prompt(database, tmp_path):
    world = World(database, tmp_path)
    meeting_id, drafter = await drafted(world, database)
    c = await world.archive.chronicle(meeting_id)
    assert [a[0] for a in drafter.asked] == [f"{pid}-audio" for pid in world.speakers]
    assert drafter.asked[0][1:3] == (round(c.offset(c.speeches[0].start), 3), round(c.offset(c.speeches[0].end), 3))
    assert drafter.asked[0][3] == await world.words.prompt(meeting_id)
    texts = await world.words.texts(meeting_id)
    assert texts[0].text == "".join(SAID[0]) and texts[1].model == "whisper-base"
    assert texts[0].speaker_id == world.speakers[0]


async def test_every_correction_is_kept_and_a_corrected_speech_is_not_drafted_again(database, tmp_path):
    world = World(database, tmp_path)
    meeting_id, drafter = await drafted(world, database)
    await world.words.correct(meeting_id, 0, 1, "除雪体制の予算は足りていますか。", "clerk-a")
    await world.words.correct(meeting_id, 0, 1, "除雪体制の予算は十分でしょうか。", "clerk-b")
    again = await world.words.texts(meeting_id)
    assert again[0].current(1) == "除雪体制の予算は十分でしょうか。"
    assert [(c.old, c.new, c.by) for c in again[0].corrections] == [
        ("除雪体制の予算は十分ですか。", "除雪体制の予算は足りていますか。", "clerk-a"),
        ("除雪体制の予算は足りていますか。", "除雪体制の予算は十分でしょうか。", "clerk-b")]
    drafter.asked.clear()
    assert await world.words.draft_minutes(meeting_id, drafter) == 1  # only the uncorrected speech
    assert drafter.asked[0][0] == f"{world.speakers[1]}-audio"
    with pytest.raises(SpeechCorrected):
        await world.words.set_draft(meeting_id, 0, [(0, 1, "上書き")], "x")
    await world.words.finalise(meeting_id, "clerk")
    with pytest.raises(MinutesFinalised):
        await world.words.set_draft(meeting_id, 1, [(0, 1, "確定の後")], "x")
    with pytest.raises(MinutesFinalised):
        await world.words.draft_minutes(meeting_id, drafter)


async def test_finalising_puts_the_texts_hash_on_the_signed_record_and_stops_corrections(database, tmp_path):
    world = World(database, tmp_path)
    meeting_id, _ = await drafted(world, database)
    await world.words.correct(meeting_id, 1, 1, "以上で討論を終わります。", "clerk")
    digest = await world.words.finalise(meeting_id, "clerk")
    record = await world.archive.signed_record(meeting_id)
    last = record["entries"][-1]
    assert last["name"] == "minutes_finalised" and last["data"]["sha256"] == digest
    assert verify_chain(meeting_id, record["entries"], signature_checker(record["public_key"])) is None
    assert audit(record["entries"])[0] is None
    canonical = json.dumps({"form": "gikai-minutes-text/1", "speeches": [
        [0, world.speakers[0], "question", "".join(SAID[0])],
        [1, world.speakers[1], "debate_contra", "反対の立場から討論します。以上で討論を終わります。"]]},
        ensure_ascii=False, separators=(",", ":"))
    assert digest == hashlib.sha256(canonical.encode()).hexdigest()
    with pytest.raises(MinutesFinalised) as refused:
        await world.words.correct(meeting_id, 0, 0, "直す", "clerk")
    assert refused.value.code == "minutes_finalised"
    with pytest.raises(MinutesFinalised):
        await world.words.finalise(meeting_id, "clerk")
    minutes = json.loads((await world.archive.minutes(meeting_id, "json"))[0])
    assert minutes["texts"]["sha256"] == digest and minutes["speeches"][1]["text_status"] == "final"


async def test_minutes_are_final_only_after_the_adjournment(database, tmp_path):
    world = World(database, tmp_path)
    meeting_id = await world.hold_sitting(database, adjourn=False)
    with pytest.raises(MinutesNotReady):
        await world.words.finalise(meeting_id, "clerk")


async def test_search_finds_a_speech_by_its_words_long_and_short_with_a_speaker_filter(database, tmp_path):
    world = World(database, tmp_path)
    meeting_id, _ = await drafted(world, database)
    found = await world.words.search("除雪体制")
    assert [(f["meeting_id"], f["speech_index"], f["sentence_index"]) for f in found] == [(meeting_id, 0, 1)]
    assert found[0]["speaker"] == "鈴木 一郎" and found[0]["text"] == SAID[0][1] and found[0]["start"] >= 0
    assert [f["speech_index"] for f in await world.words.search("討論")] == [1]  # two characters: LIKE
    assert [f["speech_index"] for f in await world.words.search("以上")] == [1]
    assert len(await world.words.search("す。")) == 3  # in three sentences of both speeches
    assert await world.words.search("除雪", speaker="高橋") == []
    assert len(await world.words.search("除雪", speaker="鈴木")) == 1
    assert await world.words.search("存在しない言葉") == []
    assert await world.words.search("100%") == []  # wildcards are text
    # a correction is what is found from then on
    await world.words.correct(meeting_id, 0, 1, "道路の維持管理について伺います。", "clerk")
    assert await world.words.search("除雪体制") == []
    assert [f["sentence_index"] for f in await world.words.search("維持管理")] == [1]
    # and the archive's list finds the sitting by a word spoken in it
    assert [s["id"] for s in await world.archive.sittings(q="維持管理")] == [meeting_id]
