"""``gikai body|member|meeting|clerk …``: the clerk's work from a terminal, on the same database."""

from __future__ import annotations

import argparse
import getpass
import hashlib
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from gikai.orchestrator.domain.agenda import ItemKind
from gikai.orchestrator.domain.audit import audit
from gikai.orchestrator.domain.errors import DomainError
from gikai.orchestrator.domain.events import Entry
from gikai.orchestrator.domain.ledger import verify_chain
from gikai.orchestrator.domain.model import BodyKind, Role
from gikai.orchestrator.domain.transcript import edited_speeches, texts_digest
from gikai.orchestrator.persistence.database import Database, sqlite_url
from gikai.orchestrator.reports.spoken import final_texts_of_minutes
from gikai.orchestrator.service.accounts import AccountService
from gikai.orchestrator.service.admin import AdminService
from gikai.orchestrator.service.archive import ArchiveService
from gikai.orchestrator.service.signing import Signer, signature_checker
from gikai.signaling.cli.signatures import bad_signature, names, signing_summary
from gikai.signaling.ops.datafolder import prepare_data_folder


def add_admin_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    body = sub.add_parser("body", help="councils and committees").add_subparsers(dest="action", required=True)
    p = body.add_parser("create", parents=[common], help="create a body")
    p.add_argument("--name", required=True)
    p.add_argument("--kind", choices=[k.value for k in BodyKind], default="committee")
    p.add_argument("--fixed", type=int, required=True, help="fixed membership (定数)")
    body.add_parser("list", parents=[common], help="list bodies and their members")
    p = body.add_parser("remote-permission", parents=[common],
                        help="whether remote attendance needs the chair's permission (遠隔出席の許可)")
    p.add_argument("body_id")
    p.add_argument("setting", choices=["on", "off"])
    p.add_argument("--deadline-hours", type=int, default=0,
                   help="applications close this many hours before the scheduled start (0: at the opening)")

    member = sub.add_parser("member", help="members and their passkeys").add_subparsers(dest="action", required=True)
    p = member.add_parser("import", parents=[common], help="import a roster CSV: seat,name,reading,role")
    p.add_argument("body_id")
    p.add_argument("csv", type=Path)
    p = member.add_parser("enrol", parents=[common], help="issue a one-time passkey enrolment link")
    p.add_argument("member_id")
    p.add_argument("--base-url", default="http://localhost:8080")
    p = member.add_parser("revoke", parents=[common], help="revoke a member's passkeys")
    p.add_argument("member_id")

    meeting = sub.add_parser("meeting", help="sittings and agendas").add_subparsers(dest="action", required=True)
    p = meeting.add_parser("create", parents=[common], help="schedule a sitting")
    p.add_argument("--body", required=True)
    p.add_argument("--title", required=True)
    p.add_argument("--at", required=True, help="date and time, e.g. 2026-03-10T10:00")
    p.add_argument("--place", default="")
    p = meeting.add_parser("agenda", parents=[common], help="add an agenda item")
    p.add_argument("meeting_id")
    p.add_argument("title")
    p.add_argument("--kind", choices=[k.value for k in ItemKind], default="bill")
    p = meeting.add_parser("participant", parents=[common], help="add a presenter, expert or observer")
    p.add_argument("meeting_id")
    p.add_argument("--name", required=True)
    p.add_argument("--reading", required=True)
    p.add_argument("--role", choices=["presenter", "expert", "observer", "clerk"], default="presenter")
    meeting.add_parser("list", parents=[common], help="list sittings")

    record = sub.add_parser("record", help="a sitting's signed record").add_subparsers(dest="action", required=True)
    p = record.add_parser("export", parents=[common], help="write a sitting's record (JSON) for checking")
    p.add_argument("meeting_id")
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("verify", help="check an exported record offline; names the first bad entry")
    p.add_argument("file", type=Path)
    p.add_argument("--public-key", type=Path, help="the council's published key (PEM); default: the file's")
    p.add_argument("--receipt", action="append", default=[], metavar="HASH",
                   help="a voter's receipt (entry hash) that must be in the record; may be repeated")
    p.add_argument("--minutes", type=Path, metavar="MINUTES_JSON",
                   help="the exported minutes.json: its speeches' texts must be the ones finalised on the record")

    from gikai.signaling.cli.archive import add_archive_commands

    add_archive_commands(sub, common)

    clerk = sub.add_parser("clerk", help="the clerk's account").add_subparsers(dest="action", required=True)
    clerk.add_parser("password", parents=[common], help="set the clerk's password (asked twice)")


def verify_file(path: Path, public_key: Path | None, receipts: Sequence[str] = (), minutes: Path | None = None) -> int:
    """``gikai verify``: 0 when every entry checks out, 1 naming the first that does not.

    Checks the hash chain and every signature, then recomputes every quorum decision from the
    attendance recorded before it and every tally from the votes (orchestrator/domain/audit.py)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        entries, meeting_id = record["entries"], record["meeting_id"]
        pem = public_key.read_text() if public_key else record["public_key"]
        checker = signature_checker(pem)
    except (OSError, ValueError, KeyError, TypeError, AssertionError) as exc:
        print(f"not a gikai record: {exc}", file=sys.stderr)
        return 2
    problem = verify_chain(meeting_id, entries, checker)
    fingerprint = hashlib.sha256(pem.encode()).hexdigest()[:16]
    if problem is None:
        problem, auditor = audit(entries)
    if problem is not None:
        print(f"FAILED at entry {problem.seq}: {problem.reason}", file=sys.stderr)
        return 1
    forged = bad_signature(meeting_id, entries)
    if forged is not None:
        print(f"FAILED: a signature of the minutes does not verify: {forged}", file=sys.stderr)
        return 1
    by_hash = {e["hash"]: e for e in entries}
    for receipt in receipts:
        found = by_hash.get(receipt.strip().lower())
        if found is None or found["name"] not in (Entry.VOTE_CAST, Entry.VOTE_RECEIVED):
            print(f"FAILED: receipt {receipt} is not a vote in this record", file=sys.stderr)
            return 1
        print(f"receipt {receipt[:16]}…: entry {found['seq']}, {found['name']} on ballot {found['data']['ballot_id']}")
    if minutes is not None and not _minutes_match(entries, minutes):
        return 1
    summary = signing_summary(auditor)
    if summary is not None:
        print(summary)
        if minutes is not None and auditor.unsigned:  # published minutes must be signed
            print(f"FAILED: the minutes are not signed by {names(auditor, auditor.unsigned)}", file=sys.stderr)
            return 1
    head = entries[-1]["hash"] if entries else "(empty)"
    print(f"ok: {len(entries)} entries, chain head {head}, signed by key {fingerprint}; "
          f"{auditor.checked_quorum} quorum decisions and {auditor.checked_ballots} tallies recomputed")
    return 0


def _minutes_match(entries: list[dict[str, Any]], path: Path) -> bool:
    """The speeches' texts in an exported minutes.json hash to the record's ``minutes_finalised``
    entry; else print which speeches differ."""
    final = [e for e in entries if e["name"] == Entry.MINUTES_FINALISED]
    if not final:
        print("FAILED: the record has no finalised minutes", file=sys.stderr)
        return False
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        items = final_texts_of_minutes(data)
    except (OSError, ValueError) as exc:
        print(f"FAILED: {path.name} is not gikai minutes: {exc}", file=sys.stderr)
        return False
    recorded = final[-1]["data"]
    # A speech's text is its sentences joined: an edited sentence is an edited speech too.
    torn = [s["index"] for s in data["speeches"]
            if "sentences" in s and "".join(x.get("text", "") for x in s["sentences"]) != s["text"]]
    if texts_digest(items) == recorded.get("sha256") and not torn:
        print(f"minutes: the texts of {len(items)} speeches are the ones finalised ({recorded['sha256'][:16]}…)")
        return True
    edited = sorted(set(edited_speeches(items, recorded.get("speeches", [])) + torn))
    named = ", ".join(f"speech {i + 1}" + next((f" ({s['speaker']})" for s in data["speeches"]
                                                if s.get("index") == i and s.get("speaker")), "")
                      for i in edited) or "the list of speeches"
    print(f"FAILED: {path.name} differs from the finalised minutes at {named}", file=sys.stderr)
    return False


async def run_admin(args: argparse.Namespace) -> int:
    if args.command == "verify":
        return verify_file(args.file, args.public_key, args.receipt, args.minutes)
    db = Database(args.database_url or sqlite_url(args.data))
    prepare_data_folder(args.data, sqlite=args.database_url is None)  # 0700, the database 0600
    try:
        await db.migrate()
        if args.command == "archive":
            from gikai.signaling.cli.archive import run_archive

            return await run_archive(args, db)
        admin, accounts = AdminService(db.unit_of_work), AccountService(db.unit_of_work)
        return await _dispatch(args, admin, accounts)
    except DomainError as exc:
        print(f"error: {exc.ja} / {exc.en} {exc.detail}", file=sys.stderr)
        return 2
    finally:
        await db.close()


async def _dispatch(args: argparse.Namespace, admin: AdminService, accounts: AccountService) -> int:
    units = admin.units
    what = (args.command, args.action)
    if what == ("body", "create"):
        body = await admin.create_body(args.name, BodyKind(args.kind), args.fixed)
        print(body.id)
    elif what == ("body", "list"):
        for b in (await admin.overview())["bodies"]:
            remote = b["remote_permission"]
            by_permission = f", 遠隔出席は許可制 (締切 {remote['deadline_hours']} 時間前)" if remote["required"] else ""
            print(f"{b['id']}  {b['name']} ({b['kind']}, 定数 {b['fixed_membership']}{by_permission})")
            for m in b["members"]:
                key = "passkey" if m["passkey"] else "no passkey"
                print(f"    {m['id']}  {m['seat']:>3} {m['name']} [{m['role']}] {key}")
    elif what == ("body", "remote-permission"):
        rules = await admin.set_remote_permission(args.body_id, args.setting == "on", args.deadline_hours)
        print(f"remote permission {args.setting}, deadline {rules.remote_application_deadline_hours} h")
    elif what == ("member", "import"):
        try:
            text = args.csv.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"error: cannot read {args.csv}: {exc}", file=sys.stderr)
            return 2
        members = await admin.import_roster(args.body_id, text)
        print(f"imported {len(members)} members")
    elif what == ("member", "enrol"):
        token = await accounts.issue_enrolment(args.member_id)
        print(f"{args.base_url.rstrip('/')}/enrol#{token}")
    elif what == ("member", "revoke"):
        print(f"revoked {await accounts.revoke_passkeys(args.member_id)} passkeys")
    elif what == ("meeting", "create"):
        meeting = await admin.create_meeting(args.body, args.title, datetime.fromisoformat(args.at), args.place)
        print(meeting.id)
    elif what == ("meeting", "agenda"):
        item = await admin.add_agenda_item(args.meeting_id, args.title, ItemKind(args.kind))
        print(item.id)
    elif what == ("meeting", "participant"):
        p = await admin.add_participant(args.meeting_id, args.name, args.reading, Role(args.role))
        print(p.id)
    elif what == ("meeting", "list"):
        for m in (await admin.overview())["meetings"]:
            print(f"{m['id']}  {m['scheduled_at']}  {m['title']} [{m['state']}]")
    elif what == ("record", "export"):
        # the archive's record: a sitting held here, or one imported from another server
        archive = ArchiveService(units, Signer.load_or_create(args.data), args.data / "recordings",
                                 args.data / "imported")
        record = await archive.signed_record(args.meeting_id)
        args.out.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"wrote {len(record['entries'])} entries to {args.out}")
    elif what == ("clerk", "password"):
        first = getpass.getpass("new password: ")
        if first != getpass.getpass("again: "):
            print("error: the two passwords differ", file=sys.stderr)
            return 2
        await accounts.set_password("clerk", first)
        print("password changed")
    return 0
