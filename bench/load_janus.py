"""sfu_load.py's Janus side (``--compare janus``): the same publishers and subscribers, measured
the same way (load_gen's recording source, send log, arrival log and command loop), against
Janus VideoRoom over its HTTP API (janus_client.py), Janus running in a network namespace of
its own (janus_server.py).

In the orchestrator, :class:`JanusProcess` stands where gikai's SFU child process stands: a
name ("sfu"), a pid for CPU sampling, liveness, and ``close()`` which ends Janus and deletes
its namespace. Janus reports no statistics over a pipe: the rows' SFU-internal diagnostics
(queue drops, GC, event-loop stalls) are gikai's only.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp
from janus_client import JanusParticipant
from janus_server import JanusServer
from load_common import _child_setup, _command_queue
from load_gen import _Recorder, drive, recording_source

from gikai.media.sfu.frames import EncodedFrame
from gikai.media.sfu.ice import set_host_addresses


class JanusProcess:
    """Janus for one scenario, with the parts of ``multiprocessing.Process`` run_scenario uses."""

    name = "sfu"

    def __init__(self, size: int) -> None:
        self.server = JanusServer()
        self.server.start()
        try:
            self.room = self.server.create_room(publishers=size + 4)
        except BaseException:
            self.server.close()
            raise

    @property
    def pid(self) -> int:
        return self.server.pid

    @property
    def exitcode(self) -> int | None:
        assert self.server.process is not None
        return self.server.process.poll()

    def is_alive(self) -> bool:
        return self.exitcode is None

    def join(self, timeout: float | None = None) -> None:
        """Called after the generators were told to quit: Janus ends with the scenario."""
        self.close()

    def gen_args(self) -> tuple[str, int, str]:
        return self.server.url, self.room, self.server.client_address

    def close(self) -> None:
        self.server.close()  # idempotent

    terminate = kill = close


def janus_gen_main(conn: Any, janus: tuple[str, int, str], names: list[str], everyone: list[str],
                   late: list[str], packets: tuple[bytes, ...], join_interval: float,
                   lifetime: float, level: str, drain: bool) -> None:
    _child_setup(lifetime, level, drain)
    asyncio.run(_janus_gen(conn, janus, names, everyone, late, packets, join_interval))


async def _janus_gen(conn: Any, janus: tuple[str, int, str], names: list[str], everyone: list[str],
                     late: list[str], packets: tuple[bytes, ...], join_interval: float) -> None:
    url, room, client_address = janus
    set_host_addresses([client_address])  # the root namespace's end of Janus's veth pair
    index_of = {data: i for i, data in enumerate(packets)}
    rec = _Recorder()
    commands = _command_queue(conn)
    # One connection pool for every participant, as gikai's generator shares one WebSocket;
    # each session's long poll holds a connection, so the pool is not limited.
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    def on_frame_of(name: str) -> Any:
        def on_frame(publisher: str, frame: EncodedFrame) -> None:
            if rec.on:
                rec.arrivals.append((publisher, name, index_of.get(frame.data, -1), time.monotonic()))
        return on_frame

    clients = {n: JanusParticipant(n, http, url, room, recording_source(n, packets, index_of, rec),
                                   on_frame_of(n)) for n in names}
    joins: set[asyncio.Future[None]] = set()
    log = logging.getLogger("bench.gen")

    async def join(name: str) -> None:
        # In the background, as gikai's join is one message: set-up overlaps like gikai's does.
        task = asyncio.ensure_future(clients[name].join())
        joins.add(task)  # kept until done: a task nobody holds may vanish
        task.add_done_callback(joins.discard)
        task.add_done_callback(lambda t: t.cancelled() or t.exception() is None or log.error(
            "join of %s failed: %r", name, t.exception()))

    try:
        await drive(conn, commands, clients, rec, join, names, everyone, late, join_interval)
    finally:
        for task in joins:
            task.cancel()
        await asyncio.gather(*(asyncio.wait_for(c.close(), 5) for c in clients.values()),
                             return_exceptions=True)
        await http.close()
