"""Votes over the socket: passkey-confirmed casting, refusals on the record, results, receipts."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives.asymmetric import ec

from gikai.orchestrator.domain.ledger import entry_hash
from gikai.orchestrator.persistence.rows import NamedVoteRow, SecretVoterRow
from gikai.signaling.cli.admin import verify_file
from tests.signaling.test_sitting_ws import _join, latest
from tests.signaling.test_ws import Session, server  # noqa: F401  (fixture)
from tests.support.authenticator import SoftAuthenticator
from tests.support.waiting import eventually


async def enrol(client, services, participant) -> SoftAuthenticator:
    """The member registers a passkey with an enrolment link, as from the clerk's admin page."""
    token = await services.accounts.issue_enrolment(participant.member_id)
    key = SoftAuthenticator(f"http://{client.server.host}:{client.server.port}", client.server.host)
    opts = await (await client.post("/api/enrol/options", json={"token": token})).json()
    done = await client.post("/api/enrol/verify", json={"token": token, "ceremony": opts["ceremony"],
                                                        "credential": key.register(opts["options"])})
    assert done.status == 200, await done.text()
    client.session.cookie_jar.clear()
    return key


async def vote(s: Session, authenticator: SoftAuthenticator, ballot_id: str, choice: str, **tamper) -> dict:
    options = await s.request("vote_options", ballot_id=ballot_id, choice=choice)
    if not options.get("ok"):
        return options
    data = options["data"]
    assertion = authenticator.assert_(data["publicKey"], **tamper)
    return await s.request("vote", ballot_id=ballot_id, choice=choice,
                           ceremony=data["ceremony"], credential=assertion)


def ballot_of(s: Session) -> dict:
    pushes = s.pushed("ballot")
    return pushes[-1]["ballot"] if pushes else {}


async def test_a_named_ballot_from_opening_to_a_verified_record(server, tmp_path):  # noqa: F811
    client, services, participants, tokens = server
    keys = {i: await enrol(client, services, participants[i]) for i in (1, 2, 3, 4)}
    chair, vice, m1, m2, m3, m4 = sessions = [await _join(client, t) for t in tokens[:6]]
    try:
        assert (await chair.request("command", name="open"))["ok"]
        refused = await m1.request("ballot", action="open", motion="議案第1号", kind="named",
                                   majority="simple", abstain_allowed=False)
        assert refused["code"] == "not_chair"
        bad = await chair.request("ballot", action="open", motion="議案第1号", kind="loud",
                                  majority="simple", abstain_allowed=False)
        assert bad["code"] == "bad_message"
        opened = await chair.request("ballot", action="open", motion="議案第1号を原案のとおり可決する",
                                     kind="named", majority="simple", abstain_allowed=False)
        assert opened["ok"], opened
        ballot = opened["data"]["ballot"]
        bid = ballot["id"]
        assert chair.me not in ballot["entitled"] and len(ballot["entitled"]) == 5
        again = await chair.request("ballot", action="open", motion="二つ目", kind="named",
                                    majority="simple", abstain_allowed=False)
        assert again["code"] == "ballot_already_open"
        await eventually(lambda: ballot_of(m4).get("id") == bid)

        # A confirmed vote: a receipt, and everyone sees that (not what) the vice-chair voted.
        cast = await vote(vice, keys[1], bid, "yes")
        assert cast["ok"], cast
        receipt = cast["data"]["receipt"]
        await eventually(lambda: ballot_of(m4).get("voted") == [vice.me])
        assert ballot_of(m4)["tally"] is None and "votes" in ballot_of(m4) and ballot_of(m4)["votes"] is None

        # A forged signature, a replayed ceremony, another member's passkey, a choice the passkey
        # did not sign, a member without a passkey, and the chair (not entitled): all refused.
        assert (await vote(m1, keys[2], bid, "no", key=ec.generate_private_key(ec.SECP256R1())))["code"] == "passkey_failed"
        options = (await m1.request("vote_options", ballot_id=bid, choice="no"))["data"]
        signed = keys[2].assert_(options["publicKey"])
        switched = await m1.request("vote", ballot_id=bid, choice="yes", ceremony=options["ceremony"], credential=signed)
        assert switched["code"] == "passkey_failed", "the passkey signed 'no', not 'yes'"
        replayed = await m1.request("vote", ballot_id=bid, choice="no", ceremony=options["ceremony"], credential=signed)
        assert replayed["code"] == "passkey_failed", "a ceremony is used once"
        assert (await vote(m2, keys[2], bid, "no"))["code"] == "passkey_failed", "m1's passkey is not m2's"
        assert (await vote(m1, keys[2], bid, "no", verified=False))["code"] == "passkey_failed"
        assert (await vote(m4, keys[1], bid, "no"))["code"] == "no_passkey"
        assert (await chair.request("vote_options", ballot_id=bid, choice="yes"))["code"] == "not_entitled"
        assert (await m1.request("vote_options", ballot_id=bid, choice="abstain"))["code"] == "choice_not_allowed"
        assert (await m1.request("vote", ballot_id=bid, choice="no", ceremony="x", credential=[]))["code"] == "bad_message"

        assert (await vote(m1, keys[2], bid, "no"))["ok"]
        assert (await vote(m2, keys[3], bid, "yes"))["ok"]
        # Voting twice: the same choice again returns the same receipt; another choice is refused.
        first = await vote(m3, keys[4], bid, "no")
        repeat = await vote(m3, keys[4], bid, "no")
        assert repeat["data"]["receipt"]["hash"] == first["data"]["receipt"]["hash"]
        assert repeat["data"]["receipt"]["repeated"] is True
        assert (await vote(m3, keys[4], bid, "yes"))["code"] == "already_voted"

        # Closing: the chair sees the tally (2-2: tied, so the chair decides), members do not yet.
        assert (await m1.request("ballot", action="close", ballot_id=bid))["code"] == "not_chair"
        closed = await chair.request("ballot", action="close", ballot_id=bid)
        assert closed["data"]["ballot"]["tally"]["outcome"] == "tied"
        await eventually(lambda: ballot_of(m1).get("state") == "closed")
        assert ballot_of(m1)["tally"] is None and ballot_of(chair)["tally"]["yes"] == 2
        assert (await vote(m4, keys[1], bid, "yes"))["code"] in ("ballot_not_open", "no_passkey")
        assert (await chair.request("ballot", action="publish", ballot_id=bid))["code"] == "ballot_not_open"
        assert (await chair.request("ballot", action="decide_tie", ballot_id=bid, choice="yes"))["ok"]
        assert (await chair.request("ballot", action="publish", ballot_id=bid))["ok"]
        await eventually(lambda: ballot_of(m4).get("state") == "published")
        result = ballot_of(m4)
        assert result["tally"]["outcome"] == "adopted" and result["tally"]["decided_by_chair"]
        assert result["votes"] == {vice.me: "yes", m1.me: "no", m2.me: "yes", m3.me: "no"}

        # Evidence: the passkey's assertion over the choice is kept with a named vote.
        async with services.db.session() as session:
            row = await session.get(NamedVoteRow, (bid, m1.me))
            assert row.assertion["id"] and row.receipt
        meeting_id = latest(chair)["meeting_id"]
        names = [e.name for e in await services.sittings.events(meeting_id)]
        assert names.count("vote_cast") == 4 and names.count("vote_refused") >= 5

        # The export verifies, the receipts are found, and a record re-signed with the server's
        # own key but with a tally that does not follow from the votes is caught.
        record = await services.sittings.export_record(meeting_id)
        out = tmp_path / "record.json"
        out.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        assert verify_file(out, None, [receipt["hash"], first["data"]["receipt"]["hash"]]) == 0
        assert verify_file(out, None, ["0" * 64]) == 1
        lying = _resign(record, services, lambda e: e["name"] == "ballot_closed",
                        lambda d: d.update(yes=3, no=1, outcome="adopted"))
        out.write_text(json.dumps(lying, ensure_ascii=False), encoding="utf-8")
        assert verify_file(out, None) == 1
    finally:
        for s in sessions:
            await s.close()


def _resign(record: dict, services, which, change) -> dict:
    """An edit made by someone holding the server's key: chain and signatures check out."""
    copy = json.loads(json.dumps(record))
    prev = copy["entries"][0]["prev_hash"]
    for e in copy["entries"]:
        if which(e):
            change(e["data"])
        e["prev_hash"] = prev
        e["hash"] = entry_hash(copy["meeting_id"], e["seq"], e["at"], e["name"], e["actor_id"],
                               e["agenda_item_id"], e["data"], prev)
        e["signature"] = services.sittings.signer.sign(e["hash"])
        prev = e["hash"]
    return copy


async def test_a_secret_ballot_keeps_presence_evidence_but_not_the_choice(server, tmp_path):  # noqa: F811
    client, services, participants, tokens = server
    keys = {i: await enrol(client, services, participants[i]) for i in (1, 2)}
    sessions = [await _join(client, t) for t in tokens[:6]]
    chair, vice, m1 = sessions[:3]
    try:
        assert (await chair.request("command", name="open"))["ok"]
        bid = (await chair.request("ballot", action="open", motion="選挙", kind="secret",
                                   majority="simple", abstain_allowed=True))["data"]["ballot"]["id"]
        assert (await vote(vice, keys[1], bid, "abstain"))["ok"]
        assert (await vote(m1, keys[2], bid, "yes"))["ok"]
        async with services.db.session() as session:
            row = await session.get(SecretVoterRow, (bid, m1.me))
            assert row is not None and not hasattr(row, "choice") and not hasattr(row, "assertion")
        meeting_id = latest(chair)["meeting_id"]
        received = [e for e in await services.sittings.events(meeting_id) if e.name == "vote_received"]
        assert len(received) == 2 and all(set(e.data) == {"ballot_id", "evidence"} for e in received)
        assert (await chair.request("ballot", action="close", ballot_id=bid))["data"]["ballot"]["tally"]["yes"] == 1
        assert (await chair.request("ballot", action="publish", ballot_id=bid))["ok"]
        await eventually(lambda: ballot_of(m1).get("state") == "published")
        assert ballot_of(m1)["votes"] is None and ballot_of(m1)["tally"]["abstain"] == 1
        out = tmp_path / "record.json"
        out.write_text(json.dumps(await services.sittings.export_record(meeting_id)), encoding="utf-8")
        assert verify_file(out, None) == 0
    finally:
        for s in sessions:
            await s.close()
