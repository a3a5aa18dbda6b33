"""The clerk's editor of what was said, on the archive page, in a real browser.

The server runs in this process (in a thread with its own event loop) so that the sitting and its
automatic drafts are made through the services, without a recogniser: the rehearsal sitting with
two speeches, adjourned, drafted by a canned drafter. Then, as the clerk, in Chromium: the
sentences are listed with their 「自動」 marks; pressing a sentence seeks the player; a correction is
saved; a search jumps the player to the sentence found; 確定 asks first, then the text is
read-only and shows the hash that went on the record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from gikai.orchestrator.domain.rules import SpeechKind
from gikai.signaling.http.state import TRANSCRIPTS
from tests.support.server import Parts

from .conftest import ARTIFACTS, launch_browser
from .helpers import served_in_thread

pytestmark = pytest.mark.e2e

SAID = {0: ["議案第1号について質疑します。", "除雪体制の予算は十分ですか。"],
        1: ["反対の立場から討論します。", "以上です。"]}


class Drafter:
    def __init__(self, order: dict[str, int]) -> None:
        self.order = order

    async def draft(self, meeting_id: str, track_key: str, start: float, end: float,
                    prompt: str) -> list[tuple[float, float, str]]:
        said = SAID[self.order[track_key]]
        step = (end - start) / len(said)
        return [(start + step * n, start + step * (n + 1), text) for n, text in enumerate(said)]


async def _prepare(app: web.Application) -> dict[str, Any]:
    services = Parts(app)
    meeting, participants, _ = await services.directory.ensure_rehearsal()
    chair, speakers = participants[0], participants[2:4]

    async def run(command: Any) -> None:
        await services.sittings.execute(meeting.id, command)

    for p in participants[:7]:
        await run(lambda s, now, pid=p.id: s.connected(pid, now))
    await run(lambda s, now: s.open(chair.id, now))
    for p, kind in zip(speakers, (SpeechKind.QUESTION, SpeechKind.DEBATE_CONTRA), strict=True):
        await run(lambda s, now, pid=p.id, kind=kind: s.request_floor(pid, kind, now))
        request = (await services.sittings.get(meeting.id)).queue.requests[0]
        await run(lambda s, now, r=request.id: s.grant(chair.id, r, now))
        await asyncio.sleep(2.0)  # a speech of two seconds or so: sentences at different times
        await run(lambda s, now, pid=p.id: s.end_speech(pid, now))
        await run(lambda s, now, pid=p.id: s.recording_event("recording_segment", now, {
            "key": f"{pid}-audio", "start": 0, "end": 30, "sha256": "0" * 64, "path": f"{pid}.webm", "kind": "audio"}))
    await run(lambda s, now: s.adjourn(chair.id, now))
    order = {f"{p.id}-audio": n for n, p in enumerate(speakers)}
    assert await app[TRANSCRIPTS].draft_minutes(meeting.id, Drafter(order), "canned") == 2
    username, password = await services.accounts.ensure_clerk()
    return {"meeting_id": meeting.id, "username": username, "password": password}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root: Path = tmp_path_factory.mktemp("gikai-words")
    with served_in_thread(root, _prepare) as found:
        yield {**found}


def test_the_clerk_corrects_searches_and_finalises_what_was_said(served, playwright_instance):
    browser = launch_browser(playwright_instance)
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
        logged = context.request.post(f"{served['base']}/api/login",
                                      data={"username": served["username"], "password": served["password"]})
        assert logged.ok, logged.text()
        page = context.new_page()
        page.goto(f"{served['base']}/archive/{served['meeting_id']}")
        sentences = page.get_by_test_id("sentence")
        sentences.first.wait_for()
        assert sentences.count() == 4
        assert page.get_by_test_id("auto-mark").count() == 4
        page.get_by_test_id("sentence-edit").first.wait_for()  # the clerk's buttons came with the login

        def now() -> float:
            return float(page.evaluate("window.gikaiArchive.player.clock.now()"))

        # a sentence seeks the player to its start (and plays on from there)
        speeches = context.request.get(f"{served['base']}/api/archive/{served['meeting_id']}/speeches").json()
        last = speeches["speeches"][1]["sentences"][1]["start"]
        page.get_by_test_id("sentence-play").nth(3).click()
        assert last - 0.1 <= now() <= last + 1.5, (last, now())

        # a correction, saved: its 「自動」 mark goes
        page.get_by_test_id("sentence-edit").nth(1).click()
        page.get_by_test_id("sentence-input").fill("除雪体制の予算は足りていますか。")
        page.get_by_test_id("sentence-save").click()
        page.get_by_text("除雪体制の予算は足りていますか。").wait_for()
        assert page.get_by_test_id("auto-mark").count() == 3

        # the search finds the corrected words and jumps there
        page.get_by_test_id("words-search-input").fill("足りて")
        page.get_by_test_id("words-search-input").press("Enter")
        page.get_by_test_id("words-found-item").first.wait_for()
        assert page.get_by_test_id("words-found-item").count() == 1
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "archive-words-clerk.png"), full_page=True)

        # 確定: asked first, then read-only with the hash
        page.get_by_test_id("words-finalise").click()
        page.get_by_test_id("dialog-confirm").click()
        page.get_by_test_id("words-hash").wait_for()
        digest = page.get_by_test_id("words-hash").inner_text().strip()
        assert len(digest) == 64
        assert page.get_by_test_id("sentence-edit").count() == 0 and page.get_by_test_id("auto-mark").count() == 0
        record = context.request.get(f"{served['base']}/api/archive/{served['meeting_id']}/record.json").json()
        assert record["entries"][-1]["name"] == "minutes_finalised"
        assert record["entries"][-1]["data"]["sha256"] == digest
        page.screenshot(path=str(ARTIFACTS / "archive-words-final.png"), full_page=True)
    finally:
        browser.close()
