"""Which local addresses the SFU offers as ICE host candidates.

aioice offers every interface address except loopback and has no option for it, so
the choice is made here, once per process: tests and a single-machine rehearsal pass
``["127.0.0.1"]``; ``None`` restores aioice's own choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

import aioice.ice

_original = aioice.ice.get_host_addresses


def set_host_addresses(addresses: Optional[Sequence[str]]) -> None:
    if addresses is None:
        aioice.ice.get_host_addresses = _original
        return
    chosen = list(addresses)

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = get_host_addresses
