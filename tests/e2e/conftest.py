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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
LINK = re.compile(r"(http://127\.0\.0\.1:\d+/join#\S+)")
SERVING = re.compile(r"gikai serving on (http://127\.0\.0\.1:\d+)")


@dataclass
class Server:
    base_url: str
    links: list[str]
    process: subprocess.Popen[bytes]
    log: Path


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


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("gikai-e2e")
    log = root / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "signaling", "serve", "--host", "127.0.0.1", "--port", "0",
             "--data", str(root / "data"), "--media-address", "127.0.0.1"],
            cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        base_url, links = _wait_for_links(process, log, PARTICIPANTS, timeout=30)
        yield Server(base_url, links, process, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "e2e-server.log").write_bytes(log.read_bytes())


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
            launched.append(playwright_instance.chromium.launch(
                executable_path=CHROMIUM,
                args=CHROMIUM_FLAGS + [f"--use-file-for-fake-video-capture={camera}",
                                       f"--use-file-for-fake-audio-capture={microphone}"],
            ))
        yield launched
    finally:
        for browser in launched:
            browser.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
