"""Command line: ``gikai serve``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from aiohttp import web

from gikai.orchestrator.domain.model import Role
from gikai.signaling.app import create_app
from gikai.signaling.auth.sessions import ACCOUNTS
from gikai.signaling.cli.admin import add_admin_commands, run_admin
from gikai.signaling.cli.network import add_network_media_options, describe, network_media_settings
from gikai.signaling.cli.rehearsal_papers import add_rehearsal_papers
from gikai.signaling.config import ServerConfig
from gikai.signaling.http.state import DIRECTORY, DOCUMENTS, SITTINGS, TOKENS

ROLE_LABELS = {
    Role.CHAIR: "委員長", Role.VICE_CHAIR: "副委員長", Role.MEMBER: "委員", Role.CLERK: "事務局",
    Role.PRESENTER: "説明員", Role.EXPERT: "参考人", Role.OBSERVER: "傍聴",
}


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
    serve.add_argument("--public-url", help="base URL for printed links (default http://HOST:PORT)")
    serve.add_argument("--no-presence-detection", action="store_true",
                       help="count remote members while connected instead of while seen on camera")
    serve.add_argument("--recording-segment-seconds", type=float, default=300.0,
                       help="length of each recording file; a crash loses at most the tail of one (default 300)")
    serve.add_argument("--recording-min-free-mb", type=int, default=1024,
                       help="stop recording, with an alert, when the disk has less free (default 1024)")
    serve.add_argument("--gallery-max-viewers", type=int, default=200,
                       help="public gallery viewers at most, all sittings together (default 200)")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    add_network_media_options(serve)
    return parser


async def serve(config: ServerConfig, stop: asyncio.Event | None = None) -> None:
    app = create_app(config)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    await site.start()
    port = runner.addresses[0][1]
    base = (config.public_url or f"http://{config.host}:{port}").rstrip("/")
    print(f"gikai serving on {base}", flush=True)
    for line in describe(config):
        print(line, flush=True)
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
    logging.basicConfig(level=getattr(args, "log_level", "warning").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        config = ServerConfig(
            host=args.host, port=args.port, data_dir=args.data, database_url=args.database_url,
            media_addresses=args.media_addresses or ["auto", "127.0.0.1"], public_url=args.public_url,
            presence_detection=not args.no_presence_detection,
            recording_segment_seconds=max(1.0, args.recording_segment_seconds),
            recording_min_free_bytes=max(0, args.recording_min_free_mb) << 20,
            gallery_max_viewers=max(0, args.gallery_max_viewers),
            **network_media_settings(parser, args),
        )
        asyncio.run(serve(config))
        return 0
    return asyncio.run(run_admin(args))


if __name__ == "__main__":
    sys.exit(main())
