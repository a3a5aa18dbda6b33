"""Operating the server: /metrics against a live sitting, /healthz with a database that goes away,
the data folder's modes, and JSON logs."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gikai.signaling.app import create_app
from gikai.signaling.config import ServerConfig, parse_networks
from gikai.signaling.ops.health import LOOP_LAG
from gikai.signaling.ops.logs import JsonFormatter, configure_logging
from tests.signaling.test_sitting_ws import _join, latest
from tests.support.client import MediaClient
from tests.support.server import Parts
from tests.support.waiting import eventually

POSTGRES_URL = os.environ.get("GIKAI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text, parsed by prometheus-client's own parser."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = await client.get("/metrics")
    assert r.status == 200, await r.text()
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return samples(await r.text())


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_follow_a_live_sitting(aiohttp_client, tmp_path):
    client = await aiohttp_client(create_app(ServerConfig(
        data_dir=tmp_path, media_addresses=["127.0.0.1"], presence_detection=False)))
    services = Parts(client.app)
    _, participants, _ = await services.directory.ensure_rehearsal()
    tokens = [services.tokens.issue(p.id) for p in participants]
    empty = await scrape(client)
    assert value(empty, "gikai_members_connected") == 0 and value(empty, "gikai_forwarded_streams") == 0
    assert value(empty, "gikai_ballots_open") == 0

    # Two members with camera and microphone, four without media.
    sessions = [await _join(client, t, MediaClient(f"p{i}") if i < 2 else None) for i, t in enumerate(tokens[:6])]
    chair = sessions[0]
    try:
        found = await scrape(client)
        assert value(found, "gikai_members_connected") == 6
        # Each of the two publishers receives the other's camera and microphone.
        await eventually(lambda: sum(len(sessions[i].media.received) for i in range(2)) == 2)
        async def peers() -> float:
            return value(await scrape(client), "gikai_sfu_peers")

        await eventually(lambda: _equals(peers(), 6), message="six peers in the SFU")
        found = await scrape(client)
        assert value(found, "gikai_sfu_rooms") == 1
        assert value(found, "gikai_forwarded_streams") >= 4
        first_packets = value(found, "gikai_forwarded_packets_total")
        first_bytes = value(found, "gikai_forwarded_bytes_total")

        async def grew() -> bool:
            later = await scrape(client)
            return (value(later, "gikai_forwarded_packets_total") > first_packets + 50
                    and value(later, "gikai_forwarded_bytes_total") > first_bytes + 5000)

        await eventually(grew, message="packets and bytes forwarded to grow")

        # An open ballot, and error replies counted by their code.
        await eventually(lambda: latest(chair).get("quorum", {}).get("met"))
        assert (await chair.request("command", name="open"))["ok"]
        opened = await chair.request("ballot", action="open", motion="議案第1号を原案のとおり可決する",
                                     kind="named", majority="simple", abstain_allowed=False)
        assert opened["ok"], opened
        again = await chair.request("ballot", action="open", motion="二つ目", kind="named",
                                    majority="simple", abstain_allowed=False)
        assert again["code"] == "ballot_already_open"
        await chair.raw("not json")
        found = await scrape(client)
        assert value(found, "gikai_ballots_open") == 1
        assert value(found, "gikai_errors_total", channel="ws", code="ballot_already_open") == 1
        assert value(found, "gikai_errors_total", channel="ws", code="bad_json") == 1
        refused = await client.post("/api/login", json={"username": "clerk", "password": "wrong"})
        assert (await refused.json())["code"] == "login_failed"
        found = await scrape(client)
        assert value(found, "gikai_errors_total", channel="http", code="login_failed") == 1
        lag = value(found, "gikai_event_loop_lag_seconds")
        assert 0 <= lag < 5 and ("gikai_event_loop_lag_seconds", ()) in found
        for state in ("present", "camera_off", "away", "link_lost", "disconnected"):
            assert ("gikai_presence", (("state", state),)) in found
    finally:
        for s in sessions:
            await s.close()
    await eventually(lambda: services.hub.meetings == {})
    found = await scrape(client)
    assert value(found, "gikai_members_connected") == 0
    assert value(found, "gikai_forwarded_packets_total") >= first_packets, "a counter never goes down"


async def test_metrics_are_served_only_to_allowed_addresses(aiohttp_client, tmp_path):
    # Nobody allowed: refused even on loopback.
    closed = await aiohttp_client(create_app(ServerConfig(
        data_dir=tmp_path / "a", media_addresses=["127.0.0.1"], metrics_allow=())))
    assert (await closed.get("/metrics")).status == 403
    # Behind a trusted proxy on loopback, the forwarded client is judged, not the proxy.
    proxied = await aiohttp_client(create_app(ServerConfig(
        data_dir=tmp_path / "b", media_addresses=["127.0.0.1"], trusted_proxies=parse_networks("127.0.0.1"))))
    assert (await proxied.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"})).status == 403
    assert (await proxied.get("/metrics", headers={"Forwarded": 'for="[2001:db8::1]:4711";proto=https'})).status == 403
    assert (await proxied.get("/metrics")).status == 200, "the proxy's host itself (a local Prometheus)"


class Forwarder:
    """A TCP relay to PostgreSQL that the test can cut: the database 'goes away' for the server."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self, port: int = 0) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()
        await self.server.wait_closed()


@pytest.mark.postgres
async def test_healthz_says_503_while_the_database_cannot_be_reached(aiohttp_client, tmp_path):
    parts = urlsplit(POSTGRES_URL)
    relay = Forwarder(parts.hostname or "127.0.0.1", parts.port or 5432)
    await relay.start()
    netloc = f"{parts.username}@127.0.0.1:{relay.port}" if parts.username else f"127.0.0.1:{relay.port}"
    url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    client = await aiohttp_client(create_app(ServerConfig(
        data_dir=tmp_path, database_url=url, media_addresses=["127.0.0.1"])))
    try:
        healthy = await client.get("/healthz")
        body = await healthy.json()
        assert healthy.status == 200 and body["ok"] and body["database"]["ok"] and body["loop_lag"]["ok"]

        await relay.stop()
        down = await client.get("/healthz")
        body = await down.json()
        assert down.status == 503 and not body["ok"] and not body["database"]["ok"] and body["database"]["error"]
        assert body["loop_lag"]["ok"], "only the database is wrong"

        await relay.start(relay.port)  # the database is back
        await eventually(lambda: _status(client, "/healthz", 200), message="healthy again")
    finally:
        await relay.stop()


async def _equals(awaitable, wanted) -> bool:
    return await awaitable == wanted


async def _status(client, path: str, wanted: int) -> bool:
    return (await client.get(path)).status == wanted


async def test_healthz_says_503_when_the_event_loop_lags(aiohttp_client, tmp_path):
    client = await aiohttp_client(create_app(ServerConfig(
        data_dir=tmp_path, media_addresses=["127.0.0.1"], max_loop_lag=0.5)))
    await eventually(lambda: _status(client, "/healthz", 200))
    # The monitor wakes every 0.5 s: a 1.2 s block makes it at least 0.7 s late, wherever it falls.
    busy_until = time.monotonic() + 1.2  # not a wait: CPU-bound work on the loop, which is what is measured
    while time.monotonic() < busy_until:
        pass
    await eventually(lambda: client.app[LOOP_LAG].worst > 0.5)
    lagging = await client.get("/healthz")
    body = await lagging.json()
    assert lagging.status == 503 and not body["loop_lag"]["ok"] and body["database"]["ok"]
    assert body["loop_lag"]["worst_seconds"] >= 0.7


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_data_folder_is_0700_and_its_secrets_0600(aiohttp_client, tmp_path):
    old = os.umask(0o022)  # a usual umask: files would be 0644, folders 0755
    try:
        data = tmp_path / "fresh" / "data"
        client = await aiohttp_client(create_app(ServerConfig(data_dir=data, media_addresses=["127.0.0.1"])))
        assert (await client.get("/healthz")).status == 200
        assert _mode(data) == 0o700
        for name in ("secret.key", "record-signing.key", "gikai.db"):
            assert _mode(data / name) == 0o600, name
        for name in ("gikai.db-wal", "gikai.db-shm"):
            if (data / name).exists():
                assert _mode(data / name) == 0o600, name
        await client.close()

        # A folder an older version left loose is tightened at the next start.
        os.chmod(data, 0o755)
        os.chmod(data / "secret.key", 0o644)
        os.chmod(data / "record-signing.key", 0o664)
        os.chmod(data / "gikai.db", 0o644)
        again = await aiohttp_client(create_app(ServerConfig(data_dir=data, media_addresses=["127.0.0.1"])))
        assert (await again.get("/healthz")).status == 200
        assert _mode(data) == 0o700
        assert {_mode(data / n) for n in ("secret.key", "record-signing.key", "gikai.db")} == {0o600}
    finally:
        os.umask(old)


def test_json_logs_are_one_object_per_line_with_the_traceback(capsys):
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    try:
        configure_logging("info", "json")
        log = logging.getLogger("gikai.test")
        log.info("配信を開始 %s", "ok")
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.exception("it failed")
        log.debug("not shown at info")
    finally:
        root.handlers[:] = before[1]
        root.setLevel(before[0])
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "INFO" and first["logger"] == "gikai.test" and first["message"] == "配信を開始 ok"
    assert first["time"].endswith("+00:00") and "exc_info" not in first
    assert second["level"] == "ERROR" and "RuntimeError: boom" in second["exc_info"]
    assert "Traceback" in second["exc_info"]
    assert isinstance(JsonFormatter().format(logging.LogRecord("x", 20, __file__, 1, "m", None, sys.exc_info())), str)
