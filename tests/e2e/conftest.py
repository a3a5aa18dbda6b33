"""End-to-end fixtures: a real `gikai serve` process and one real Chromium per participant.

Chromium's fake camera and microphone files are per browser process, so each
participant gets its own browser (and its own colour and voice).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .fakemedia import write_wav, write_y4m

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
CHROMIUM = os.environ.get("GIKAI_CHROMIUM", "/usr/bin/chromium")
PARTICIPANTS = 3
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
]
# http://127.0.0.1:PORT by default; https:// with --tls-cert, the public origin with --public-url.
LINK = re.compile(r"(https?://[^\s/]+:\d+/join#\S+)")
SERVING = re.compile(r"gikai serving on (https?://[^\s/]+:(\d+))")
CLERK = re.compile(r"clerk account created: user '([^']+)', password '([^']+)'")
REHEARSAL_PEOPLE = 14  # 12 members, the clerk and a presenter


@dataclass
class Server:
    base_url: str
    links: list[str]
    process: subprocess.Popen[bytes]
    log: Path
    port: int = 0
    data: Path = Path()
    clerk_password: str = ""

    @property
    def localhost_url(self) -> str:
        """The same server as http://localhost:PORT (https:// when it serves TLS): passkeys need
        a host name."""
        return f"{self.base_url.split('://', 1)[0]}://localhost:{self.port}"


def _wait_for_links(process: subprocess.Popen[bytes], log: Path, wanted: int, timeout: float) -> tuple[str, list[str]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(encoding="utf-8", errors="replace")
        serving = SERVING.search(text)
        links = LINK.findall(text)
        if serving and len(links) >= wanted:
            return serving.group(1), links
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"gikai serve printed no {wanted} join links:\n{log.read_text(errors='replace')}")


def start_server(root: Path, port: int = 0, log_name: str = "server.log", extra: Sequence[str] = ()) -> Server:
    """Run `gikai serve` on the data folder ``root/data`` and wait for its join links."""
    log = root / log_name
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gikai", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--data", str(root / "data"), "--media-address", "127.0.0.1", *extra],
            cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        base_url, links = _wait_for_links(process, log, REHEARSAL_PEOPLE, timeout=60)  # a busy machine
    except Exception:
        stop_server(process)
        raise
    clerk = CLERK.search(log.read_text(encoding="utf-8", errors="replace"))
    return Server(base_url, links, process, log, int(base_url.rsplit(":", 1)[1]), root / "data",
                  clerk.group(2) if clerk else "")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as an operator would; kill only if it does not stop."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("gikai-e2e")
    # A module may set SERVER_ARGS, e.g. to count attendance by connection, not by camera.
    running = start_server(root, extra=getattr(request.module, "SERVER_ARGS", ()))
    try:
        yield running
    finally:
        stop_server(running.process)
        ARTIFACTS.mkdir(exist_ok=True)
        module = request.module.__name__.rsplit(".", 1)[-1]
        name = "e2e-server.log" if module == "test_browser_meeting" else f"e2e-server-{module}.log"
        (ARTIFACTS / name).write_bytes(running.log.read_bytes())


def launch_browser(playwright: Any, camera: Path | None = None, microphone: Path | None = None) -> Any:
    """One Chromium; its fake camera and microphone files are per process."""
    args = list(CHROMIUM_FLAGS)
    if camera is not None:
        args.append(f"--use-file-for-fake-video-capture={camera}")
    if microphone is not None:
        args.append(f"--use-file-for-fake-audio-capture={microphone}")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=args)


@contextmanager
def one_browser_sitting(playwright: Any, root: Path, module: str, hue: int) -> Iterator[tuple[Server, Any, Any]]:
    """A server without presence detection, one Chromium with a small fake camera (its pages are
    the test's to open) and socket-only members; stopped in order, the server's log kept in
    artifacts/e2e-server-<module>.log."""
    from .socketmembers import SocketMembers

    server = start_server(root, extra=["--no-presence-detection"])
    browser = launch_browser(playwright, write_y4m(root / "camera.y4m", seconds=2, hue=hue, width=320, height=180),
                             write_wav(root / "voice.wav", seconds=3))
    members = SocketMembers(server.base_url)
    try:
        yield server, browser, members
    finally:
        members.close()
        browser.close()
        stop_server(server.process)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"e2e-server-{module}.log").write_bytes(server.log.read_bytes())


@pytest.fixture(scope="module")
def fake_media(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, Path]]:
    """One (camera .y4m, microphone .wav) pair per participant."""
    folder = tmp_path_factory.mktemp("fake-media")
    return [
        (write_y4m(folder / f"camera{i}.y4m", seconds=3, hue=40 + 120 * i),
         write_wav(folder / f"microphone{i}.wav", seconds=3, pitch=120 + 45 * i))
        for i in range(PARTICIPANTS)
    ]


@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browsers(playwright_instance, fake_media) -> Iterator[list[object]]:  # type: ignore[no-untyped-def]
    launched = []
    try:
        for camera, microphone in fake_media:
            launched.append(launch_browser(playwright_instance, camera, microphone))
        yield launched
    finally:
        for browser in launched:
            browser.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
