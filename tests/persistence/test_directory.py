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
