"""The sitting's record: every entry name, defined once, and the Event the domain returns.

An entry's name is on the signed record: it is part of each entry's hash and ``gikai verify``
reads it back, so a value below never changes (some still say "meeting", the old word for a
sitting: the member's Python name says "sitting", the value stays as it was recorded). A new
kind of entry gets a new name. Readers (chronicle, audit) skip names they do not know, so an
older reader still reads a newer record.

``Entry`` is a ``StrEnum``: a member is the very string (``Entry.FLOOR_GRANTED == "floor_granted"``,
also as a dict key, in JSON and in f-strings), so entries read back from the database as
plain text compare equal to the catalogue.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Entry(enum.StrEnum):
    """Every kind of entry on a sitting's record; the comment says which module records it."""

    # -- the sitting's lifecycle (sitting_lifecycle.py); each opening records the quorum
    SITTING_OPENED = "meeting_opened"  # also the body's rules and roster ("context")
    SITTING_RECESSED = "meeting_recessed"
    SITTING_RESUMED = "meeting_resumed"
    SITTING_ADJOURNED = "meeting_adjourned"
    # -- the agenda (sitting.py)
    ITEM_TAKEN_UP = "item_taken_up"
    ITEM_DECIDED = "item_decided"
    # -- the speaking order (sitting_floor.py)
    FLOOR_REQUESTED = "floor_requested"
    FLOOR_REQUEST_WITHDRAWN = "floor_request_withdrawn"
    FLOOR_DENIED = "floor_denied"
    QUEUE_REORDERED = "queue_reordered"
    FLOOR_GRANTED = "floor_granted"
    SPEECH_EXTENDED = "speech_extended"
    SPEECH_ENDED = "speech_ended"
    # -- showing a document or a screen to everyone (sitting.py)
    PRESENTATION_STARTED = "presentation_started"
    PRESENTATION_ENDED = "presentation_ended"
    SCREEN_SHARE_STARTED = "screen_share_started"
    SCREEN_SHARE_ENDED = "screen_share_ended"
    # -- microphones and order in the room (sitting_audio.py)
    AUDIO_MODE_CHANGED = "audio_mode_changed"
    PARTICIPANT_MUTED = "participant_muted"
    PARTICIPANT_UNMUTED = "participant_unmuted"
    PARTICIPANT_REMOVED = "participant_removed"
    # -- attendance and presence (sitting_attendance.py); quorum changes (service layer)
    ATTENDANCE_STARTED = "attendance_started"
    ATTENDANCE_ENDED = "attendance_ended"
    PRESENCE_CHANGED = "presence_changed"
    QUORUM_LOST = "quorum_lost"
    QUORUM_RESTORED = "quorum_restored"
    # -- the archive's recordings (sitting_recording.py, reported by the recorder)
    RECORDING_SWITCHED = "recording_switched"
    RECORDING_SEGMENT = "recording_segment"  # one finished file: key, start, end, sha256, path
    RECORDING_FAILED = "recording_failed"
    RECORDING_INTERRUPTED = "recording_interrupted"  # found after a restart: segments recovered
    # -- votes (voting.py's rules, recorded by the ballot service)
    BALLOT_OPENED = "ballot_opened"
    VOTE_CAST = "vote_cast"  # a named vote, with its choice
    VOTE_RECEIVED = "vote_received"  # a secret vote: who voted, not how
    VOTE_REFUSED = "vote_refused"
    BALLOT_CLOSED = "ballot_closed"
    TIE_DECIDED_BY_CHAIR = "tie_decided_by_chair"
    RESULT_PUBLISHED = "result_published"
    # -- agenda documents (document service)
    DOCUMENT_ADDED = "document_added"
    DOCUMENT_REMOVED = "document_removed"
    # -- the roll call of remote members with identity confirmation (sitting_rollcall.py)
    ROLL_CALL_STARTED = "roll_call_started"
    ROLL_CALL_ANSWERED = "roll_call_answered"
    IDENTITY_CONFIRMED = "identity_confirmed"  # with the member's presence at that moment
    ROLL_CALL_ENDED = "roll_call_ended"
    # -- amendments (修正案) to an agenda item and the order they are voted in (sitting_amendments.py);
    # a ballot on one of them carries its ``target`` in ``ballot_opened``; once the rules' last vote
    # is published the item's result follows (``item_decided`` with ``by_ballots``)
    AMENDMENT_MOVED = "amendment_moved"
    AMENDMENTS_ARRANGED = "amendments_arranged"
    MOTION_MOVED = "motion_moved"  # 動議 (休憩, 閉議, 延会); a ballot on it carries target motion:<id>
    # -- the minutes (service/transcripts.py): the clerk finalised the speeches' texts; the entry
    # carries the sha256 of their canonical form (domain/transcript.py ``texts_digest``)
    MINUTES_FINALISED = "minutes_finalised"
    # -- the signed minutes (地方自治法 123条): the chair names the members who sign (sitting_minutes.py);
    # after finalising, the presiding chair and those members sign its sha256 with their passkey
    # (service/minutes_signing.py; the assertion and the public key are on the entry)
    MINUTES_SIGNERS_NAMED = "minutes_signers_named"
    MINUTES_SIGNED = "minutes_signed"
    # -- remote attendance by the chair's permission (remote_permission.py, sitting_remote.py):
    # a member's application, the chair's (or the clerk's, on the chair's behalf) decision, and
    # an application the rules refused (past the deadline, a second one: ``code`` says which)
    REMOTE_ATTENDANCE_APPLIED = "remote_attendance_applied"
    REMOTE_ATTENDANCE_PERMITTED = "remote_attendance_permitted"
    REMOTE_ATTENDANCE_REFUSED = "remote_attendance_refused"
    REMOTE_APPLICATION_REJECTED = "remote_application_rejected"


class SpeechEnd(enum.StrEnum):
    """Why a speech ended: the ``reason`` of a ``speech_ended`` entry (recorded values, never changed)."""

    FINISHED = "finished"  # the speaker yielded the floor
    ENDED_BY_CHAIR = "ended_by_chair"
    INTERRUPTED = "interrupted"  # a recess or the adjournment
    REMOVED = "removed"  # the speaker was removed from the sitting


# Entries that decide something only with a quorum: each records the quorum as counted then.
QUORUM_DECISIONS = frozenset({Entry.SITTING_OPENED, Entry.SITTING_RESUMED, Entry.BALLOT_OPENED,
                              Entry.BALLOT_CLOSED, Entry.QUORUM_LOST, Entry.QUORUM_RESTORED})


@dataclass(frozen=True)
class Event:
    """Something that happened to a sitting, as the service layer records it and then tells.

    ``name`` is an ``Entry`` when the domain makes the event, plain text when read back.
    """

    name: str
    at: datetime
    actor_id: str | None
    data: dict[str, Any] = field(default_factory=dict)
    agenda_item_id: str | None = None
