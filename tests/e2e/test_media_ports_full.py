"""A member who arrives when the server's media ports are all taken (``--media-ports`` too small
for the sitting) is told so in plain words on the page, not a bare 「再接続中…」, and gets in by
themselves, without touching anything, as soon as someone leaves and a port is free."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gikai.signaling import errors

from .conftest import ARTIFACTS, Server, launch_browser, start_server, stop_server
from .helpers import open_and_join, screenshots, self_id, wait_for
from .socketmembers import SocketMembers

pytestmark = pytest.mark.e2e

PORT = random.randrange(41000, 41999)  # a range of one media port: one member's connection fills it


@pytest.fixture(scope="module")
def one_port_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("gikai-ports"),
                           extra=["--media-ports", f"{PORT}-{PORT}", "--no-presence-detection"])
    try:
        yield running
    finally:
        stop_server(running.process)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "e2e-server-test_media_ports_full.log").write_bytes(running.log.read_bytes())


def status(page: Any) -> str:
    return str(page.get_by_test_id("status").text_content() or "")


def test_a_full_media_range_is_said_on_the_page_and_the_member_gets_in_when_a_port_frees(
        one_port_server: Server, playwright_instance: Any, fake_media: list[tuple[Path, Path]]) -> None:
    members: SocketMembers | None = SocketMembers(one_port_server.base_url)
    assert members is not None
    browser = launch_browser(playwright_instance, *fake_media[0])
    try:
        members.join(one_port_server.links[1])
        wait_for("the socket member's media to take the one port",
                 lambda: members.members[0].pc is not None
                 and members.members[0].pc.connectionState == "connected")

        page = open_and_join(browser, one_port_server.links[2])
        words = errors.message("media_ports_full")["ja"]
        wait_for("the page to say that no media connection is free", lambda: status(page) == words)
        assert page.evaluate("window.gikai.state.connection") == "reconnecting"
        ARTIFACTS.mkdir(exist_ok=True)
        screenshots(page, ARTIFACTS, "e2e-media-ports-full")

        members.close()  # the one port is free again: the page's next attempt gets in, untouched
        members = None
        self_id(page)
        wait_for("the page connected", lambda: page.evaluate("window.gikai.state.connection") == "connected")
        assert status(page) != words
    finally:
        browser.close()
        if members is not None:
            members.close()
