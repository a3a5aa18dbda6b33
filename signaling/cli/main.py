"""Command line: ``gikai serve``."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from gikai.orchestrator.domain.model import Role
from gikai.signaling.app import create_app
from gikai.signaling.auth.sessions import ACCOUNTS
from gikai.signaling.cli.admin import add_admin_commands, run_admin
from gikai.signaling.cli.network import add_network_media_options, describe, network_media_settings
from gikai.signaling.cli.rehearsal_papers import add_rehearsal_papers
from gikai.signaling.cli.speech import add_speech_options, describe_speech, speech_settings
from gikai.signaling.config import ServerConfig, canonical_origin, parse_networks
from gikai.signaling.http.state import DIRECTORY, DOCUMENTS, SITTINGS, TOKENS
from gikai.signaling.ops.logs import configure_logging
from gikai.signaling.ops.tls import server_context

ROLE_LABELS = {
    Role.CHAIR: "委員長", Role.VICE_CHAIR: "副委員長", Role.MEMBER: "委員", Role.CLERK: "事務局",
    Role.PRESENTER: "説明員", Role.EXPERT: "参考人", Role.OBSERVER: "傍聴",
}
PLENARY_LABELS = {Role.CHAIR: "議長", Role.VICE_CHAIR: "副議長", Role.MEMBER: "議員", Role.PRESENTER: "町長(答弁)"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gikai", description="gikai: meetings for councils")
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data", type=Path, default=Path(os.environ.get("GIKAI_DATA", "gikai-data")),
                        help="data folder; default ./gikai-data")
    common.add_argument("--database-url", default=os.environ.get("GIKAI_DATABASE_URL"),
                        help="database URL (default: SQLite file in the data folder)")
    add_admin_commands(sub, common)
    serve = sub.add_parser("serve", help="run the server (web client, signaling, SFU)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    serve.add_argument("--data", type=Path, default=Path(os.environ.get("GIKAI_DATA", "gikai-data")),
                       help="data folder (database, keys); default ./gikai-data")
    serve.add_argument("--database-url", default=os.environ.get("GIKAI_DATABASE_URL"),
                       help="database URL (default: SQLite file in the data folder)")
    serve.add_argument("--media-address", action="append", dest="media_addresses",
                       help="address offered for media (repeatable; 'auto' = all interfaces; an address no "
                            "interface has is announced as a 1:1 NAT's public address); default: auto and 127.0.0.1")
    serve.add_argument("--public-url", help="the one public origin, e.g. https://gikai.town.example.jp: passkeys, "
                                            "allowed origins, Secure cookies, printed links (default http://HOST:PORT)")
    serve.add_argument("--no-presence-detection", action="store_true",
                       help="count remote members while connected instead of while seen on camera")
    serve.add_argument("--recording-segment-seconds", type=float, default=300.0,
                       help="length of each recording file; a crash loses at most the tail of one (default 300)")
    serve.add_argument("--recording-min-free-mb", type=int, default=1024,
                       help="stop recording, with an alert, when the disk has less free (default 1024)")
    serve.add_argument("--gallery-max-viewers", type=int, default=200,
                       help="public gallery viewers at most, all sittings together (default 200)")
    serve.add_argument("--gallery-max-per-address", type=int, default=10,
                       help="gallery seats one client address may hold (default 10)")
    serve.add_argument("--broadcast", action="store_true",
                       help="encode each open sitting's gallery picture and sound into HLS at "
                            "/broadcast/<sitting>/index.m3u8 (an encoder process per sitting)")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    add_operations_options(serve)
    add_network_media_options(serve)
    add_speech_options(serve)
    return parser


def add_operations_options(serve: argparse.ArgumentParser) -> None:
    """HTTPS, the reverse proxy in front, metrics and logs (docs/deployment.md)."""
    ops = serve.add_argument_group("HTTPS, proxy and operations")
    ops.add_argument("--tls-cert", type=Path, help="certificate chain (PEM): serve HTTPS and WSS (with --tls-key)")
    ops.add_argument("--tls-key", type=Path, help="the certificate's private key (PEM)")
    ops.add_argument("--trusted-proxy", default="", metavar="ADDR[,ADDR|CIDR...]",
                     help="reverse proxies whose X-Forwarded-*/Forwarded headers are believed (default: none)")
    ops.add_argument("--metrics-allow", default="127.0.0.1,::1", metavar="ADDR[,ADDR|CIDR...]",
                     help="client addresses that may read /metrics (default: loopback)")
    ops.add_argument("--log-format", default="text", choices=["text", "json"],
                     help="json: one JSON object per line (time, level, logger, message, exc_info)")


def operations_config(args: argparse.Namespace) -> dict[str, Any]:
    """The ServerConfig fields of the options above; ValueError with what is wrong."""
    if (args.tls_cert is None) != (args.tls_key is None):
        raise ValueError("--tls-cert and --tls-key go together")
    if args.public_url:
        canonical_origin(args.public_url)  # raises for anything but an http(s) URL with a host
        if urlsplit(args.public_url).path not in ("", "/"):
            raise ValueError("--public-url is an origin (scheme, host, port): gikai is served at its root")
    return {"tls_cert": args.tls_cert, "tls_key": args.tls_key,
            "trusted_proxies": parse_networks(args.trusted_proxy),
            "metrics_allow": parse_networks(args.metrics_allow), "log_format": args.log_format}


async def serve(config: ServerConfig, stop: asyncio.Event | None = None) -> None:
    app = create_app(config)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    tls = server_context(config.tls_cert, config.tls_key) if config.tls_cert and config.tls_key else None
    site = web.TCPSite(runner, config.host, config.port, ssl_context=tls)
    await site.start()
    port = runner.addresses[0][1]
    base = (config.public_url or f"{'https' if tls else 'http'}://{config.host}:{port}").rstrip("/")
    print(f"gikai serving on {base}", flush=True)
    for line in describe(config):
        print(line, flush=True)
    print(describe_speech(config.asr_model), flush=True)
    clerk = await app[ACCOUNTS].ensure_clerk()
    if clerk is not None:
        print(f"clerk account created: user '{clerk[0]}', password '{clerk[1]}' "
              f"(log in at {base}/login; shown only this once)", flush=True)
    rehearsal = await app[DIRECTORY].ensure_rehearsal()
    if rehearsal is None:
        print("no rehearsal meeting in this database", flush=True)
    else:
        meeting, participants, created = rehearsal
        note = "created" if created else "ready"
        if created:
            agenda = (await app[SITTINGS].get(meeting.id)).agenda.items
            if agenda and await add_rehearsal_papers(app[DOCUMENTS].service, meeting, agenda[0].id):
                print(f"rehearsal agenda paper added to {agenda[0].title}", flush=True)
        print(f"rehearsal meeting {meeting.title} ({note}); join links, one per person:", flush=True)
        for p in participants:
            link = f"{base}/join#{app[TOKENS].issue(p.id)}"
            print(f"  {ROLE_LABELS[p.role]} {p.name}: {link}", flush=True)
        print(f"public gallery (傍聴席): {base}/gallery/{meeting.id}", flush=True)
        print(f"caption screen (字幕): {base}/captions/{meeting.id}", flush=True)
        for plenary, people in (await app[DIRECTORY].rehearsals())[1:]:
            print(f"rehearsal meeting {plenary.title} ({note}); join links, one per person:", flush=True)
            for p in people:
                link = f"{base}/join#{app[TOKENS].issue(p.id)}"
                print(f"  {PLENARY_LABELS.get(p.role, ROLE_LABELS[p.role])} {p.name}: {link}", flush=True)
            print(f"chamber display (議場モニター): {base}/display/{plenary.id}", flush=True)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        print("gikai stopping", flush=True)
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(getattr(args, "log_level", "warning"), getattr(args, "log_format", "text"))
    if args.command == "serve":
        try:
            operations = operations_config(args)
        except ValueError as exc:
            parser.error(str(exc))
        config = ServerConfig(
            host=args.host, port=args.port, data_dir=args.data, database_url=args.database_url,
            media_addresses=args.media_addresses or ["auto", "127.0.0.1"], public_url=args.public_url,
            presence_detection=not args.no_presence_detection,
            recording_segment_seconds=max(1.0, args.recording_segment_seconds),
            recording_min_free_bytes=max(0, args.recording_min_free_mb) << 20,
            gallery_max_viewers=max(0, args.gallery_max_viewers),
            gallery_max_per_address=max(1, args.gallery_max_per_address),
            broadcast=args.broadcast,
            **operations,
            **network_media_settings(parser, args),
            **speech_settings(parser, args),
        )
        asyncio.run(serve(config))
        return 0
    return asyncio.run(run_admin(args))


if __name__ == "__main__":
    sys.exit(main())
