"""What clients see of a sitting: one JSON snapshot, the same for everyone in it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gikai.orchestrator.domain.amendments import item_result, next_vote, target_text
from gikai.orchestrator.domain.model import MeetingState, Participant, Role
from gikai.orchestrator.domain.presenting import Presentation
from gikai.orchestrator.domain.remote_permission import application_deadline
from gikai.orchestrator.domain.sitting import Event, Sitting
from gikai.orchestrator.domain.voting import Ballot, BallotKind, BallotState


def epoch_ms(at: datetime) -> int:
    return int(at.replace(tzinfo=UTC).timestamp() * 1000)


def sitting_view(s: Sitting, now: datetime) -> dict[str, Any]:
    quorum = s.quorum()
    floor = None
    if s.floor is not None:
        f = s.floor
        floor = {
            "holder_id": f.holder_id, "kind": f.kind.value, "request_id": f.request_id,
            "started_at": epoch_ms(f.started_at), "ends_at": epoch_ms(f.ends_at),
            "limit_seconds": f.limit_seconds + f.extended_seconds,
            "warning": f.in_warning(now, s.rules), "overrun": f.overrun(now),
        }
    current = s.agenda.current
    return {
        "meeting_id": s.meeting.id,
        "state": s.meeting.state.value,
        "title": s.meeting.title,
        "body": s.body.name,
        "plenary": s.plenary,
        "audio_mode": s.audio_mode.value,
        "acting_chair_id": s.acting_chair_id(),
        "agenda": [
            {"id": i.id, "position": i.position, "title": i.title, "kind": i.kind.value,
             "state": i.state.value, "result": i.result}
            for i in s.agenda.items
        ],
        "current_item_id": current.id if current else None,
        "queue": {
            "version": s.queue.version,
            "requests": [
                {"id": r.id, "participant_id": r.participant_id, "kind": r.kind.value,
                 "requested_at": epoch_ms(r.requested_at)}
                for r in s.queue.requests
            ],
        },
        "floor": floor,
        "warning_seconds": s.rules.warning_seconds,
        # the kinds of speech a member attending remotely may ask for (the body's rules)
        "remote_may_speak": sorted(k.value for k in s.rules.remote_may_speak(s.plenary)),
        "quorum": {
            "met": quorum.met, "needed": quorum.needed, "fixed": quorum.fixed_membership,
            "counted": list(quorum.counted),
            "not_counted": [{"id": pid, "reason": why} for pid, why in quorum.not_counted],
        },
        "attendance": {pid: mode.value for pid, mode in s.attendance.present().items()},
        "presence_by_camera": s.presence_by_camera,
        "presence": {pid: {"state": t.state.value, "faces": t.faces, "voice": t.voice}
                     for pid, t in s.presence.items()},
        "muted": sorted(s.muted),
        "removed": sorted(s.removed),
        "audible": sorted(s.audible()),
        "recording": s.recording(),
        "amendments": amendments_view(s),
        "motions": [{"id": m.id, "kind": m.kind.value, "mover_id": m.mover_id, "supporters": list(m.supporters),
                     "outcome": s.motion_outcomes[m.id].value if m.id in s.motion_outcomes else None}
                    for m in sorted(s.motions.values(), key=lambda m: m.moved_at)],
        "roll_call": None if s.roll_call is None else {
            "order": list(s.roll_call.order), "current": s.roll_call.current, "answered": sorted(s.roll_call.answered),
            "confirmed": dict(s.roll_call.confirmed), "ended": s.roll_call.ended},
        "minutes_signers": {
            "count": s.rules.minutes_signers,
            "named": list(s.minutes_signers.named) if s.minutes_signers else None,
        },
        "remote": remote_view(s),
        "server_now": epoch_ms(now),
    }


def amendments_view(s: Sitting) -> dict[str, Any]:
    """Each item's amendments (修正案) with how each was voted, what is put to the vote next and,
    once decided by its ballots, the item's result; the current item always (its next vote)."""
    current = s.agenda.current
    ids = [*s.item_votes, *([current.id] if current and current.id not in s.item_votes else [])]
    out: dict[str, Any] = {}
    for item_id in ids:
        votes = s.votes_on(item_id)
        outcomes = {t.amendment_id: o.value for t, o in votes.outcomes if t.amendment_id}
        upcoming = next_vote(votes)
        result = item_result(votes)
        out[item_id] = {
            "amendments": [{"id": a.id, "mover_id": a.mover_id, "supporters": list(a.supporters),
                            "original": a.original, "text": a.text, "moved_at": epoch_ms(a.moved_at),
                            "outcome": outcomes.get(a.id)} for a in votes.amendments],
            "next": target_text(upcoming) if upcoming else None,
            "result": result.ja if result else None,
        }
    return out


def remote_view(s: Sitting) -> dict[str, Any]:
    """Remote attendance by permission: whether this sitting requires it, until when one applies,
    the applications and their decisions, and who may only watch now."""
    deadline = application_deadline(s.meeting.scheduled_at, s.rules)
    return {
        "requires_permission": s.rules.remote_requires_permission(s.plenary),
        "deadline": epoch_ms(deadline) if deadline else None,
        "open_for_applications": s.started_at is None and s.meeting.state is MeetingState.SCHEDULED,
        "applications": [
            {"id": a.id, "member_id": a.member_id, "reason": a.reason.value, "reason_text": a.reason_text,
             "state": a.state.value, "refusal_reason": a.refusal_reason, "decided_by": a.decided_by,
             "on_behalf_of_chair": a.on_behalf_of_chair, "applied_at": epoch_ms(a.applied_at)}
            for a in s.remote().applications
        ],
        "watch_only": sorted(pid for pid in s.attendance.present() if s.watch_only(pid)),
    }


def event_view(e: Event) -> dict[str, Any]:
    return {"name": e.name, "at": epoch_ms(e.at), "actor_id": e.actor_id,
            "agenda_item_id": e.agenda_item_id, "data": e.data}


def attendance_view(s: Sitting) -> list[dict[str, Any]]:
    """Every attendance interval of the sitting, oldest first (end is null while open)."""
    return [
        {"participant_id": i.participant_id, "mode": i.mode.value, "start": epoch_ms(i.start),
         "end": epoch_ms(i.end) if i.end else None}
        for i in sorted(s.attendance.intervals, key=lambda i: i.start)
    ]


def ballot_view(b: Ballot, with_tally: bool) -> dict[str, Any]:
    """A ballot for clients: who has voted, never what; the tally once published (or to the chair
    and clerk once closed); a named ballot's votes once published."""
    published = b.state is BallotState.PUBLISHED
    tally = None
    if b.state is not BallotState.OPEN and (published or with_tally):
        t = b.tally()
        tally = {"yes": t.yes, "no": t.no, "abstain": t.abstain, "entitled": t.entitled,
                 "fixed_membership": t.fixed_membership, "outcome": t.outcome.value,
                 "decided_by_chair": t.decided_by_chair}
    return {
        "id": b.id, "motion": b.motion, "kind": b.kind.value, "majority": b.majority.value,
        "abstain_allowed": b.abstain_allowed, "state": b.state.value, "agenda_item_id": b.agenda_item_id,
        "entitled": sorted(b.entitled), "voted": sorted(b.voters),
        "opened_at": epoch_ms(b.opened_at) if b.opened_at else None,
        "closed_at": epoch_ms(b.closed_at) if b.closed_at else None,
        "tally": tally,
        "votes": ({m: c.value for m, c in sorted(b.named.items())}
                  if published and b.kind is BallotKind.NAMED else None),
    }


def latest_view(ballot: Ballot | None, participant: Participant, acting_chair: str | None) -> dict[str, Any] | None:
    """The ballot as this participant may see it (the tally before publication: chair and clerk)."""
    if ballot is None:
        return None
    return ballot_view(ballot, with_tally=participant.id == acting_chair or participant.role is Role.CLERK)


def presentation_view(shown: Presentation | None) -> dict[str, Any] | None:
    if shown is None:
        return None
    return {"document_id": shown.document_id, "title": shown.title, "page": shown.page, "pages": shown.pages,
            "presenter_id": shown.presenter_id,
            "pointer": {"x": shown.pointer[0], "y": shown.pointer[1]} if shown.pointer else None}


def screen_view(sharer: str | None) -> dict[str, Any] | None:
    return {"presenter_id": sharer} if sharer else None
