"""Looking up meetings and their participants; setting up the rehearsal committee."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from gikai.orchestrator.domain.errors import NotFound
from gikai.orchestrator.domain.model import Body, Meeting, Participant, Role
from gikai.orchestrator.domain.rehearsal import rehearsal_committee, rehearsal_plenary
from gikai.orchestrator.service.unit_of_work import UnitOfWorkFactory


@dataclass(frozen=True)
class Seat:
    """Who a participant is, in which meeting of which body."""

    participant: Participant
    meeting: Meeting
    body: Body


class Directory:
    def __init__(self, units: UnitOfWorkFactory) -> None:
        self._units = units

    async def ensure_rehearsal(self, now: datetime | None = None) -> tuple[Meeting, list[Participant], bool] | None:
        """Create the rehearsal committee and plenary when the database has no meeting at all.

        Returns the rehearsal committee's meeting (the first rehearsal sitting), its participants,
        and whether they were just created; None when the database holds real meetings and no
        rehearsal. ``rehearsals`` lists every rehearsal sitting.
        """
        async with self._units() as uow:
            repo = uow.directory
            created = False
            if await repo.count_meetings() == 0:
                at = now or datetime.now(UTC).replace(tzinfo=None, microsecond=0)
                for made in (rehearsal_committee(at), rehearsal_plenary(at)):
                    await repo.add_committee(*made)
                await uow.commit()
                created = True
            meetings = await repo.rehearsal_meetings()
            if not meetings:
                return None
            meeting = meetings[0]
            return meeting, await repo.participants(meeting.id), created

    async def rehearsals(self) -> list[tuple[Meeting, list[Participant]]]:
        """Every rehearsal sitting (the committee first, then the plenary) with its participants."""
        async with self._units() as uow:
            return [(m, await uow.directory.participants(m.id)) for m in await uow.directory.rehearsal_meetings()]

    async def seat(self, participant_id: str) -> Seat:
        async with self._units() as uow:
            repo = uow.directory
            participant = await repo.participant(participant_id)
            if participant is None:
                raise NotFound(f"participant {participant_id}")
            meeting = await repo.meeting(participant.meeting_id)
            body = await repo.body(meeting.body_id) if meeting else None
            if meeting is None or body is None:
                raise NotFound(f"meeting of participant {participant_id}")
            return Seat(participant, meeting, body)

    async def seat_for_account(self, meeting_id: str, member_id: str | None, clerk: bool) -> Seat:
        """The participant a logged-in member (or the clerk) is in ``meeting_id``."""
        async with self._units() as uow:
            repo = uow.directory
            meeting = await repo.meeting(meeting_id)
            body = await repo.body(meeting.body_id) if meeting else None
            if meeting is None or body is None:
                raise NotFound(f"meeting {meeting_id}")
            for p in await repo.participants(meeting_id):
                if (member_id is not None and p.member_id == member_id) or (clerk and p.role is Role.CLERK):
                    return Seat(p, meeting, body)
            raise NotFound("not a participant of this meeting")

    async def participants(self, meeting_id: str) -> list[Participant]:
        async with self._units() as uow:
            return await uow.directory.participants(meeting_id)
