"""Live captions against a running app: the caption screen's event stream, the join reply, and,
with the speech extra's model, a real aiortc member whose synthesised sentence is captioned for
the members, the gallery and the caption screen while they hold the floor, and only then."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from gikai.signaling.app import create_app
from gikai.signaling.config import ServerConfig
from tests.signaling.test_gallery import join
from tests.support.client import MediaClient
from tests.support.server import Parts
from tests.support.speaking import SpeakingTrack, opus_speech
from tests.support.waiting import eventually

CHAIR, SPEAKER, OTHER = 0, 2, 3
QUIET = (4, 5, 6)
MODELS = Path.home() / ".cache" / "gikai-test-models"  # the joined model, shared by the test runs


async def app_with(aiohttp_client: Any, tmp_path: Path, model: Path | None) -> tuple[Any, Parts, list[str], str]:
    config = ServerConfig(data_dir=tmp_path, media_addresses=["127.0.0.1"], presence_detection=False,
                          asr_model=model)
    client = await aiohttp_client(create_app(config))
    parts = Parts(client.app)
    meeting, participants, _ = await parts.directory.ensure_rehearsal()
    return client, parts, [parts.tokens.issue(p.id) for p in participants], meeting.id


class EventStream:
    """A caption screen: reads /captions/<id>/events as a browser's EventSource would."""

    def __init__(self, response: Any) -> None:
        self.response = response
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        name, data = "", ""
        async for raw in self.response.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
            elif line == "" and name:
                self.events.append((name, json.loads(data)))
                name, data = "", ""

    def named(self, name: str) -> list[dict[str, Any]]:
        return [d for n, d in self.events if n == name]

    async def close(self) -> None:
        self._reader.cancel()
        self.response.close()


async def test_without_a_model_every_page_is_told_captions_are_off(aiohttp_client, tmp_path) -> None:
    client, _, tokens, meeting_id = await app_with(aiohttp_client, tmp_path, None)
    member = await join(client, tokens[CHAIR])
    assert member.replies[1]["data"]["captions"] is False
    stream = EventStream(await client.get(f"/captions/{meeting_id}/events"))
    try:
        hello = await eventually(lambda: stream.named("hello"), message="the hello event")
        assert hello[0]["enabled"] is False and hello[0]["recent"] == []
        assert hello[0]["title"].startswith("模擬委員会 3月定例会")
    finally:
        await stream.close()
        await member.ws.close()
    page = await client.get(f"/captions/{meeting_id}")
    assert page.status == 200 and "captions.js" in await page.text()


async def test_the_caption_stream_of_an_unknown_sitting_is_not_found(aiohttp_client, tmp_path) -> None:
    client, _, _, _ = await app_with(aiohttp_client, tmp_path, None)
    response = await client.get("/captions/no-such-sitting/events")
    assert response.status == 404
    assert (await response.json())["code"] == "not_found"


# -- with the speech extra's model --------------------------------------------------------
SENTENCE = "ただいまから総務委員会を開会いたします。"
OVERHEARD = "本日は晴天なり、ただいまマイクのテスト中です。"
CAPTION_BOUND = 120.0  # seconds: the recogniser's worker starts and loads on the first utterance
CER_BOUND = 0.35


@pytest.fixture
def model() -> Path:
    pytest.importorskip("faster_whisper", reason="the speech extra: pip install 'gikai[speech]'")
    from gikai.media.analysis.speech import installed_model_dir

    found = installed_model_dir(MODELS)
    if found is None:
        pytest.fail("the speech extra is installed without its model packages")
    return found


async def test_the_floor_holder_is_captioned_for_members_gallery_and_screens_and_nobody_else(
        aiohttp_client, tmp_path, model) -> None:
    speech = pytest.importorskip("tests.support.speech")
    said = opus_speech(speech.japanese_speech(SENTENCE, "jm_kumo"))
    overheard = opus_speech(speech.japanese_speech(OVERHEARD, "jf_alpha"))
    client, parts, tokens, meeting_id = await app_with(aiohttp_client, tmp_path, model)
    speaker_mic, other_mic = SpeakingTrack(), SpeakingTrack()
    speaker_media = MediaClient("speaker", audio=speaker_mic, keep_frames=False)  # type: ignore[arg-type]
    other_media = MediaClient("other", audio=other_mic, keep_frames=False)  # type: ignore[arg-type]
    chair = await join(client, tokens[CHAIR])
    assert chair.replies[1]["data"]["captions"] is True
    speaker = await join(client, tokens[SPEAKER], speaker_media)
    other = await join(client, tokens[OTHER], other_media)
    quiet = [await join(client, tokens[i]) for i in QUIET]
    stream = EventStream(await client.get(f"/captions/{meeting_id}/events"))
    try:
        await eventually(lambda: stream.named("hello"), message="the hello event")
        assert stream.named("hello")[0]["enabled"] is True
        await eventually(lambda: parts.sfu.rooms[meeting_id].peers.get(speaker.me) is not None
                         and "audio" in parts.sfu.rooms[meeting_id].peers[speaker.me].ups,
                         message="the speaker's microphone in the SFU")
        assert (await chair.request("command", name="open"))["ok"]
        assert (await speaker.request("command", name="request_floor", kind="question"))["ok"]
        request_id = (await parts.sittings.get(meeting_id)).queue.requests[0].id
        assert (await chair.request("command", name="grant", request_id=request_id))["ok"]
        other_mic.say(overheard)  # without the floor: never forwarded, never recognised
        speaker_mic.say(said)

        def captions(session: Any) -> list[dict[str, Any]]:
            return [p["caption"] for p in session.pushes if p["type"] == "caption"]

        caption = (await eventually(lambda: captions(chair), bound=CAPTION_BOUND,
                                    message="the speaker's caption at the chair"))[0]
        assert caption["speaker_id"] == speaker.me and caption["automatic"] is True
        assert caption["speaker"] == "鈴木 一郎"
        assert speech.cer(SENTENCE, caption["text"]) <= CER_BOUND, caption["text"]
        await eventually(lambda: captions(other), message="the caption at another member")
        await eventually(lambda: stream.named("caption"), message="the caption on the caption screen")
        assert stream.named("caption")[0]["caption"] == caption
        # The overheard sentence was said at the same time: by now it would have been recognised.
        assert all(c["speaker_id"] == speaker.me for c in captions(chair)), captions(chair)
        assert "晴天" not in "".join(c["text"] for c in captions(chair))
        # A caption screen opened late gets the latest captions at once.
        late = EventStream(await client.get(f"/captions/{meeting_id}/events"))
        try:
            hello = await eventually(lambda: late.named("hello"), message="the late screen's hello")
            assert hello[0]["recent"][-1] == caption
        finally:
            await late.close()
    finally:
        await stream.close()
        for session in (chair, speaker, other, *quiet):
            await session.ws.close()
        await speaker_media.close()
        await other_media.close()
