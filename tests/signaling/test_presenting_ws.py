"""Presenting a document over the socket: who may present, what is checked, who follows,
what goes on the record, and the end when the presenter loses the floor."""

from __future__ import annotations

from sqlalchemy import select

from gikai.orchestrator.persistence.rows import EventRow
from gikai.signaling.http.state import DOCUMENTS
from tests.signaling.test_sitting_ws import _join, latest
from tests.signaling.test_ws import Session, server  # noqa: F401  (fixture)
from tests.support.waiting import eventually
from tests.unit.test_documents_render import make_pdf


async def add_document(services, app, meeting_id: str, pages: int = 3) -> dict:
    docs = app[DOCUMENTS].service
    sitting = await services.sittings.get(meeting_id)
    item_id = sitting.agenda.items[0].id
    upload = docs.new_upload()
    upload.write_bytes(make_pdf([f"資料 {n} ページ" for n in range(1, pages + 1)]))
    doc = await docs.add(meeting_id, item_id, upload, "議案第1号.pdf")
    return {"id": doc.id, "pages": doc.pages}


async def record(services, meeting_id: str, *names: str) -> list[EventRow]:
    async with services.db.session() as session:
        rows = (await session.execute(select(EventRow).where(
            EventRow.meeting_id == meeting_id, EventRow.name.in_(names)).order_by(EventRow.seq))).scalars()
        return list(rows)


async def give_floor(chair: Session, member: Session) -> None:
    """The member asks for the floor (a question) and the chair grants it."""
    assert (await member.request("command", name="request_floor", kind="question"))["ok"]
    await eventually(lambda: len(latest(chair).get("queue", {}).get("requests", [])) == 1)
    request_id = latest(chair)["queue"]["requests"][0]["id"]
    assert (await chair.request("command", name="grant", request_id=request_id))["ok"]


def shown(s: Session) -> dict | None:
    pushes = s.pushed("presentation")
    return pushes[-1]["presentation"] if pushes else None


async def test_the_chair_presents_and_everyone_follows_the_pages(server):  # noqa: F811
    client, services, participants, tokens = server
    meeting_id = participants[0].meeting_id
    doc = await add_document(services, client.app, meeting_id)
    chair, _vice, m1, m2 = sessions = [await _join(client, t) for t in tokens[:4]]
    try:
        # A member without the floor may not present; nothing may be turned before a start.
        assert (await m1.request("present", action="start", document_id=doc["id"]))["code"] == "cannot_present"
        assert (await chair.request("present", action="page", page=2))["code"] == "no_presentation"
        # Bad input is refused at the edge; a document of no sitting or another is not found.
        assert (await chair.request("present", action="start", document_id=7))["code"] == "bad_message"
        assert (await chair.request("present", action="dance"))["code"] == "bad_message"
        assert (await chair.request("present", action="start", document_id="nope"))["code"] == "not_found"
        assert (await chair.request("present", action="start", document_id=doc["id"], page=4))["code"] \
            == "page_out_of_range"

        started = await chair.request("present", action="start", document_id=doc["id"])
        assert started["ok"], started
        assert started["data"]["presentation"] == {
            "document_id": doc["id"], "title": "議案第1号", "page": 1, "pages": 3,
            "presenter_id": chair.me, "pointer": None}
        await eventually(lambda: (shown(m2) or {}).get("document_id") == doc["id"])

        assert (await chair.request("present", action="page", page=2))["ok"]
        await eventually(lambda: all((shown(s) or {}).get("page") == 2 for s in sessions))
        assert (await chair.request("present", action="page", page=4))["code"] == "page_out_of_range"
        assert (await chair.request("present", action="page", page=0))["code"] == "page_out_of_range"
        assert (await m1.request("present", action="page", page=3))["code"] == "not_presenter"
        assert (await m1.request("present", action="point", x=0.5, y=0.5))["code"] == "not_presenter"
        assert (await m1.request("present", action="stop"))["code"] == "not_presenter"
        assert (await chair.request("present", action="point", x=1.5, y=0.5))["code"] == "bad_message"
        assert (await chair.request("present", action="point", x=True, y=0.5))["code"] == "bad_message"

        # Pointer moves arrive, limited in rate; the last one always arrives.
        for n in range(20):
            assert (await chair.request("present", action="point", x=n / 20, y=0.25))["ok"]
        await eventually(lambda: (shown(m1) or {}).get("pointer") == {"x": 19 / 20, "y": 0.25})
        pointer_pushes = [p for p in m1.pushed("presentation") if p["presentation"]["pointer"]]
        assert len(pointer_pushes) < 20

        # Someone joining now is shown the presentation in the join reply.
        late = Session(await client.ws_connect("/ws"))
        sessions.append(late)
        joined = await late.request("join", token=tokens[5])
        assert joined["data"]["presentation"]["page"] == 2
        assert joined["data"]["presentation"]["pointer"] == {"x": 19 / 20, "y": 0.25}

        assert (await chair.request("present", action="stop"))["ok"]
        await eventually(lambda: m2.pushed("presentation")[-1]["presentation"] is None)

        entries = await record(services, meeting_id, "presentation_started", "presentation_ended")
        assert [(e.name, e.actor_id, e.data["document_id"], e.data["presenter_id"]) for e in entries] == [
            ("presentation_started", chair.me, doc["id"], chair.me),
            ("presentation_ended", chair.me, doc["id"], chair.me)]
    finally:
        for s in sessions:
            await s.close()


async def test_a_member_with_the_floor_presents_until_the_floor_ends(server):  # noqa: F811
    client, services, participants, tokens = server
    meeting_id = participants[0].meeting_id
    doc = await add_document(services, client.app, meeting_id)
    chair, _vice, m1, m2, _m3, m4 = sessions = [await _join(client, t) for t in tokens[:6]]
    try:
        assert (await chair.request("command", name="open"))["ok"]
        await give_floor(chair, m1)

        assert (await m2.request("present", action="start", document_id=doc["id"]))["code"] == "cannot_present"
        assert (await m1.request("present", action="start", document_id=doc["id"], page=2))["ok"]
        await eventually(lambda: (shown(m4) or {}).get("presenter_id") == m1.me)
        assert (await m1.request("present", action="page", page=3))["ok"]
        await eventually(lambda: (shown(chair) or {}).get("page") == 3)

        # The chair ends the speech: the presentation ends with it, on the record.
        assert (await chair.request("command", name="end_speech"))["ok"]
        await eventually(lambda: m4.pushed("presentation")[-1]["presentation"] is None)
        assert (await m1.request("present", action="page", page=1))["code"] == "no_presentation"
        await eventually(lambda: len(latest(m4).get("queue", {}).get("requests", [])) == 0)
        entries = await record(services, meeting_id, "presentation_started", "presentation_ended")
        assert [(e.name, e.actor_id, e.data.get("reason")) for e in entries] == [
            ("presentation_started", m1.me, None), ("presentation_ended", None, "floor_lost")]
    finally:
        for s in sessions:
            await s.close()


async def test_removing_the_presented_document_ends_the_presentation(server):  # noqa: F811
    client, services, participants, tokens = server
    meeting_id = participants[0].meeting_id
    doc = await add_document(services, client.app, meeting_id, pages=2)
    chair, m1 = sessions = [await _join(client, t) for t in tokens[:2]]
    try:
        assert (await chair.request("present", action="start", document_id=doc["id"]))["ok"]
        await eventually(lambda: (shown(m1) or {}).get("document_id") == doc["id"])
        await client.app[DOCUMENTS].service.remove(doc["id"])
        await eventually(lambda: m1.pushed("presentation")[-1]["presentation"] is None)
        entries = await record(services, meeting_id, "presentation_ended")
        assert [(e.actor_id, e.data["reason"]) for e in entries] == [(None, "document_removed")]
    finally:
        for s in sessions:
            await s.close()
