"""Members from Python (aiortc), run as a process of their own, e.g. inside a network namespace:

    ip netns exec NS python -m tests.support.netmember WS_URL TOKEN TOKEN...

Each joins with its token and publishes a VP8 picture and an Opus tone; once every member has
received 10 video frames from every other, one JSON line per member says which ICE pair carries
its media (local and remote candidate) and the process exits 0. It exits 1 if that does not
happen within the bound."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from tests.support.client import MediaClient
from tests.support.member import SocketMember

BOUND = 90.0


def nominated(client: MediaClient) -> dict[str, Any]:
    transport = client.pc.getTransceivers()[0].sender.transport.transport
    pair = transport._connection._nominated.get(1)
    if pair is None:
        return {}
    end = lambda c: {"type": c.type, "address": c.host, "port": c.port}  # noqa: E731
    return {"local": end(pair.local_candidate), "remote": end(pair.remote_candidate)}


async def main(ws_url: str, tokens: list[str]) -> int:
    members = [SocketMember(ws_url, token, MediaClient(f"net{n}", keep_frames=False)) for n, token in enumerate(tokens)]
    try:
        ids = [(await m.start())["participant"]["id"] for m in members]

        def done() -> bool:
            return all(m.media is not None and m.media.frame_counts[(other, "video")] >= 10
                       for m, me in zip(members, ids, strict=True) for other in ids if other != me)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + BOUND
        while not done():
            if loop.time() > deadline:
                counts = [dict(m.media.frame_counts) for m in members if m.media is not None]
                print(json.dumps({"error": "no media between the members", "frames": str(counts)}), flush=True)
                return 1
            await asyncio.sleep(0.1)
        for member, me in zip(members, ids, strict=True):
            assert member.media is not None
            print(json.dumps({"participant": me, **nominated(member.media)}), flush=True)
        return 0
    finally:
        for member in members:
            await member.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2:])))
