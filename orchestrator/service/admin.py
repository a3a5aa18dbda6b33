"""The clerk's work: bodies, rosters (also from CSV), sittings and their agendas."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from gikai.orchestrator.domain.agenda import AgendaItem, ItemKind
from gikai.orchestrator.domain.errors import InvalidArgument, InvalidRoster, NotFound
from gikai.orchestrator.domain.model import Body, BodyKind, Meeting, Member, Participant, Role
from gikai.orchestrator.domain.rules import StandingRules
from gikai.orchestrator.service.unit_of_work import UnitOfWorkFactory

ROLE_WORDS = {
    "chair": Role.CHAIR, "委員長": Role.CHAIR, "議長": Role.CHAIR,
    "vice_chair": Role.VICE_CHAIR, "副委員長": Role.VICE_CHAIR, "副議長": Role.VICE_CHAIR,
    "member": Role.MEMBER, "委員": Role.MEMBER, "議員": Role.MEMBER, "": Role.MEMBER,
}
MAX_ROSTER_ROWS = 500
MAX_SEAT = 9999  # seat numbers of a chamber


@dataclass(frozen=True)
class RosterRow:
    seat: int
    name: str
    reading: str
    role: Role


def parse_roster_csv(text: str) -> list[RosterRow]:
    """``seat,name,reading,role`` (a header line first; role may be Japanese). All or nothing."""
    text = text.lstrip("\ufeff")
    try:
        return _roster_rows(csv.DictReader(io.StringIO(text, newline="")))  # CR, LF or CRLF line ends
    except csv.Error as exc:  # a field over the csv module's limit, a quote left open at the end
        raise InvalidRoster(f"not a CSV file: {str(exc)[:100]}") from None


def _roster_rows(reader: csv.DictReader[str]) -> list[RosterRow]:
    wanted = {"seat", "name", "reading", "role"}
    if reader.fieldnames is None or not wanted <= {f.strip().lower() for f in reader.fieldnames}:
        raise InvalidRoster("the first line must be: seat,name,reading,role")
    rows: list[RosterRow] = []
    problems: list[str] = []
    for line, raw in enumerate(reader, start=2):
        if line > MAX_ROSTER_ROWS + 1:
            raise InvalidRoster(f"at most {MAX_ROSTER_ROWS} members")
        record = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        try:
            seat = int(record["seat"])
            if not 1 <= seat <= MAX_SEAT:  # beyond it, no database column holds it
                raise ValueError
        except ValueError:
            problems.append(f"line {line}: seat must be a whole number from 1 to {MAX_SEAT}")
            continue
        role = ROLE_WORDS.get(record["role"].lower() if record["role"].isascii() else record["role"])
        if role is None:
            problems.append(f"line {line}: unknown role '{record['role'][:20]}'")
            continue
        if not record["name"] or not record["reading"]:
            problems.append(f"line {line}: name and reading are required")
            continue
        if len(record["name"]) > 100 or len(record["reading"]) > 100:
            problems.append(f"line {line}: name or reading too long")
            continue
        rows.append(RosterRow(seat, record["name"], record["reading"], role))
    seats = [r.seat for r in rows]
    if len(set(seats)) != len(seats):
        problems.append("two members have the same seat number")
    if sum(r.role is Role.CHAIR for r in rows) > 1:
        problems.append("a roster has at most one chair")
    if not rows and not problems:
        problems.append("the roster is empty")
    if problems:
        raise InvalidRoster("; ".join(problems[:10]))
    return rows


class AdminService:
    def __init__(self, units: UnitOfWorkFactory) -> None:
        self.units = units  # public: the admin command line runs other services on the same database

    async def create_body(self, name: str, kind: BodyKind, fixed_membership: int,
                          rules: StandingRules | None = None) -> Body:
        body = Body(name.strip()[:200], kind, fixed_membership, rules=rules or StandingRules())
        async with self.units() as uow:
            uow.directory.add_body(body)
            await uow.commit()
        return body

    async def set_remote_permission(self, body_id: str, required: bool, deadline_hours: int = 0) -> StandingRules:
        """Whether a member attending the body's sittings remotely needs the chair's permission
        (for the body's own kind of sitting), and until how many hours before the scheduled start
        one applies (0: until the opening). A sitting already loaded by a running server keeps
        the rules it was loaded with until the server restarts."""
        async with self.units() as uow:
            body = await uow.directory.body(body_id)
            if body is None:
                raise NotFound(f"body {body_id}")
            kind = "plenary" if body.kind is BodyKind.PLENARY else "committee"
            changes: dict[str, Any] = {f"remote_requires_permission_in_{kind}": required,
                                       "remote_application_deadline_hours": deadline_hours}
            try:
                rules = replace(body.rules, **changes)
            except ValueError as exc:
                raise InvalidArgument(str(exc)) from None
            await uow.directory.set_rules(body_id, rules)
            await uow.commit()
        return rules

    async def import_roster(self, body_id: str, csv_text: str) -> list[Member]:
        rows = parse_roster_csv(csv_text)
        async with self.units() as uow:
            if not await uow.directory.body_exists(body_id):
                raise NotFound(f"body {body_id}")
            clash = sorted(await uow.directory.seats_taken(body_id) & {r.seat for r in rows})
            if clash:
                raise InvalidRoster(f"seats already taken: {clash[:10]}")
            members = [Member(body_id, r.name, r.reading, r.seat, r.role) for r in rows]
            for m in members:
                uow.directory.add_member(m)
            await uow.commit()
        return members

    async def create_meeting(self, body_id: str, title: str, scheduled_at: datetime, place: str = "",
                             clerk_name: str = "事務局") -> Meeting:
        """A sitting with every member of the body, and the clerk, as participants."""
        async with self.units() as uow:
            if not await uow.directory.body_exists(body_id):
                raise NotFound(f"body {body_id}")
            meeting = Meeting(body_id, title.strip()[:300], scheduled_at, place.strip()[:200])
            participants = [Participant(meeting.id, m.name, m.reading, m.role, m.seat, m.id)
                            for m in await uow.directory.members(body_id)]
            participants.append(Participant(meeting.id, clerk_name, "じむきょく", Role.CLERK))
            await uow.directory.add_meeting(meeting, participants)
            await uow.commit()
        return meeting

    async def add_participant(self, meeting_id: str, name: str, reading: str, role: Role) -> Participant:
        if role.is_member:
            raise InvalidRoster("members join a sitting through the roster of their body")
        async with self.units() as uow:
            if not await uow.directory.meeting_exists(meeting_id):
                raise NotFound(f"meeting {meeting_id}")
            p = Participant(meeting_id, name.strip()[:100], reading.strip()[:100], role)
            uow.directory.add_participant(p)
            await uow.commit()
        return p

    async def add_agenda_item(self, meeting_id: str, title: str, kind: ItemKind = ItemKind.BILL) -> AgendaItem:
        async with self.units() as uow:
            if not await uow.directory.meeting_exists(meeting_id):
                raise NotFound(f"meeting {meeting_id}")
            position = await uow.directory.last_agenda_position(meeting_id) + 1
            item = AgendaItem(meeting_id, position, title.strip()[:500], kind)
            uow.directory.add_agenda_item(item)
            await uow.commit()
        return item

    async def overview(self) -> dict[str, Any]:
        """Everything the clerk's page lists: bodies with members (and passkey status), sittings."""
        async with self.units() as uow:
            bodies = await uow.directory.bodies()
            members = await uow.directory.members()
            meetings = await uow.directory.meetings()
            items = await uow.directory.agenda()
            others = await uow.directory.participants_without_seat()
            enrolled = await uow.accounts.member_ids_with_passkeys()
        return {
            "bodies": [
                {"id": b.id, "name": b.name, "kind": b.kind.value, "fixed_membership": b.fixed_membership,
                 "rehearsal": b.rehearsal, "vocabulary": b.vocabulary,
                 "remote_permission": {"required": b.rules.remote_requires_permission(b.kind is BodyKind.PLENARY),
                                       "deadline_hours": b.rules.remote_application_deadline_hours},
                 "members": [{"id": m.id, "seat": m.seat, "name": m.name, "reading": m.reading,
                              "role": m.role.value, "passkey": m.id in enrolled}
                             for m in members if m.body_id == b.id]}
                for b in bodies
            ],
            "meetings": [
                {"id": m.id, "body_id": m.body_id, "title": m.title, "state": m.state.value,
                 "scheduled_at": m.scheduled_at.isoformat(), "place": m.place,
                 "agenda": [{"id": i.id, "position": i.position, "title": i.title, "kind": i.kind.value,
                             "state": i.state.value} for i in items if i.meeting_id == m.id],
                 "others": [{"id": p.id, "name": p.name, "role": p.role.value} for p in others
                            if p.meeting_id == m.id]}
                for m in meetings
            ],
        }

    async def member_meetings(self, member_id: str) -> list[Meeting]:
        async with self.units() as uow:
            member = await uow.directory.member(member_id)
            if member is None:
                return []
            return await uow.directory.meetings(member.body_id)

    async def body_of(self, meeting_id: str) -> Body | None:
        async with self.units() as uow:
            return await uow.directory.body_of_meeting(meeting_id)
