"""Recomputing quorum and tallies from a record alone (orchestrator/domain/audit.py)."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

import pytest

from gikai.orchestrator.domain.audit import audit
from gikai.orchestrator.domain.model import Role
from gikai.orchestrator.domain.rehearsal import rehearsal_committee
from gikai.orchestrator.domain.rules import StandingRules
from gikai.orchestrator.domain.sitting import Sitting

T0 = datetime(2026, 3, 10, 10, 0)


def rehearsal_sitting() -> Sitting:
    body, _, meeting, people, _ = rehearsal_committee(T0)
    return Sitting(meeting, body, StandingRules(), {p.id: p for p in people})


def _entries(events) -> list[dict]:
    return [{"seq": i, "at": e.at.isoformat(), "name": e.name, "actor_id": e.actor_id,
             "agenda_item_id": e.agenda_item_id, "data": copy.deepcopy(e.data)}
            for i, e in enumerate(events, start=1)]


@pytest.fixture
def record() -> tuple[list[dict], dict[str, list[str]]]:
    """A rehearsal sitting: seven members connect, the chair opens, a named ballot 3-1, and a
    secret one 2-1; every entry as the service writes it."""
    sitting = rehearsal_sitting()
    roles: dict[str, list[str]] = {}
    for p in sitting.participants.values():
        roles.setdefault(p.role.value, []).append(p.id)
    chair, vice, members = roles["chair"][0], roles["vice_chair"][0], roles["member"]
    now = T0
    events = []
    for pid in [chair, vice, *members[:5]]:
        now += timedelta(seconds=1)
        events += sitting.connected(pid, now)
    events += sitting.open(chair, now)
    entitled = sorted([vice, *members[:5]])
    quorum = sitting.quorum_record()

    def ballot(bid, kind, votes, outcome, counts):
        out = [_e("ballot_opened", chair, ballot_id=bid, kind=kind, majority="simple", abstain_allowed=False,
                  fixed_membership=12, entitled=entitled, motion="議案", quorum=quorum)]
        for voter, choice in votes:
            if kind == "named":
                out.append(_e("vote_cast", voter, ballot_id=bid, choice=choice, evidence=None, passkey="k"))
            else:
                out.append(_e("vote_received", voter, ballot_id=bid, evidence=None))
        tally = dict(counts, abstain=0, entitled=len(entitled), outcome=outcome, decided_by_chair=False)
        out.append(_e("ballot_closed", chair, ballot_id=bid, quorum=quorum, **tally))
        published = dict(tally, ballot_id=bid)
        if kind == "named":
            published["votes"] = dict(sorted(votes))
        out.append(_e("result_published", chair, **published))
        return out

    entries = _entries(events)
    entries += ballot("b1", "named", [(vice, "yes"), (members[0], "yes"), (members[1], "no"), (members[2], "yes")],
                      "adopted", {"yes": 3, "no": 1})
    entries += ballot("b2", "secret", [(vice, "yes"), (members[0], "no"), (members[1], "yes")],
                      "adopted", {"yes": 2, "no": 1})
    for i, e in enumerate(entries, start=1):
        e["seq"] = i
    return entries, roles


def _e(name, actor, **data) -> dict:
    return {"seq": 0, "at": T0.isoformat(), "name": name, "actor_id": actor, "agenda_item_id": None, "data": data}


def _find(entries, name, nth=0) -> dict:
    return [e for e in entries if e["name"] == name][nth]


def test_a_consistent_record_passes_and_says_what_was_recomputed(record):
    entries, _ = record
    problem, auditor = audit(entries)
    assert problem is None
    assert auditor.checked_ballots == 2 and auditor.checked_quorum == 5  # opening, 2 x (open, close)


def test_an_opening_that_claims_quorum_the_attendance_does_not_give_is_named(record):
    entries, roles = record
    opened = _find(entries, "meeting_opened")
    opened["data"]["quorum"]["counted"].append(roles["member"][9])  # someone who never connected
    problem, _ = audit(entries)
    assert problem is not None and problem.seq == opened["seq"] and "attendance" in problem.reason


def test_an_opening_without_quorum_is_named_even_when_it_says_so_itself(record):
    entries, _roles = record
    # Remove two arrivals: five present, six needed; the opening's own numbers agree with that.
    arrivals = [e for e in entries if e["name"] == "attendance_started"][-2:]
    for e in arrivals:
        entries.remove(e)
    opened = _find(entries, "meeting_opened")
    gone = {e["data"]["participant_id"] for e in arrivals}
    opened["data"]["quorum"]["counted"] = [p for p in opened["data"]["quorum"]["counted"] if p not in gone]
    problem, _ = audit(entries)
    assert problem is not None and problem.seq == opened["seq"] and "without quorum" in problem.reason


@pytest.mark.parametrize("tamper, expected", [
    (lambda es, r: _find(es, "ballot_closed")["data"].update(yes=4, no=0), "does not match the votes"),
    (lambda es, r: _find(es, "ballot_closed")["data"].update(outcome="rejected"), "does not follow"),
    (lambda es, r: _find(es, "vote_cast", 1)["data"].update(choice="no"), "does not match the votes"),
    (lambda es, r: _find(es, "vote_cast", 3).update(actor_id=r["chair"][0]), "not entitled"),
    (lambda es, r: _find(es, "vote_cast", 3).update(actor_id=_find(es, "vote_cast", 0)["actor_id"]), "second vote"),
    (lambda es, r: _find(es, "ballot_opened")["data"]["entitled"].append(r["member"][9]), "who may vote"),
    (lambda es, r: _find(es, "vote_received", 0)["data"].update(choice="yes"), "with its choice"),
    (lambda es, r: _find(es, "ballot_closed", 1)["data"].update(yes=3), "were received"),
    (lambda es, r: _find(es, "result_published")["data"]["votes"].popitem(), "list of votes"),
])
def test_each_inconsistent_tally_or_vote_is_named(record, tamper, expected):
    entries, roles = record
    tamper(entries, roles)
    problem, _ = audit(entries)
    assert problem is not None and expected in problem.reason, problem


def test_a_vote_after_closing_is_named(record):
    entries, _ = record
    vote = _find(entries, "vote_cast", 0)
    entries.remove(vote)
    closed = _find(entries, "ballot_closed")
    entries.insert(entries.index(closed) + 1, vote)
    problem, _ = audit(entries)
    assert problem is not None and "does not match the votes" in problem.reason  # the tally is short first


def test_the_chair_is_not_entitled_in_a_simple_majority_ballot(record):
    entries, roles = record
    assert roles["chair"][0] not in _find(entries, "ballot_opened")["data"]["entitled"]
    assert all(p.role is not Role.CHAIR for p in rehearsal_sitting().participants.values()
               if p.id in _find(entries, "ballot_opened")["data"]["entitled"])
