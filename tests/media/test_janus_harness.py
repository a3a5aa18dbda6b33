"""The benchmark's Janus harness (bench/janus_server.py, bench/janus_client.py) with a real Janus:
in its own network namespace, VideoRoom and HTTP only, two aiortc participants that publish
pre-encoded VP8 and receive each other's frames byte for byte, and nothing left behind."""

from __future__ import annotations

import asyncio
import subprocess

import aiohttp
import pytest

from bench import janus_server
from bench.janus_client import JanusParticipant
from gikai.media.sfu.frames import EncodedFrame, vp8_is_keyframe
from gikai.media.sfu.ice import set_host_addresses
from tests.support.encoded import EncodedSourceTrack, encode_vp8
from tests.support.waiting import eventually

pytestmark = pytest.mark.skipif(janus_server.missing() is not None, reason=str(janus_server.missing()))


def _one_run(received: list[bytes], sent: list[bytes]) -> bool:
    """Whether ``received`` is one unbroken stretch of ``sent``: no frame lost, none reordered."""
    n = len(received)
    return any(sent[i:i + n] == received for i, data in enumerate(sent) if data == received[0])


async def test_two_janus_participants_receive_each_others_frames_byte_for_byte() -> None:
    janus = janus_server.JanusServer()
    await asyncio.to_thread(janus.start)
    try:
        info = await asyncio.to_thread(janus.request, "/info", None)
        # Only what the benchmark configured was loaded: no other plugin, no websockets.
        assert set(info["plugins"]) == {"janus.plugin.videoroom"}
        assert set(info["transports"]) == {"janus.transport.http"}
        room = await asyncio.to_thread(janus.create_room)
        set_host_addresses([janus.client_address])  # Janus ignores loopback: the veth's root end
        packets = encode_vp8(frames=45)
        received: dict[str, list[bytes]] = {"a": [], "b": []}

        def collect(name: str):
            def on_frame(publisher: str, frame: EncodedFrame) -> None:
                received[name].append(frame.data)
            return on_frame

        sources = {n: EncodedSourceTrack("video", packets, 15) for n in ("a", "b")}
        async with aiohttp.ClientSession() as http:
            people = {n: JanusParticipant(n, http, janus.url, room, sources[n], collect(n)) for n in sources}
            try:
                for person in people.values():
                    await person.join()
                await eventually(lambda: len(received["a"]) >= 30 and len(received["b"]) >= 30,
                                 seen=lambda: ({n: len(r) for n, r in received.items()},
                                               [p.errors for p in people.values()]))
            finally:
                for person in people.values():
                    await person.close()
        for name, other in (("a", "b"), ("b", "a")):
            assert people[name].frame_counts.keys() == {(other, "video")}
            got = received[name][:30]
            # Janus forwards from the moment the subscription starts, not from a keyframe as
            # gikai does; a keyframe follows within the first 30 frames (the loop has one a second).
            assert any(vp8_is_keyframe(data) for data in got)
            assert _one_run(got, [data for _, data, _ in sources[other].sent])
    finally:
        set_host_addresses(["127.0.0.1"])  # the session-wide choice of tests/conftest.py
        await asyncio.to_thread(janus.close)
    namespaces = await asyncio.to_thread(subprocess.run, ["ip", "netns", "list"], capture_output=True, text=True)
    assert janus.netns not in namespaces.stdout
    assert janus.process is not None and janus.process.poll() is not None
