"""The record's entry names are on signed records: the catalogue must keep every one of them,
spelled as recorded, and the domain must record nothing outside it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from gikai.orchestrator.domain.events import QUORUM_DECISIONS, Entry, Event, SpeechEnd
from gikai.orchestrator.domain.ledger import canonical
from gikai.orchestrator.domain.rehearsal import rehearsal_committee
from gikai.orchestrator.domain.rules import SpeechKind, StandingRules
from gikai.orchestrator.domain.sitting import Sitting

# As recorded since the first signed records: never edit a line, only add.
RECORDED = [
    "meeting_opened", "meeting_recessed", "meeting_resumed", "meeting_adjourned", "item_taken_up", "item_decided",
    "floor_requested", "floor_request_withdrawn", "floor_denied", "queue_reordered", "floor_granted",
    "speech_extended", "speech_ended",
    "presentation_started", "presentation_ended", "screen_share_started", "screen_share_ended",
    "audio_mode_changed", "participant_muted", "participant_unmuted", "participant_removed",
    "attendance_started", "attendance_ended", "presence_changed", "quorum_lost", "quorum_restored",
    "recording_switched", "recording_segment", "recording_failed", "recording_interrupted",
    "ballot_opened", "vote_cast", "vote_received", "vote_refused", "ballot_closed",
    "tie_decided_by_chair", "result_published",
    "document_added", "document_removed", "minutes_finalised",
    "minutes_signers_named", "minutes_signed", "amendment_moved", "amendments_arranged",
    "roll_call_started", "roll_call_answered", "identity_confirmed", "roll_call_ended", "motion_moved",
    # remote attendance by the chair's permission
    "remote_attendance_applied", "remote_attendance_permitted", "remote_attendance_refused",
    "remote_application_rejected",
]


def test_every_recorded_name_is_in_the_catalogue_as_spelled():
    assert sorted(e.value for e in Entry) == sorted(RECORDED)
    assert len(set(RECORDED)) == len(RECORDED)
    assert sorted(SpeechEnd) == ["ended_by_chair", "finished", "interrupted", "removed"]


def test_an_entry_is_its_recorded_text_everywhere():
    name = Entry.SITTING_OPENED
    assert name == "meeting_opened" and str(name) == "meeting_opened" and f"{name}" == "meeting_opened"
    assert {"meeting_opened": 1}[name] == 1 and {name: 1}["meeting_opened"] == 1
    assert json.dumps({"name": name}) == '{"name": "meeting_opened"}'
    assert canonical(name) == canonical("meeting_opened")  # the hash chain sees the same bytes
    assert Entry("vote_cast") is Entry.VOTE_CAST
    assert set(Entry) >= QUORUM_DECISIONS


def test_the_sitting_records_only_catalogue_names():
    body, _, meeting, participants, _ = rehearsal_committee(datetime(2026, 3, 10, 1, tzinfo=UTC))
    s = Sitting(meeting, body, StandingRules(), {p.id: p for p in participants})
    now = datetime(2026, 3, 10, 1, tzinfo=UTC)
    chair, member = participants[0].id, participants[2].id
    events: list[Event] = []
    for p in participants[:8]:
        events += s.connected(p.id, now)
    events += s.open(chair, now)
    events += s.request_floor(member, SpeechKind.QUESTION, now)
    events += s.grant(chair, s.queue.requests[0].id, now)
    events += s.recording_event("recording_segment", now, {"key": "k"})
    events += s.recess(chair, now)
    events += s.adjourn(chair, now)
    assert events and all(isinstance(e.name, Entry) for e in events)
    assert [e.name for e in events][-4:] == ["recording_segment", "speech_ended", "meeting_recessed",
                                            "meeting_adjourned"]
    with pytest.raises(ValueError):
        s.recording_event("made_up_by_the_recorder", now, {})
