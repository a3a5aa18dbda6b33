"""``gikai body|member|meeting|clerk …``: the clerk's work from a terminal, on the same database."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from orchestrator.domain.agenda import ItemKind
from orchestrator.domain.errors import DomainError
from orchestrator.domain.model import BodyKind, Role
from orchestrator.persistence.database import Database, sqlite_url
from orchestrator.service.accounts import AccountService
from orchestrator.service.admin import AdminService


def add_admin_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    body = sub.add_parser("body", help="councils and committees").add_subparsers(dest="action", required=True)
    p = body.add_parser("create", parents=[common], help="create a body")
    p.add_argument("--name", required=True)
    p.add_argument("--kind", choices=[k.value for k in BodyKind], default="committee")
    p.add_argument("--fixed", type=int, required=True, help="fixed membership (定数)")
    body.add_parser("list", parents=[common], help="list bodies and their members")

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

    clerk = sub.add_parser("clerk", help="the clerk's account").add_subparsers(dest="action", required=True)
    clerk.add_parser("password", parents=[common], help="set the clerk's password (asked twice)")


async def run_admin(args: argparse.Namespace) -> int:
    db = Database(args.database_url or sqlite_url(args.data))
    args.data.mkdir(parents=True, exist_ok=True)
    try:
        await db.migrate()
        admin, accounts = AdminService(db), AccountService(db)
        return await _dispatch(args, admin, accounts)
    except DomainError as exc:
        print(f"error: {exc.ja} / {exc.en} {exc.detail}", file=sys.stderr)
        return 2
    finally:
        await db.close()


async def _dispatch(args: argparse.Namespace, admin: AdminService, accounts: AccountService) -> int:
    what = (args.command, args.action)
    if what == ("body", "create"):
        body = await admin.create_body(args.name, BodyKind(args.kind), args.fixed)
        print(body.id)
    elif what == ("body", "list"):
        for b in (await admin.overview())["bodies"]:
            print(f"{b['id']}  {b['name']} ({b['kind']}, 定数 {b['fixed_membership']})")
            for m in b["members"]:
                key = "passkey" if m["passkey"] else "no passkey"
                print(f"    {m['id']}  {m['seat']:>3} {m['name']} [{m['role']}] {key}")
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
    elif what == ("clerk", "password"):
        first = getpass.getpass("new password: ")
        if first != getpass.getpass("again: "):
            print("error: the two passwords differ", file=sys.stderr)
            return 2
        await accounts.set_password("clerk", first)
        print("password changed")
    return 0
