"""Who may do what, as a table: docs/authority.md, asserted over the member socket cell by cell.

Every cell is one fresh sitting of a committee (a chair, a vice-chair, five members, the clerk, a
presenter and an observer; seven seats, quorum four), brought to the cell's state with what the
row needs (a floor request, an open ballot…), then the cell's role sends the row's message over
its own socket and the answer is compared with the table: ✓ (carried out) or the refusal's code.
The gallery and a socket that has not joined are asserted for every row too.

``python -m tests.signaling.test_authority`` prints the table the server gives today (to review
a change of rules, then copy into docs/authority.md).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from gikai.orchestrator.domain.model import Body, BodyKind, Role
from gikai.orchestrator.domain.rules import SpeechKind
from gikai.orchestrator.domain.sitting import Sitting
from gikai.orchestrator.domain.voting import BallotKind, BallotState, Choice, Majority
from gikai.signaling.app import create_app
from gikai.signaling.config import ServerConfig
from gikai.signaling.ws.endpoint import MEMBER_SOCKETS
from tests.support.server import Parts

DOC = Path(__file__).resolve().parents[2] / "docs" / "authority.md"
STATES = ("scheduled", "open", "recessed", "adjourned")
ROLES = ("chair", "vice_chair_presiding", "vice_chair", "member", "clerk", "presenter", "observer")
HEADINGS = {"chair": "chair", "vice_chair_presiding": "vice-chair presiding", "vice_chair": "vice-chair",
            "member": "member", "clerk": "clerk", "presenter": "presenter", "observer": "observer"}
ALLOWED = "✓"
ROSTER = "seat,name,reading,role\n1,委員長,いいんちょう,委員長\n2,副委員長,ふくいいんちょう,副委員長\n" + "".join(
    f"{n},委員{n},いいん{n},委員\n" for n in range(3, 8))


@dataclass
class Cell:
    """One sitting made for one cell: who is who, and what the row's setup left behind."""

    meeting_id: str
    ids: dict[str, str]  # chair, vice_chair, m1..m5, clerk, presenter, observer
    item_id: str
    presiding: str  # the acting chair's id
    found: dict[str, Any] = field(default_factory=dict)  # request ids, ballot ids, the queue's version


Setup = Callable[["World", Cell, "str | None"], Awaitable[None]]  # (world, cell, actor id or None: any)
Message = Callable[[Cell, str], dict[str, Any]]


@dataclass(frozen=True)
class Row:
    label: str
    given: str  # what the setup does, in words, for the document
    message: Message
    setup: Setup | None = None


class World:
    """One server (in-process app) for all cells, and its services."""

    def __init__(self, client: Any, body_id: str) -> None:
        self.client = client
        self.parts = Parts(client.app)
        self.ballots = client.app[MEMBER_SOCKETS].ballots
        self.body_id = body_id

    async def run(self, cell: Cell, action: Callable[[Sitting, datetime], list[Any]]) -> None:
        await self.parts.sittings.execute(cell.meeting_id, action)

    async def sitting(self, cell: Cell) -> Sitting:
        seen: list[Sitting] = []
        await self.run(cell, lambda s, now: seen.append(s) or [])
        return seen[0]

    async def make(self, chair_away: bool) -> Cell:
        admin = self.parts.admin
        meeting = await admin.create_meeting(self.body_id, "権限表の確認", datetime.now().astimezone())
        presenter = await admin.add_participant(meeting.id, "説明員", "せつめいいん", Role.PRESENTER)
        observer = await admin.add_participant(meeting.id, "傍聴者", "ぼうちょうしゃ", Role.OBSERVER)
        item = await admin.add_agenda_item(meeting.id, "議案第1号")
        people = await self.parts.directory.participants(meeting.id)
        by_role: dict[Role, list[str]] = {}
        for p in sorted(people, key=lambda p: (p.seat or 99, p.name)):
            by_role.setdefault(p.role, []).append(p.id)
        ids = {"chair": by_role[Role.CHAIR][0], "vice_chair": by_role[Role.VICE_CHAIR][0],
               **{f"m{n + 1}": pid for n, pid in enumerate(by_role[Role.MEMBER])},
               "clerk": by_role[Role.CLERK][0], "presenter": presenter.id, "observer": observer.id}
        presiding = ids["vice_chair"] if chair_away else ids["chair"]
        cell = Cell(meeting.id, ids, item.id, presiding)
        # present: both chairs (unless the chair is away) and m1..m4; m5 stays away (checked in by hand)
        here = [pid for key, pid in ids.items() if key in ("vice_chair", "m1", "m2", "m3", "m4", "clerk",
                                                            "presenter", "observer")
                or (key == "chair" and not chair_away)]
        await self.run(cell, lambda s, now: [e for pid in here for e in s.connected(pid, now)])
        return cell

    async def bring_to(self, cell: Cell, state: str, setup: Setup | None, actor: str | None) -> None:
        if state == "scheduled":
            return  # before the opening nothing can be set up: the message names what exists
        await self.run(cell, lambda s, now: s.open(cell.presiding, now))
        if setup is not None:
            await setup(self, cell, actor)
        latest = await self.ballots.latest(cell.meeting_id)
        if state in ("recessed", "adjourned") and latest is not None and latest.state is BallotState.OPEN:
            # no recess or adjournment while a ballot is open (ballot_in_progress): the chair closes it
            await self.ballots.close(cell.meeting_id, latest.id, cell.presiding)
        if state == "recessed":
            await self.run(cell, lambda s, now: s.recess(cell.presiding, now))
        elif state == "adjourned":
            await self.run(cell, lambda s, now: s.adjourn(cell.presiding, now))

    # -- setups -----------------------------------------------------------------------
    async def request(self, cell: Cell, who: str, key: str = "request_id") -> None:
        await self.run(cell, lambda s, now: s.request_floor(who, SpeechKind.SPEECH, now))
        sitting = await self.sitting(cell)
        cell.found[key] = next(r.id for r in reversed(sitting.queue.requests) if r.participant_id == who)
        cell.found["version"] = sitting.queue.version

    async def open_ballot(self, cell: Cell) -> None:
        await self.run(cell, lambda s, now: s.take_up(cell.presiding, cell.item_id, now))
        ballot = await self.ballots.open(cell.meeting_id, cell.presiding, "議案第1号に賛成の方", BallotKind.NAMED,
                                         Majority.SIMPLE, False)
        cell.found["ballot_id"] = ballot.id


async def own_request(w: World, cell: Cell, actor: str | None) -> None:
    """The actor's own request where the actor may ask for the floor, else a member's."""
    sitting = await w.sitting(cell)
    mine = actor is not None and sitting.participant(actor).role.is_member
    await w.request(cell, actor if actor is not None and mine else cell.ids["m4"])


async def m4_requests(w: World, cell: Cell, actor: str | None) -> None:
    await w.request(cell, cell.ids["m4"])


async def m3_and_m4_request(w: World, cell: Cell, actor: str | None) -> None:
    await w.request(cell, cell.ids["m3"], "first")
    await w.request(cell, cell.ids["m4"], "second")


async def m4_speaks(w: World, cell: Cell, actor: str | None) -> None:
    await w.request(cell, cell.ids["m4"])
    await w.run(cell, lambda s, now: s.grant(cell.presiding, cell.found["request_id"], now))


async def item_taken_up(w: World, cell: Cell, actor: str | None) -> None:
    await w.run(cell, lambda s, now: s.take_up(cell.presiding, cell.item_id, now))


async def roll_call_started(w: World, cell: Cell, actor: str | None) -> None:
    await w.run(cell, lambda s, now: s.start_roll_call(cell.presiding, now))


async def m5_checked_in(w: World, cell: Cell, actor: str | None) -> None:
    await w.run(cell, lambda s, now: s.check_in(cell.ids["clerk"], cell.ids["m5"], now))


async def ballot_open(w: World, cell: Cell, actor: str | None) -> None:
    await w.open_ballot(cell)


async def ballot_tied(w: World, cell: Cell, actor: str | None) -> None:
    """Closed with nobody's vote: 0 to 0, a tie the chair decides (地方自治法第116条)."""
    await w.open_ballot(cell)
    await w.ballots.close(cell.meeting_id, cell.found["ballot_id"], cell.presiding)


async def ballot_decided(w: World, cell: Cell, actor: str | None) -> None:
    await ballot_tied(w, cell, actor)
    await w.ballots.decide_tie(cell.meeting_id, cell.found["ballot_id"], cell.presiding, Choice.NO)


def command(name: str, **args: Callable[[Cell, str], Any]) -> Message:
    return lambda cell, actor: {"type": "command", "name": name, **{k: f(cell, actor) for k, f in args.items()}}


def fixed(value: Any) -> Callable[[Cell, str], Any]:
    return lambda cell, actor: value


def found(key: str) -> Callable[[Cell, str], Any]:
    return lambda cell, actor: cell.found.get(key, "0" * 32)


def person(key: str) -> Callable[[Cell, str], Any]:
    return lambda cell, actor: cell.ids[key]


ROWS: tuple[Row, ...] = (
    Row("command open", "—", command("open")),
    Row("command recess", "—", command("recess")),
    Row("command resume", "—", command("resume")),
    Row("command adjourn", "—", command("adjourn")),
    Row("command take_up", "the first agenda item", command("take_up", item_id=lambda c, a: c.item_id)),
    Row("command decide", "the item under deliberation", command(
        "decide", item_id=lambda c, a: c.item_id, result=fixed("原案可決")), item_taken_up),
    Row("command request_floor", "—", command("request_floor", kind=fixed("speech"))),
    Row("command withdraw_request", "the actor's own request (a member's for non-members)",
        command("withdraw_request", request_id=found("request_id")), own_request),
    Row("command grant", "a member's request", command("grant", request_id=found("request_id")), m4_requests),
    Row("command deny", "a member's request", command("deny", request_id=found("request_id")), m4_requests),
    Row("command reorder", "two members' requests, swapped", command(
        "reorder", order=lambda c, a: [c.found.get("second", ""), c.found.get("first", "")],
        version=lambda c, a: c.found.get("version", 0)), m3_and_m4_request),
    Row("command call", "the presenter", command("call", participant_id=person("presenter"))),
    Row("command end_speech", "a member has the floor", command("end_speech"), m4_speaks),
    Row("command extend", "a member has the floor", command("extend", seconds=fixed(60)), m4_speaks),
    Row("command audio_mode", "—", command("audio_mode", mode=fixed("open"))),
    Row("command mute", "a member", command("mute", participant_id=person("m4"), muted=fixed(True))),
    Row("command remove", "a member", command("remove", participant_id=person("m4"))),
    Row("command check_in", "an absent member", command("check_in", participant_id=person("m5"))),
    Row("command check_out", "a member checked in by the clerk",
        command("check_out", participant_id=person("m5")), m5_checked_in),
    Row("command recording", "—", command("recording", on=fixed(True))),
    Row("command move_amendment", "a 修正案 to the item under deliberation, moved by m4 with m5", command(
        "move_amendment", item_id=lambda c, a: c.item_id, mover_id=person("m4"), supporters=lambda c, a: [c.ids["m5"]],
        original=fixed("100分の5"), text=fixed("100分の3")), item_taken_up),
    Row("command arrange_amendments", "the item under deliberation (its amendments, none here)", command(
        "arrange_amendments", item_id=lambda c, a: c.item_id, order=fixed([])), item_taken_up),
    Row("command move_motion", "a 休憩の動議 moved by m4 with m5", command(
        "move_motion", kind=fixed("recess"), mover_id=person("m4"), supporters=lambda c, a: [c.ids["m5"]])),
    Row("command start_roll_call", "the members attending remotely", command("start_roll_call")),
    Row("command end_roll_call", "a roll call under way", command("end_roll_call"), roll_call_started),
    Row("command name_minutes_signers", "two members (会議録署名議員)", command(
        "name_minutes_signers", members=lambda c, a: [person("m4")(c, a), person("m5")(c, a)])),
    Row("ballot open", "the item under deliberation", lambda c, a: {
        "type": "ballot", "action": "open", "motion": "議案第1号に賛成の方", "kind": "named",
        "majority": "simple", "abstain_allowed": False}, item_taken_up),
    Row("ballot close", "an open ballot", lambda c, a: {
        "type": "ballot", "action": "close", "ballot_id": c.found.get("ballot_id", "0" * 32)}, ballot_open),
    Row("ballot decide_tie", "a closed ballot, tied", lambda c, a: {
        "type": "ballot", "action": "decide_tie", "ballot_id": c.found.get("ballot_id", "0" * 32),
        "choice": "yes"}, ballot_tied),
    Row("ballot publish", "a closed ballot, its tie decided", lambda c, a: {
        "type": "ballot", "action": "publish", "ballot_id": c.found.get("ballot_id", "0" * 32)}, ballot_decided),
    Row("vote_options", "an open ballot", lambda c, a: {
        "type": "vote_options", "ballot_id": c.found.get("ballot_id", "0" * 32), "choice": "yes"}, ballot_open),
    Row("present share_screen", "—", lambda c, a: {"type": "present", "action": "share_screen"}),
)


async def answer(ws: aiohttp.ClientWebSocketResponse, rid: int) -> dict[str, Any]:
    while True:
        msg = await asyncio.wait_for(ws.receive(), 60)
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"the socket closed ({ws.close_code}) before answering {rid}")
        data = json.loads(msg.data)
        if data.get("re") == rid:
            return data


def outcome(data: dict[str, Any]) -> str:
    return ALLOWED if data["type"] == "reply" else str(data["code"])


def actor_of(cell: Cell, role: str) -> str:
    return cell.ids[{"vice_chair_presiding": "vice_chair", "member": "m1"}.get(role, role)]


async def joined(world: World, actor: str) -> aiohttp.ClientWebSocketResponse:
    ws = await world.client.ws_connect("/ws")
    await ws.send_json({"v": 1, "id": 1, "type": "join", "token": world.parts.tokens.issue(actor)})
    reply = await answer(ws, 1)
    assert reply["type"] == "reply", reply
    return ws


async def one_cell(world: World, state: str, row: Row, role: str) -> str:
    """A sitting of its own for one cell (a carried-out command changes the sitting)."""
    cell = await world.make(role == "vice_chair_presiding")
    actor = actor_of(cell, role)
    ws = await joined(world, actor)
    try:
        await world.bring_to(cell, state, row.setup, actor)
        await ws.send_json({"v": 1, "id": 2, **row.message(cell, actor)})
        return outcome(await answer(ws, 2))
    finally:
        await ws.close()


async def refusals(world: World, state: str, setup: Setup | None, chair_away: bool,
                   cells: list[tuple[Row, str]]) -> dict[tuple[str, str], str]:
    """Cells the table says are refused, in one shared sitting: a refusal changes nothing, so
    each role joins once and sends every row's message in turn (a cell the server carries out
    instead is reported all the same, and fails the test)."""
    cell = await world.make(chair_away)
    roles = sorted({role for _, role in cells})
    sockets = {role: await joined(world, actor_of(cell, role)) for role in roles}
    try:
        await world.bring_to(cell, state, setup, None)
        got: dict[tuple[str, str], str] = {}
        for n, (row, role) in enumerate(cells, start=2):
            await sockets[role].send_json({"v": 1, "id": n, **row.message(cell, actor_of(cell, role))})
            got[(row.label, role)] = outcome(await answer(sockets[role], n))
        return got
    finally:
        for ws in sockets.values():
            await ws.close()


async def outsiders(world: World, row: Row) -> tuple[str, str]:
    """The row's message from a gallery viewer's socket, and from a member socket before joining."""
    cell = await world.make(False)
    message = {"v": 1, "id": 2, **row.message(cell, cell.ids["chair"])}
    gallery = await world.client.ws_connect("/gallery/ws")
    nobody = await world.client.ws_connect("/ws")
    try:
        await gallery.send_json(message)
        await nobody.send_json(message)
        return outcome(await answer(gallery, 2)), outcome(await answer(nobody, 2))
    finally:
        await gallery.close()
        await nobody.close()


async def make_world(aiohttp_client: Any, tmp_path: Path) -> World:
    config = ServerConfig(data_dir=tmp_path, media_addresses=["127.0.0.1"], presence_detection=False)
    client = await aiohttp_client(create_app(config))
    admin = Parts(client.app).admin
    body = Body("権限表委員会", BodyKind.COMMITTEE, 7, rehearsal=True)  # join links are for rehearsals
    async with admin.units() as uow:
        uow.directory.add_body(body)
        await uow.commit()
    await admin.import_roster(body.id, ROSTER)
    return World(client, body.id)


# -- the document ---------------------------------------------------------------------
TABLE_ROW = re.compile(r"^\| `([^`]+)` \|(.+)\|\s*$")


def read_tables(text: str) -> tuple[dict[str, dict[tuple[str, str], str]], dict[str, tuple[str, str]]]:
    """{state: {(row, role): outcome}} and {row: (gallery, nobody)} from docs/authority.md."""
    tables: dict[str, dict[tuple[str, str], str]] = {}
    outside: dict[str, tuple[str, str]] = {}
    section = ""
    for line in text.splitlines():
        heading = re.match(r"^## (?:Sitting )?(\w+)", line)
        if heading:
            section = heading.group(1).lower()
            continue
        match = TABLE_ROW.match(line)
        if not match:
            continue
        cells = [c.strip().strip("`") for c in match.group(2).split("|")]
        if section in STATES:
            assert len(cells) == len(ROLES) + 1, line  # "given", then one per role
            tables.setdefault(section, {}).update({(match.group(1), r): c for r, c in zip(ROLES, cells[1:], strict=True)})
        elif section == "outside":
            outside[match.group(1)] = (cells[0], cells[1])
    return tables, outside


def write_tables(tables: dict[str, dict[tuple[str, str], str]], outside: dict[str, tuple[str, str]]) -> str:
    lines: list[str] = []
    for state in STATES:
        lines += [f"## {state.capitalize()}", "",
                  "| message | given | " + " | ".join(HEADINGS[r] for r in ROLES) + " |",
                  "|---|---|" + "---|" * len(ROLES)]
        for row in ROWS:
            cells = [tables[state][(row.label, r)] for r in ROLES]
            lines.append(f"| `{row.label}` | {row.given} | "
                         + " | ".join(c if c == ALLOWED else f"`{c}`" for c in cells) + " |")
        lines.append("")
    lines += ["## Outside", "", "| message | gallery viewer | nobody (not joined) |", "|---|---|---|"]
    lines += [f"| `{row.label}` | `{outside[row.label][0]}` | `{outside[row.label][1]}` |" for row in ROWS]
    return "\n".join(lines) + "\n"


async def measure(world: World) -> tuple[dict[str, dict[tuple[str, str], str]], dict[str, tuple[str, str]]]:
    tables: dict[str, dict[tuple[str, str], str]] = {}
    for state in STATES:
        for row in ROWS:
            for role in ROLES:
                tables.setdefault(state, {})[(row.label, role)] = await one_cell(world, state, row, role)
    outside = {row.label: await outsiders(world, row) for row in ROWS}
    return tables, outside


async def test_every_cell_of_the_authority_table_holds_over_the_socket(aiohttp_client: Any, tmp_path: Path) -> None:
    expected, expected_outside = read_tables(DOC.read_text(encoding="utf-8"))
    assert set(expected) == set(STATES)
    for state in STATES:
        assert {label for label, _ in expected[state]} == {row.label for row in ROWS}, state
    world = await make_world(aiohttp_client, tmp_path)
    got: dict[str, dict[tuple[str, str], str]] = {state: {} for state in STATES}
    for state in STATES:
        shared: dict[tuple[Setup | None, bool], list[tuple[Row, str]]] = {}
        for row in ROWS:
            for role in ROLES:
                if expected[state][(row.label, role)] == ALLOWED:
                    got[state][(row.label, role)] = await one_cell(world, state, row, role)
                else:
                    shared.setdefault((row.setup, role == "vice_chair_presiding"), []).append((row, role))
        for (setup, chair_away), cells in shared.items():
            got[state].update(await refusals(world, state, setup, chair_away, cells))
    got_outside = {row.label: await outsiders(world, row) for row in ROWS}
    wrong = [f"{state} / {label} / {role}: table says {expected[state][(label, role)]}, server answered {cell}"
             for state in STATES for (label, role), cell in got[state].items()
             if cell != expected[state][(label, role)]]
    wrong += [f"outside / {label}: table says {expected_outside.get(label)}, server answered {cells}"
              for label, cells in got_outside.items() if expected_outside.get(label) != cells]
    assert not wrong, "\n".join(wrong)


async def test_no_recess_or_adjournment_while_a_ballot_is_open(aiohttp_client: Any, tmp_path: Path) -> None:
    world = await make_world(aiohttp_client, tmp_path)
    cell = await world.make(False)
    ws = await joined(world, cell.ids["chair"])
    try:
        await world.bring_to(cell, "open", ballot_open, None)

        async def send(n: int, message: dict[str, Any]) -> str:
            await ws.send_json({"v": 1, "id": n, **message})
            return outcome(await answer(ws, n))

        assert await send(2, {"type": "command", "name": "recess"}) == "ballot_in_progress"
        assert await send(3, {"type": "command", "name": "adjourn"}) == "ballot_in_progress"
        assert (await world.sitting(cell)).meeting.state.value == "open"
        assert await send(4, {"type": "ballot", "action": "close", "ballot_id": cell.found["ballot_id"]}) == ALLOWED
        assert await send(5, {"type": "command", "name": "recess"}) == ALLOWED
    finally:
        await ws.close()


if __name__ == "__main__":  # print the table the server gives today
    import tempfile

    from aiohttp.test_utils import TestClient, TestServer

    async def main() -> None:
        with tempfile.TemporaryDirectory() as folder:
            clients: list[TestClient[Any, Any]] = []

            async def factory(app: Any) -> Any:
                client = TestClient(TestServer(app))
                await client.start_server()
                clients.append(client)
                return client

            try:
                world = await make_world(factory, Path(folder))
                tables, outside = await measure(world)
                sys.stdout.write(write_tables(tables, outside))
            finally:
                for c in clients:
                    await c.close()

    asyncio.run(main())
