"""One catalogue of error codes at the edge: every code has one Japanese and one English text, and the member
socket, the gallery socket and the HTTP API say the same words for the same code."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import web

from gikai.media import MediaError, NegotiationError
from gikai.orchestrator.domain.errors import DomainError, NotFound
from gikai.orchestrator.domain.presenting import CannotPresent
from gikai.orchestrator.domain.voting import VoteNotConfirmed
from gikai.orchestrator.service.documents import InvalidDocument
from gikai.signaling import errors, wire
from gikai.signaling.gallery.seats import GalleryRefusal
from gikai.signaling.gallery.viewer import GalleryViewer
from gikai.signaling.http.api import domain_errors
from gikai.signaling.http.common import fail
from gikai.signaling.ws.connection import Connection
from gikai.signaling.ws.hub import Hub


class FakeSocket:
    closed = False

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_json(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    async def send_str(self, text: str) -> None:
        self.sent.append(json.loads(text))


def raising(exc: Exception):
    async def handler(*args: Any) -> Any:
        raise exc

    return handler


async def member_socket_says(exc: Exception) -> dict[str, Any]:
    ws = FakeSocket()
    connection = Connection(ws, hub=Hub(), sittings=None, ballots=None, seats=None, media=None,  # type: ignore[arg-type]
                            presenting=None, votes=None, spawn=None)  # type: ignore[arg-type]
    connection.dispatch = raising(exc)  # type: ignore[method-assign]
    await connection.handle_text(json.dumps({"v": 1, "id": 7, "type": "ping"}))
    return ws.sent[-1]


async def gallery_socket_says(exc: Exception) -> dict[str, Any]:
    ws = FakeSocket()
    viewer = GalleryViewer(ws, gallery=None, spawn=None)  # type: ignore[arg-type]
    viewer.dispatch = raising(exc)  # type: ignore[method-assign]
    await viewer.handle(json.dumps({"v": 1, "id": 7, "type": "ping"}))
    return ws.sent[-1]


async def http_api_says(exc: Exception) -> dict[str, Any]:
    with pytest.raises(web.HTTPException) as refused:
        await domain_errors(None, raising(exc))  # type: ignore[arg-type]
    return json.loads(refused.value.text or "")


def every_domain_error() -> list[DomainError]:
    found: list[type[DomainError]] = []
    todo: list[type[DomainError]] = [DomainError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return [InvalidDocument("not_pdf") if cls is InvalidDocument else cls("why") for cls in found]


def test_every_code_has_exactly_one_japanese_and_one_english_text():
    assert errors.CATALOGUE, "the catalogue is not empty"
    for code, texts in errors.CATALOGUE.items():
        assert isinstance(texts, tuple) and len(texts) == 2, code
        ja, en = texts
        assert ja and en and ja != en, code
        assert any(ord(c) > 0x3000 for c in ja), f"{code}: the Japanese text is Japanese"
        assert en.isascii(), f"{code}: the English text is English"
    for exc in every_domain_error():
        if not isinstance(exc, InvalidDocument):  # its reason refines the text (test below)
            assert (exc.ja, exc.en) == errors.text(exc.code), f"{exc.code} says one thing everywhere"
    assert not set(errors.MEDIA) & set(errors.EDGE)
    assert not (set(errors.MEDIA) | set(errors.EDGE)) & set(errors.domain_texts())


def test_media_errors_have_their_texts():
    import gikai.media.archive.render  # noqa: F401  (its errors are MediaErrors too)

    todo: list[type[MediaError]] = [MediaError]
    while todo:
        cls = todo.pop()
        assert cls.code in errors.MEDIA, cls.__qualname__
        todo += cls.__subclasses__()


@pytest.mark.parametrize("exc", [NotFound("x"), CannotPresent(), VoteNotConfirmed("bad signature"),
                                 InvalidDocument("encrypted")], ids=lambda e: e.code)
def test_the_sockets_and_the_http_api_say_the_same_for_a_domain_error(exc):
    member = asyncio.run(member_socket_says(exc))
    http = asyncio.run(http_api_says(exc))
    assert member["code"] == http["code"] == exc.code
    assert member["message"] == http["message"] == errors.message(exc.code, errors.text_of(exc))


@pytest.mark.parametrize("code", ["not_found", "not_allowed", "bad_message", "internal", "peer_closed"])
def test_the_gallery_says_what_the_member_socket_and_the_api_say(code):
    refusal = GalleryRefusal(code) if code in errors.domain_texts() else wire.ProtocolError(code)
    gallery = asyncio.run(gallery_socket_says(refusal))
    member = wire.error(code)
    http = json.loads(fail(400, code).text or "")
    assert gallery["code"] == member["code"] == http["code"] == code
    assert gallery["message"] == member["message"] == http["message"] == errors.message(code)


def test_a_media_error_reads_the_same_on_both_sockets():
    exc = NegotiationError("no answer")
    member = asyncio.run(member_socket_says(exc))
    gallery = asyncio.run(gallery_socket_says(exc))
    assert member["message"] == gallery["message"] == errors.message("negotiation_failed")


def test_passkey_failed_has_one_text_for_a_vote_and_a_login():
    assert errors.text("passkey_failed") == (VoteNotConfirmed.ja, VoteNotConfirmed.en)
    assert "投票" not in VoteNotConfirmed.ja, "a login's passkey can fail too"
