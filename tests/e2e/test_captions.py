"""Live captions through a real `gikai serve` with the speech extra's Whisper base model.

The chair (a socket member, who also receives the `caption` pushes) opens the rehearsal sitting;
two members speak from Python (microphone only, synthesised Japanese sentences of a council);
Chromium shows the public gallery and the caption screen (/captions/<sitting>). Only the floor
holder and the chair are heard, so only they are captioned:

1. A is granted the floor and says a sentence: the caption, attributed to A, arrives on the chair's
   socket, in the gallery page and on the caption screen, with few character errors.
2. B, without the floor, says something while A says another sentence: A's second sentence is
   captioned, B's words never are (B's microphone is not forwarded, so it is never recognised).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.waiting import BROWSER_BOUND

from .conftest import ARTIFACTS, Server, launch_browser, start_server, stop_server
from .helpers import open_and_join, text_of, wait_for
from .socketmembers import SocketMembers
from .speakers import Speakers, opus_speech

pytest.importorskip("faster_whisper", reason="the speech extra: pip install 'gikai[speech]'")
speech = pytest.importorskip("tests.support.speech")

CHAIR, A, B, WATCHING = 0, 2, 3, 7
OTHERS = (4, 5, 6)  # with the chair, A and B: six of twelve, a quorum; a member watches in Chromium
SERVER_ARGS = ["--no-presence-detection", "--asr-model", "auto"]
# The bound a test may wait for a caption: recognition itself takes 1-3 s (bench/asr_cost.py measures
# the latency); a busy CI machine gets a browser's bound more.
CAPTION_BOUND = 2 * BROWSER_BOUND
CER_BOUND = 0.35  # the live model with the rehearsal body's vocabulary, on these synthesised voices

A_FIRST = "ただいまから総務委員会を開会いたします。"
A_SECOND = "議案第十二号について質疑を行います。"
B_UNHEARD = "本日は晴天なり、ただいまマイクのテスト中です。"


@pytest.fixture(scope="module")
def sitting(tmp_path_factory: pytest.TempPathFactory, playwright_instance: Any) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("gikai-captions")
    said = {text: opus_speech(speech.japanese_speech(text, voice)) for text, voice in
            ((A_FIRST, "jm_kumo"), (A_SECOND, "jm_kumo"), (B_UNHEARD, "jf_alpha"))}
    server: Server = start_server(root, extra=SERVER_ARGS)
    members = SocketMembers(server.base_url)
    speakers = Speakers(server.base_url)
    browser = launch_browser(playwright_instance)
    try:
        chair = members.join(server.links[CHAIR])
        for link in OTHERS:
            members.join(server.links[link])
        a, b = speakers.join(server.links[A]), speakers.join(server.links[B])
        wait_for("both speakers' media", lambda: speakers.media_up(0) and speakers.media_up(1))
        member = open_and_join(browser, server.links[WATCHING], audio_only=True)
        wait_for("the member's meeting screen", lambda: member.get_by_test_id("screen-meeting").is_visible())
        yield {"server": server, "members": members, "speakers": speakers, "browser": browser,
               "ids": {"chair": chair, "a": a, "b": b}, "said": said, "member": member}
    finally:
        try:
            speakers.close()
            members.close()
            browser.close()
        finally:
            stop_server(server.process)
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / "e2e-server-test_captions.log").write_bytes(server.log.read_bytes())


def captions_of(members: SocketMembers, speaker_id: str) -> list[dict[str, Any]]:
    return [c for c in members.captions(0) if c["speaker_id"] == speaker_id]


def test_the_floor_holder_is_captioned_for_members_gallery_and_caption_screen(sitting: dict[str, Any]) -> None:
    server, members, speakers, ids = sitting["server"], sitting["members"], sitting["speakers"], sitting["ids"]
    wait_for("a quorum", lambda: members.sitting().get("quorum", {}).get("met"))
    meeting_id = members.sitting()["meeting_id"]
    gallery = sitting["browser"].new_context(viewport={"width": 1024, "height": 768}, locale="ja-JP").new_page()
    gallery.goto(f"{server.base_url}/gallery/{meeting_id}")
    screen = sitting["browser"].new_context(viewport={"width": 1280, "height": 720}, locale="ja-JP").new_page()
    screen.goto(f"{server.base_url}/captions/{meeting_id}")
    wait_for("the caption screen waits", lambda: text_of(screen, "captions-state") == "発言を待っています。")
    assert members.command(0, "open")["type"] == "reply"
    assert speakers.command(0, "request_floor", kind="question")["type"] == "reply"
    request = wait_for("A's request", lambda: next(
        (r["id"] for r in members.sitting()["queue"]["requests"] if r["participant_id"] == ids["a"]), None))
    assert members.command(0, "grant", request_id=request)["type"] == "reply"
    wait_for("A holds the floor", lambda: (members.sitting().get("floor") or {}).get("holder_id") == ids["a"])

    ended = speakers.say(0, sitting["said"][A_FIRST])
    caption = wait_for("A's caption on the chair's socket", lambda: next(iter(captions_of(members, ids["a"])), None),
                       timeout=CAPTION_BOUND)
    arrived = time.time()
    assert caption["speaker"] == "鈴木 一郎" and caption["automatic"] is True
    error = speech.cer(A_FIRST, caption["text"])
    assert error <= CER_BOUND, f"{caption['text']!r}: CER {error:.2f}"
    print(f"caption after the end of speech: {arrived - ended:.2f} s; CER {error:.2f}; {caption['text']!r}")
    # A caption line shows for a while: each page is looked at until it has been seen there once.
    pages = {"member": (sitting["member"], "live-caption-text"), "gallery": (gallery, "live-caption-text"),
             "screen": (screen, "captions-list")}
    seen: set[str] = set()

    def everywhere() -> bool:
        for name, (page, testid) in pages.items():
            if name not in seen and caption["text"] in text_of(page, testid):
                seen.add(name)
                page.screenshot(path=str(ARTIFACTS / f"captions-{name}.png"))
        return len(seen) == len(pages)

    ARTIFACTS.mkdir(exist_ok=True)
    wait_for("the caption on the member's screen, in the gallery and on the caption screen", everywhere)
    assert "鈴木 一郎" in text_of(gallery, "live-caption-who")


def test_a_member_without_the_floor_is_never_captioned(sitting: dict[str, Any]) -> None:
    members, speakers, ids = sitting["members"], sitting["speakers"], sitting["ids"]
    assert (members.sitting().get("floor") or {}).get("holder_id") == ids["a"], "runs after the test above"
    before = len(captions_of(members, ids["a"]))
    speakers.say(1, sitting["said"][B_UNHEARD])  # B talks over A, without the floor
    speakers.say(0, sitting["said"][A_SECOND])
    second = wait_for("A's second caption", lambda: captions_of(members, ids["a"])[before:] or None,
                      timeout=CAPTION_BOUND)
    assert speech.cer(A_SECOND, "".join(c["text"] for c in second)) <= CER_BOUND + 0.1
    assert captions_of(members, ids["b"]) == [], "B has not the floor: B's microphone is never recognised"
    heard = "".join(c["text"] for c in members.captions(0))
    assert "晴天" not in heard and "テスト" not in heard
