"""The 会議録 draft from the recordings, with the speech extra's model, against a running app: two
members speak known council sentences in turn with the floor (real aiortc microphones into the
SFU, recorded as the sitting is); when the chair adjourns, the draft job recognises each speech
from its speaker's recording and the archive's minutes carry each text under its speaker."""

from __future__ import annotations

from typing import Any

import pytest

from gikai.signaling.http.state import DRAFT_JOBS, TRANSCRIPTS
from tests.signaling.test_captions import MODELS, app_with
from tests.signaling.test_gallery import join
from tests.support.client import MediaClient
from tests.support.speaking import SpeakingTrack, opus_speech
from tests.support.waiting import eventually

CHAIR, A, B = 0, 2, 3
QUIET = (4, 5, 6)
SAID = {A: "議案第十二号について質疑を行います。", B: "本案に賛成の立場から討論いたします。"}
VOICES = {A: "jm_kumo", B: "jf_alpha"}
BOUND = 180.0  # seconds for a caption or the whole draft on a busy machine (two recognisers start)
CER_BOUND = 0.3


@pytest.fixture
def model() -> Any:
    pytest.importorskip("faster_whisper", reason="the speech extra: pip install 'gikai[speech]'")
    from gikai.media.analysis.speech import installed_model_dir

    found = installed_model_dir(MODELS)
    assert found is not None, "the speech extra is installed without its model packages"
    return found


def captions(session: Any, speaker_id: str) -> list[dict[str, Any]]:
    return [p["caption"] for p in session.pushes if p["type"] == "caption" and p["caption"]["speaker_id"] == speaker_id]


async def test_each_speech_is_drafted_from_its_speakers_recording_and_attributed_to_them(
        aiohttp_client, tmp_path, model) -> None:
    speech = pytest.importorskip("tests.support.speech")
    packets = {n: opus_speech(speech.japanese_speech(text, VOICES[n])) for n, text in SAID.items()}
    client, parts, tokens, meeting_id = await app_with(aiohttp_client, tmp_path, model)
    mics = {n: SpeakingTrack() for n in SAID}
    media = {n: MediaClient(f"m{n}", audio=mics[n], keep_frames=False) for n in SAID}  # type: ignore[arg-type]
    chair = await join(client, tokens[CHAIR])
    speakers = {n: await join(client, tokens[n], media[n]) for n in SAID}
    quiet = [await join(client, tokens[i]) for i in QUIET]
    try:
        room = parts.sfu.rooms[meeting_id]
        await eventually(lambda: all(s.me in room.peers and "audio" in room.peers[s.me].ups
                                     for s in speakers.values()), message="both microphones in the SFU")
        assert (await chair.request("command", name="open"))["ok"]
        for n, session in speakers.items():
            assert (await session.request("command", name="request_floor", kind="question"))["ok"]
            request_id = (await parts.sittings.get(meeting_id)).queue.requests[0].id
            assert (await chair.request("command", name="grant", request_id=request_id))["ok"]
            mics[n].say(packets[n])
            # Heard, recognised live, so recorded: the speech may end.
            await eventually(lambda s=session: captions(chair, s.me), bound=BOUND, message=f"{n}'s caption")
            assert (await chair.request("command", name="end_speech"))["ok"]
        assert (await chair.request("command", name="adjourn"))["ok"]
        drafts = parts.app[DRAFT_JOBS]
        done = await eventually(lambda: drafts.status(meeting_id)["state"] in ("done", "failed") and
                                drafts.status(meeting_id), bound=BOUND, message="the draft job")
        assert done["state"] == "done" and done["drafted"] == 2, done
        editor = await parts.app[TRANSCRIPTS].editor(meeting_id)
        texts = {s["speaker_id"]: "".join(x["text"] for x in s["sentences"]) for s in editor["speeches"]}
        for n, session in speakers.items():
            error = speech.cer(SAID[n], texts[session.me])
            assert error <= CER_BOUND, f"{texts[session.me]!r} for {SAID[n]!r}: CER {error:.2f}"
        minutes = await client.get(f"/api/archive/{meeting_id}/minutes.json")
        assert minutes.status == 200
        spoken = {s["speaker"]["id"] if isinstance(s.get("speaker"), dict) else s.get("speaker_id"): s.get("text")
                  for s in (await minutes.json())["speeches"]}
        for session in speakers.values():
            assert spoken[session.me] == texts[session.me], spoken
    finally:
        for session in (chair, *speakers.values(), *quiet):
            await session.ws.close()
        for m in media.values():
            await m.close()
