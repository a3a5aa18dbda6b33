"""Which local addresses the SFU offers as ICE host candidates.

aioice offers every interface address except loopback and has no option for it, so
the choice is made here, once per process: tests pass ``["127.0.0.1"]``; the word
``"auto"`` in the list stands for aioice's own choice (every non-loopback interface);
``None`` restores aioice's behaviour.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import aioice.ice

_original = aioice.ice.get_host_addresses


def set_host_addresses(addresses: Sequence[str] | None) -> None:
    if addresses is None:
        aioice.ice.get_host_addresses = _original
        return
    chosen = list(addresses)

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        found: list[str] = []
        for a in chosen:
            extra = _original(use_ipv4, use_ipv6) if a == "auto" else [a]
            found += [x for x in extra if x not in found and ((":" in x and use_ipv6) or (":" not in x and use_ipv4))]
        return found

    aioice.ice.get_host_addresses = get_host_addresses


def split_media_addresses(addresses: Sequence[str]) -> tuple[list[str], list[str]]:
    """``--media-address`` values as (addresses to bind, addresses to announce). An address no
    interface of this host has is the public side of a 1:1 NAT (a cloud VM's public IP): it is
    announced, not bound; with nothing else left to bind, every interface ("auto") is used."""
    local = set(_original(True, True)) | {"127.0.0.1", "::1"}
    bind = [a for a in addresses if a == "auto" or a in local]
    announce = [a for a in addresses if a not in bind]
    for a in announce:
        ipaddress.ip_address(a)  # a name or a typo is refused at start-up, not announced
    return bind or ["auto"], announce
