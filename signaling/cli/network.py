"""``gikai serve``'s options for media across a real network: the UDP port range of the SFU's
ICE sockets, and TURN servers for browsers whose network drops UDP (docs/network.md). Checked
at start-up: a wrong value stops the server with a message, never a silent default."""

from __future__ import annotations

import argparse
import os
from typing import Any

from gikai.media import PortRange
from gikai.media.sfu.ice import split_media_addresses
from gikai.signaling.config import ServerConfig
from gikai.signaling.turn import DEFAULT_TTL, MIN_TTL, TurnServers


def add_network_media_options(serve: argparse.ArgumentParser) -> None:
    group = serve.add_argument_group("media across a network (see docs/network.md)")
    group.add_argument("--media-ports", metavar="LOW-HIGH",
                       help="bind every media (ICE/UDP) socket inside this port range, e.g. 40000-40099; "
                            "a member joining when all are in use is refused (default: any port)")
    group.add_argument("--turn-url", action="append", dest="turn_urls", default=[], metavar="URL",
                       help="TURN server for the browsers (repeatable), e.g. turn:turn.example.jp:3478?transport=udp "
                            "or turns:turn.example.jp:443?transport=tcp; needs --turn-secret")
    group.add_argument("--turn-secret", default=os.environ.get("GIKAI_TURN_SECRET"), metavar="SECRET",
                       help="coturn's static-auth-secret (use-auth-secret); better given as the environment "
                            "variable GIKAI_TURN_SECRET, which other users cannot read in the process list")
    group.add_argument("--turn-ttl", type=int, default=DEFAULT_TTL, metavar="SECONDS",
                       help=f"how long a TURN credential is valid (default {DEFAULT_TTL}: longer than a sitting)")


def network_media_settings(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, Any]:
    """The ServerConfig fields these options set; ``parser.error`` (exit 2) on a wrong value."""
    out: dict[str, Any] = {}
    try:
        split_media_addresses(args.media_addresses or [])
    except ValueError as exc:
        parser.error(f"--media-address: neither an address of this host nor a public IP address: {exc}")
    if args.media_ports:
        try:
            out["media_ports"] = PortRange.parse(args.media_ports)
        except ValueError as exc:
            parser.error(f"--media-ports: {exc}")
    if args.turn_ttl < MIN_TTL:
        parser.error(f"--turn-ttl: TURN credentials must live at least {MIN_TTL} seconds")
    if args.turn_urls and not args.turn_secret:
        parser.error("--turn-url needs --turn-secret (or GIKAI_TURN_SECRET): the relay's static-auth-secret")
    if args.turn_urls:
        try:
            out["turn"] = TurnServers(tuple(args.turn_urls), args.turn_secret, args.turn_ttl)
        except ValueError as exc:
            parser.error(f"--turn-url/--turn-secret: {exc}")
    elif args.turn_secret and args.turn_secret != os.environ.get("GIKAI_TURN_SECRET"):
        parser.error("--turn-secret without --turn-url: say where the TURN server is")
    return out


def describe(config: ServerConfig) -> list[str]:
    """What ``gikai serve`` prints about its media network settings (never the TURN secret)."""
    lines = []
    if config.media_ports is not None:
        lines.append(f"media ports: UDP {config.media_ports} ({len(config.media_ports)} per address)")
    if config.media_addresses:
        bind, announce = split_media_addresses(config.media_addresses)
        if announce:
            lines.append(f"media addresses: bound on {', '.join(bind)}; announced as {', '.join(announce)} (1:1 NAT)")
    if config.turn.urls:
        lines.append(f"TURN for browsers: {' '.join(config.turn.urls)} "
                     f"(credentials valid {config.turn.ttl} s, renewed every {int(config.turn.renew_every)} s)")
    return lines
