"""Remote attendance by the chair's permission over the member socket: members apply, the chair
or the clerk decides, and a remote member without permission only watches."""

from __future__ import annotations

from gikai.orchestrator.domain.audit import audit
from tests.signaling.test_sitting_ws import _join, latest
from tests.signaling.test_ws import server  # noqa: F401  (fixture)
from tests.support.waiting import eventually


async def _by_permission(services, meeting_id: str, deadline_hours: int = 0) -> None:
    """The rehearsal committee's rules, changed by the clerk: remote attendance by permission."""
    sitting = await services.sittings.get(meeting_id)
    await services.admin.set_remote_permission(sitting.body.id, True, deadline_hours)
    services.sittings.forget(meeting_id)  # loaded again with the new rules


def _application(view: dict, member_id: str) -> dict:
    return next(a for a in view["remote"]["applications"] if a["member_id"] == member_id)


async def _apply(s, reason: str = "childcare", text: str = "") -> dict:
    return await s.request("command", name="remote_apply", reason=reason, text=text)


async def test_members_apply_the_chair_or_the_clerk_decides_and_the_unpermitted_only_watch(server):  # noqa: F811
    client, services, participants, tokens = server
    meeting_id = participants[0].meeting_id
    await _by_permission(services, meeting_id)
    chair, vice, m1, m2, m3, m4, m5 = [await _join(client, t) for t in tokens[:7]]
    clerk = await _join(client, tokens[12])
    sessions = [chair, vice, m1, m2, m3, m4, m5, clerk]
    try:
        # Members apply before the opening; a second application, a reason not on the list, or
        # 'other' without its text are refused with their codes.
        assert (await _apply(m1))["ok"]
        twice = await _apply(m1, "illness")
        assert twice["code"] == "remote_already_applied" and twice["message"]["ja"] and twice["message"]["en"]
        assert (await _apply(m2, "other"))["code"] == "remote_reason_text_required"
        assert (await _apply(m2, "holiday"))["code"] == "remote_reason_unknown"
        assert (await _apply(m2, "other", "家族の通院の付き添い"))["ok"]
        assert (await _apply(m3, "illness"))["ok"]
        assert (await clerk.request("command", name="remote_apply", reason="illness", text=""))["code"] == "not_a_member"
        await eventually(lambda: len(latest(chair).get("remote", {}).get("applications", [])) == 3)
        view = latest(chair)
        assert view["remote"]["requires_permission"] is True and view["remote"]["open_for_applications"] is True
        assert _application(view, m2.me)["reason_text"] == "家族の通院の付き添い"
        assert {a["state"] for a in view["remote"]["applications"]} == {"pending"}

        # A member who is not the chair cannot decide; the chair and the clerk (for the chair) can.
        first = _application(view, m1.me)["id"]
        assert (await m4.request("command", name="remote_permit", application_id=first))["code"] == "not_chair_or_clerk"
        assert (await chair.request("command", name="remote_permit", application_id=first))["ok"]
        second = _application(view, m2.me)["id"]
        assert (await clerk.request("command", name="remote_permit", application_id=second))["ok"]
        third = _application(view, m3.me)["id"]
        no_reason = await clerk.request("command", name="remote_refuse", application_id=third, reason=" ")
        assert no_reason["code"] == "remote_refusal_reason_required"
        assert (await chair.request("command", name="remote_refuse", application_id=third,
                                    reason="議場での出席をお願いします"))["ok"]
        assert (await chair.request("command", name="remote_permit",
                                    application_id=third))["code"] == "remote_not_pending"
        await eventually(lambda: _application(latest(m3), m3.me)["state"] == "refused")
        seen = latest(m3)
        assert _application(seen, m1.me)["state"] == "permitted"
        assert _application(seen, m2.me)["on_behalf_of_chair"] is True
        assert _application(seen, m3.me)["refusal_reason"] == "議場での出席をお願いします"

        # The chair and vice-chair sit in the chamber. Remote: m1, m2 permitted (counted); m3
        # refused, m4 and m5 never applied: they watch, not counted, with the reason given.
        for pid in (chair.me, vice.me):
            assert (await clerk.request("command", name="check_in", participant_id=pid))["ok"]
        await eventually(lambda: len(latest(chair)["quorum"]["counted"]) == 4)
        quorum = latest(chair)["quorum"]
        assert sorted(quorum["counted"]) == sorted([chair.me, vice.me, m1.me, m2.me])
        why = {n["id"]: n["reason"] for n in quorum["not_counted"]}
        assert why[m3.me] == why[m4.me] == why[m5.me] == "remote_not_permitted"
        assert sorted(latest(chair)["remote"]["watch_only"]) == sorted([m3.me, m4.me, m5.me])
        assert (await chair.request("command", name="open"))["code"] == "quorum_not_met"
        for pid in (m4.me, m5.me):
            assert (await clerk.request("command", name="check_in", participant_id=pid))["ok"]
        assert (await chair.request("command", name="open"))["ok"]
        await eventually(lambda: latest(m3).get("state") == "open")

        # After the opening: no more applications (on the record), no floor and no vote without permission.
        late = await _apply(m5)
        assert late["code"] == "remote_deadline_passed"
        floor = await m3.request("command", name="request_floor", kind="question")
        assert floor["code"] == "remote_not_permitted" and "傍聴のみ" in floor["message"]["ja"]
        assert (await m1.request("command", name="request_floor", kind="question"))["ok"]
        opened = await chair.request("ballot", action="open", motion="議案第1号", kind="named",
                                     majority="simple", abstain_allowed=False)
        assert opened["ok"], opened
        ballot = opened["data"]["ballot"]
        assert m1.me in ballot["entitled"] and m2.me in ballot["entitled"] and m3.me not in ballot["entitled"]
        vote = await m3.request("vote_options", ballot_id=ballot["id"], choice="yes")
        assert vote["code"] == "remote_not_permitted"

        record = await services.sittings.export_record(meeting_id)
        names = [e["name"] for e in record["entries"]]
        for expected in ("remote_attendance_applied", "remote_attendance_permitted", "remote_attendance_refused",
                         "remote_application_rejected"):
            assert expected in names, expected
        rejected = [e for e in record["entries"] if e["name"] == "remote_application_rejected"]
        assert [e["data"] for e in rejected] == [{"member_id": m1.me, "code": "remote_already_applied"},
                                                 {"member_id": m5.me, "code": "remote_deadline_passed"}]
        problem, auditor = audit(record["entries"])
        assert problem is None and auditor.checked_quorum >= 2  # the opening and the ballot
    finally:
        for s in sessions:
            await s.close()


async def test_an_application_past_the_bodys_deadline_is_refused_and_recorded(server):  # noqa: F811
    client, services, participants, tokens = server
    meeting_id = participants[0].meeting_id
    await _by_permission(services, meeting_id, deadline_hours=24)  # the rehearsal starts now: too late
    m1 = await _join(client, tokens[2])
    try:
        refused = await _apply(m1)
        assert refused["code"] == "remote_deadline_passed" and refused["message"]["en"]
        entries = [(e.name, e.data) for e in await services.sittings.events(meeting_id)]
        assert ("remote_application_rejected", {"member_id": m1.me, "code": "remote_deadline_passed"}) in entries
        assert "remote_attendance_applied" not in [name for name, _ in entries]
    finally:
        await m1.close()


async def test_without_the_rule_an_application_is_refused_and_remote_members_count(server):  # noqa: F811
    client, _, _, tokens = server
    members = [await _join(client, t) for t in tokens[:6]]
    try:
        refused = await _apply(members[2])
        assert refused["code"] == "remote_permission_not_required"
        await eventually(lambda: len(latest(members[0]).get("quorum", {}).get("counted", [])) == 6)
        assert latest(members[0])["remote"] == {**latest(members[0])["remote"], "requires_permission": False,
                                                "watch_only": []}
        assert (await members[0].request("command", name="open"))["ok"]
    finally:
        for s in members:
            await s.close()
