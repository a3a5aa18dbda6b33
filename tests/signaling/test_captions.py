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
from tests.support.server import Parts
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
        assert hello[0]["title"] == "模擬委員会 3月定例会"
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
