"""``gikai archive``: export a sitting as one folder, import one back, render the publishable
video with a progress bar, and apply the bodies' retention rules."""

from __future__ import annotations

import argparse
import shutil
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from gikai.orchestrator.domain.errors import NotFound
from gikai.orchestrator.persistence.database import Database
from gikai.orchestrator.service.archive import ArchiveError, ArchiveService, programme, tracks_of
from gikai.orchestrator.service.signing import Signer


def add_archive_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    archive = sub.add_parser("archive", help="recordings, minutes and the record of past sittings").add_subparsers(
        dest="action", required=True)
    p = archive.add_parser("export", parents=[common],
                           help="write recordings, minutes, record and manifest to a folder")
    p.add_argument("meeting_id")
    p.add_argument("--out", type=Path, required=True)
    p = archive.add_parser("import", parents=[common], help="check an exported folder and add it to the archive")
    p.add_argument("folder", type=Path)
    p = archive.add_parser("render", parents=[common], help="make the publishable MP4 (follows the floor)")
    p.add_argument("meeting_id")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--lang", choices=["ja", "en"], default="ja")
    p = archive.add_parser("prune", parents=[common], help="delete recordings past their body's retention")
    p.add_argument("--dry-run", action="store_true")


def _service(args: argparse.Namespace, db: Database) -> ArchiveService:
    return ArchiveService(db.unit_of_work, Signer.load_or_create(args.data), args.data / "recordings",
                          args.data / "imported")


async def run_archive(args: argparse.Namespace, db: Database) -> int:
    service = _service(args, db)
    try:
        if args.action == "export":
            manifest = await service.export(args.meeting_id, args.out)
            print(f"wrote {len(manifest['files'])} files to {args.out} (chain head {manifest['chain_head']})")
        elif args.action == "import":
            meeting_id = service.import_folder(args.folder)
            print(f"imported {meeting_id}: record verified, every file matches")
        elif args.action == "render":
            return await _render(service, args)
        elif args.action == "prune":
            await _prune(service, args.dry_run)
    except NotFound as exc:
        print(f"error: not found: {exc.detail}", file=sys.stderr)
        return 2
    except ArchiveError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


async def _render(service: ArchiveService, args: argparse.Namespace) -> int:
    import asyncio

    from gikai.media.archive.render import RenderCancelled, render
    from gikai.signaling.adapters.render_jobs import render_plan

    c = await service.chronicle(args.meeting_id)
    plan = render_plan(programme(c, args.lang), tracks_of(c), service.recordings_root / args.meeting_id)
    cancel = threading.Event()
    started = time.monotonic()

    def progress(fraction: float) -> None:
        width = 30
        done = int(fraction * width)
        elapsed = time.monotonic() - started
        print(f"\r[{'#' * done}{'.' * (width - done)}] {fraction * 100:5.1f}%  {elapsed:6.1f} s",
              end="", file=sys.stderr, flush=True)

    try:
        result = await asyncio.get_running_loop().run_in_executor(
            None, lambda: render(plan, args.out, progress=progress, cancel=cancel))
    except (KeyboardInterrupt, asyncio.CancelledError, RenderCancelled):
        cancel.set()
        print("\ncancelled", file=sys.stderr)
        return 130
    print(file=sys.stderr)
    for problem in result.problems:
        print(f"warning: {problem.key}: {problem.reason}", file=sys.stderr)
    print(f"wrote {args.out}: {result.duration:.1f} s of video in {result.seconds:.1f} s "
          f"({result.speed:.1f}x real time)")
    return 0


async def _prune(service: ArchiveService, dry_run: bool) -> None:
    years = await service.retention_years()
    for meeting_id in await service.expired(datetime.now(), lambda body_id: years.get(body_id, 0)):
        folder = service.recordings_root / meeting_id
        print(f"{'would delete' if dry_run else 'deleting'} {folder}")
        if not dry_run:
            shutil.rmtree(folder)
