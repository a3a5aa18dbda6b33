"""議員別賛否 over HTTP: a sitting's named ballots, voted with passkeys over the socket, downloaded as
CSV in UTF-8 (with its BOM) and in Shift_JIS, parsed back, and as a PDF with every name; while the
sitting is live only the clerk may read it, and only published results."""

from __future__ import annotations

import codecs
import csv
import io
import re
from urllib.parse import unquote

from tests.signaling.test_api import login_clerk
from tests.signaling.test_sitting_ws import _join, latest
from tests.signaling.test_voting_ws import ballot_of, enrol, vote
from tests.signaling.test_ws import server  # noqa: F401  (fixture)
from tests.support.waiting import eventually
from tests.unit.test_minutes import pdf_strings


def rows_of(body: bytes, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode(encoding), newline="")))


async def take(chair, motion: str, votes: dict, publish: bool) -> str:
    opened = await chair.request("ballot", action="open", motion=motion, kind="named", majority="simple",
                                 abstain_allowed=False)
    assert opened["ok"], opened
    bid = opened["data"]["ballot"]["id"]
    for session, key, choice in votes.values():
        await eventually(lambda s=session: ballot_of(s).get("id") == bid)
        assert (await vote(session, key, bid, choice))["ok"]
    assert (await chair.request("ballot", action="close", ballot_id=bid))["ok"]
    if publish:
        assert (await chair.request("ballot", action="publish", ballot_id=bid))["ok"]
    return bid


async def test_votes_by_member_download_as_csv_in_both_encodings_and_as_pdf(server):  # noqa: F811
    client, services, participants, tokens = server
    keys = {i: await enrol(client, services, participants[i]) for i in (1, 2, 3)}
    chair, vice, m1, m2, m3, _m4 = sessions = [await _join(client, t) for t in tokens[:6]]
    try:
        assert (await chair.request("command", name="open"))["ok"]
        item = latest(chair)["agenda"][0]
        assert (await chair.request("command", name="take_up", item_id=item["id"]))["ok"]
        first = await take(chair, "原案のとおり可決すべきものと決する",
                           {"v": (vice, keys[1], "yes"), "a": (m1, keys[2], "no"), "b": (m2, keys[3], "yes")}, True)
        second = await take(chair, "修正案を可決すべきものと決する",
                            {"a": (m1, keys[2], "yes")}, False)
        meeting_id = latest(chair)["meeting_id"]
        url = f"/api/archive/{meeting_id}/votes"

        # Live: not public; the clerk sees the published ballot only.
        refused = await client.get(f"{url}.csv")
        assert refused.status == 403
        username, password = await services.accounts.ensure_clerk()
        await login_clerk(client, username, password)
        live = rows_of(await (await client.get(f"{url}.csv")).read(), "utf-8-sig")
        assert len(live[0]) == 4 and "修正案" not in live[0][3] and item["title"] in live[0][3]
        gone = await client.get(f"{url}.csv", params={"ballot": second})
        assert gone.status == 404, "an unpublished result is not shown while the sitting is live"
        client.session.cookie_jar.clear()

        assert (await chair.request("command", name="adjourn"))["ok"]

        # Adjourned: anyone; UTF-8 with its BOM.
        got = await client.get(f"{url}.csv")
        assert got.status == 200 and got.headers["Content-Type"] == "text/csv; charset=utf-8"
        body = await got.read()
        assert body.startswith(codecs.BOM_UTF8)
        rows = rows_of(body, "utf-8-sig")
        assert rows[0][:3] == ["議席", "氏名", "よみ"] and len(rows[0]) == 5
        by_name = {r[1]: r[3:] for r in rows[1:13]}
        names = {p.id: p.name for p in participants}
        assert by_name[names[vice.me]] == ["賛成", "未投票"], "the vice-chair did not vote on the amendment"
        assert by_name[names[m1.me]] == ["反対", "賛成"]
        assert by_name[names[m2.me]] == ["賛成", "未投票"]
        assert by_name[names[m3.me]] == ["未投票", "未投票"], "present and entitled, no passkey: did not vote"
        assert by_name[names[chair.me]] == ["議長", "議長"]
        assert by_name[names[participants[11].id]] == ["欠席", "欠席"], "never came"
        assert rows[-4][1:] == ["賛成", "", "2", "1"] and rows[-1][1:] == ["結果", "", "可決", "可決（未公表）"]
        disposition = got.headers["Content-Disposition"]
        assert disposition.startswith(f'attachment; filename="votes-{meeting_id}.csv"; filename*=UTF-8\'\'')
        assert unquote(disposition.split("''", 1)[1]).startswith("議員別賛否_令和")

        # Shift_JIS: the same table.
        sjis = await client.get(f"{url}.csv", params={"encoding": "shift_jis"})
        assert sjis.headers["Content-Type"] == "text/csv; charset=Shift_JIS"
        raw = await sjis.read()
        assert not raw.startswith(codecs.BOM_UTF8)
        assert rows_of(raw, "shift_jis") == rows
        assert (await client.get(f"{url}.csv", params={"encoding": "ebcdic"})).status == 400

        # One ballot; and the PDF.
        one = rows_of(await (await client.get(f"{url}.csv", params={"ballot": first})).read(), "utf-8-sig")
        assert len(one[0]) == 4 and one[-1][3] == "可決"
        assert (await client.get(f"{url}.csv", params={"ballot": "0" * 32})).status == 404
        assert (await client.get(f"{url}.csv", params={"ballot": "../x"})).status == 404
        pdf = await client.get(f"{url}.pdf")
        assert pdf.status == 200 and pdf.headers["Content-Type"] == "application/pdf"
        data = await pdf.read()
        assert data.startswith(b"%PDF")
        japanese, _ = pdf_strings(data)
        assert all(name in japanese for name in names.values() if name in by_name)
        assert re.search(r'filename="votes-[0-9a-f]{32}-[0-9a-f]{8}\.pdf"',
                         (await client.get(f"{url}.pdf", params={"ballot": first})).headers["Content-Disposition"])
        assert (await client.get(f"{url}.xlsx")).status == 404
    finally:
        for s in sessions:
            await s.close()
