"""The rehearsal committee and participant look-ups, persisted and read back."""

import pytest

from gikai.orchestrator.domain.errors import NotFound
from gikai.orchestrator.domain.model import Role
from gikai.orchestrator.service.directory import Directory


async def test_an_empty_database_gets_a_rehearsal_committee_once(database):
    directory = Directory(database.unit_of_work)
    meeting, participants, created = await directory.ensure_rehearsal()
    assert created
    again, participants_again, created_again = await directory.ensure_rehearsal()
    assert not created_again and again.id == meeting.id
    assert [p.id for p in participants_again] == [p.id for p in participants]
    roles = [p.role for p in participants]
    assert roles.count(Role.CHAIR) == 1 and roles.count(Role.MEMBER) >= 4
    assert Role.CLERK in roles and Role.PRESENTER in roles
    assert all(p.name and p.reading for p in participants)


async def test_a_participant_is_found_with_their_meeting_and_body(database):
    directory = Directory(database.unit_of_work)
    meeting, participants, _ = await directory.ensure_rehearsal()
    seat = await directory.seat(participants[0].id)
    assert seat.meeting.id == meeting.id and seat.body.rehearsal and seat.body.fixed_membership == 12
    assert seat.participant.name == "山田 太郎" and seat.participant.role is Role.CHAIR
    with pytest.raises(NotFound):
        await directory.seat("0" * 32)


async def test_the_rehearsal_has_a_hybrid_plenary_under_the_2023_rules_after_the_committee(database):
    directory = Directory(database.unit_of_work)
    committee, _, _ = await directory.ensure_rehearsal()
    [(first, _), (plenary, people)] = await directory.rehearsals()
    assert first.id == committee.id and plenary.scheduled_at > committee.scheduled_at
    seat = await directory.seat(people[0].id)
    rules = seat.body.rules
    assert seat.body.kind.value == "plenary" and seat.participant.role is Role.CHAIR
    assert rules.remote_requires_permission(True) and not rules.remote_counts(True) and not rules.remote_votes(True)
    assert [k.value for k in rules.remote_may_speak(True)] == ["general_question"]
    names = {p.name for p in people}
    assert not names & {p.name for p in (await directory.rehearsals())[0][1]}, "two councils, no name in both"
    assert (await directory.ensure_rehearsal())[0].id == committee.id
