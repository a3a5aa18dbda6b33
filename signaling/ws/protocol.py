"""The member protocol (docs/protocol.md): message types and their validation.

Every inbound message is checked here, at the edge; the rest of the server receives
typed requests only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gikai.orchestrator.domain.rules import SpeechKind
from gikai.orchestrator.domain.sitting import AudioMode
from gikai.signaling import wire
from gikai.signaling.auth.tokens import MAX_TOKEN_CHARS
from gikai.signaling.wire import ProtocolError, RequestId

MAX_MESSAGE_BYTES = 256 * 1024
MAX_SDP_CHARS = 200_000
MAX_ID_CHARS = wire.MAX_ID_CHARS


@dataclass(frozen=True)
class Join:
    """Join with a rehearsal link's token, or as the logged-in account with a meeting id."""

    id: RequestId
    token: str | None = None
    meeting_id: str | None = None


@dataclass(frozen=True)
class Answer:
    id: RequestId
    sdp: str
    revision: int


@dataclass(frozen=True)
class RefuseOffer:
    """The client cannot apply offer ``revision`` (a client that is not a browser, say): why."""

    id: RequestId
    revision: int
    reason: str


@dataclass(frozen=True)
class MediaState:
    id: RequestId
    audio_muted: bool
    video_muted: bool


@dataclass(frozen=True)
class Ping:
    id: RequestId


@dataclass(frozen=True)
class Leave:
    id: RequestId


@dataclass(frozen=True)
class Reception:
    """How many frames of remote video the client has decoded so far (its side of the link)."""

    id: RequestId
    frames_decoded: int


@dataclass(frozen=True)
class ReceptionMode:
    """The member's own choice: receive the others' video, or audio only (a weak or metered link)."""

    id: RequestId
    audio_only: bool


@dataclass(frozen=True)
class AttendanceQuery:
    """The attendance intervals of the sitting so far."""

    id: RequestId


@dataclass(frozen=True)
class Command:
    """A sitting command; ``args`` are validated by signaling.commands."""

    id: RequestId
    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class BallotAction:
    """The chair's side of a vote: open, close, decide_tie, publish."""

    id: RequestId
    action: str
    ballot_id: str = ""
    motion: str = ""
    kind: str = "named"
    majority: str = "simple"
    abstain_allowed: bool = False
    choice: str = ""
    target: str = ""  # open: what of the current item is voted on (amendment:<id>, original, ...), or ""


@dataclass(frozen=True)
class VoteOptions:
    """Step one of casting: the passkey request bound to this ballot and choice."""

    id: RequestId
    ballot_id: str
    choice: str


@dataclass(frozen=True)
class Vote:
    """Step two: the choice with the passkey's assertion over it."""

    id: RequestId
    ballot_id: str
    choice: str
    ceremony: str
    credential: dict[str, Any]


@dataclass(frozen=True)
class Present:
    """Showing a document to everyone: start, page, point (x, y: fractions of the page), stop;
    or one's screen: share_screen, stop_screen."""

    id: RequestId
    action: str
    document_id: str = ""
    page: int = 1
    x: float = 0.0
    y: float = 0.0


Request = (Join | Answer | RefuseOffer | MediaState | Ping | Leave | Command | Reception | ReceptionMode
           | AttendanceQuery | BallotAction | VoteOptions | Vote | Present)
BALLOT_ACTIONS = ("open", "close", "decide_tie", "publish")
CHOICE_CHARS = 10


# name -> {field: type}; enums are given by their class and checked by value.
FIELDS: dict[str, dict[str, Any]] = {
    "open": {}, "recess": {}, "resume": {}, "adjourn": {},
    "take_up": {"item_id": str},
    "decide": {"item_id": str, "result": str},
    "request_floor": {"kind": SpeechKind},
    "withdraw_request": {"request_id": str},
    "grant": {"request_id": str},
    "deny": {"request_id": str},
    "call": {"participant_id": str},
    "end_speech": {},
    "extend": {"seconds": int},
    "reorder": {"order": list, "version": int},
    "audio_mode": {"mode": AudioMode},
    "mute": {"participant_id": str, "muted": bool},
    "remove": {"participant_id": str},
    "check_in": {"participant_id": str},
    "check_out": {"participant_id": str},
    "recording": {"on": bool},
    "name_minutes_signers": {"members": list},
    "move_amendment": {"item_id": str, "mover_id": str, "original": str, "text": str, "supporters": list},
    "arrange_amendments": {"item_id": str, "order": list},
    "move_motion": {"kind": str, "mover_id": str, "supporters": list},
    "start_roll_call": {}, "answer_roll_call": {}, "end_roll_call": {},
    "confirm_identity": {"participant_id": str, "confirmed": bool},
    # remote attendance by the chair's permission (reason: remote_permission.RemoteReason's values)
    "remote_apply": {"reason": str, "text": str},
    "remote_permit": {"application_id": str},
    "remote_refuse": {"application_id": str, "reason": str},
}
MAX_TEXT = 500
LONG_TEXT = {"original": 20_000, "text": 20_000}  # an amendment's wording (amendments.TEXT_MAX)


def validate_command(name: Any, msg: dict[str, Any], rid: RequestId) -> dict[str, Any]:
    if not isinstance(name, str) or name not in FIELDS:
        raise ProtocolError("unknown_command", f"unknown command '{str(name)[:40]}'", rid)
    args: dict[str, Any] = {}
    for field, kind in FIELDS[name].items():
        value = msg.get(field)
        if isinstance(kind, type) and issubclass(kind, (SpeechKind, AudioMode)):
            try:
                value = kind(value)
            except ValueError:
                raise ProtocolError("bad_message", f"field '{field}' has an unknown value", rid) from None
        elif kind is int:
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**31:
                raise ProtocolError("bad_message", f"field '{field}' must be int", rid)
        elif kind is list:
            if not isinstance(value, list) or len(value) > 500 or not all(isinstance(v, str) for v in value):
                raise ProtocolError("bad_message", f"field '{field}' must be a list of strings", rid)
        elif not isinstance(value, kind) or (kind is str and len(value) > LONG_TEXT.get(field, MAX_TEXT)):
            raise ProtocolError("bad_message", f"field '{field}' must be {kind.__name__}", rid)
        args[field] = value
    return args



def _field(msg: dict[str, Any], name: str, kind: type, rid: RequestId, max_len: int = 0) -> Any:
    value = msg.get(name)
    if kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise ProtocolError("bad_message", f"field '{name}' must be {kind.__name__}", rid)
    if max_len and isinstance(value, (str, list, dict)) and len(value) > max_len:
        raise ProtocolError("bad_message", f"field '{name}' is longer than {max_len}", rid)
    return value


def parse(text: str) -> Request:
    """Parse and validate one client message, or raise ProtocolError."""
    rid, kind, msg = wire.envelope(text, MAX_MESSAGE_BYTES)
    if kind == "join":
        if "meeting_id" in msg and "token" not in msg:
            return Join(rid, meeting_id=_field(msg, "meeting_id", str, rid, MAX_ID_CHARS))
        return Join(rid, token=_field(msg, "token", str, rid, MAX_TOKEN_CHARS))
    if kind == "answer":
        return Answer(rid, _field(msg, "sdp", str, rid, MAX_SDP_CHARS), _field(msg, "revision", int, rid))
    if kind == "refuse_offer":
        return RefuseOffer(rid, _field(msg, "revision", int, rid), _field(msg, "reason", str, rid, MAX_TEXT))
    if kind == "media_state":
        return MediaState(rid, _field(msg, "audio_muted", bool, rid), _field(msg, "video_muted", bool, rid))
    if kind == "ping":
        return Ping(rid)
    if kind == "leave":
        return Leave(rid)
    if kind == "attendance":
        return AttendanceQuery(rid)
    if kind == "reception":
        return Reception(rid, _field(msg, "frames_decoded", int, rid))
    if kind == "reception_mode":
        return ReceptionMode(rid, _field(msg, "audio_only", bool, rid))
    if kind == "ballot":
        return _ballot_action(msg, rid)
    if kind == "vote_options":
        return VoteOptions(rid, _field(msg, "ballot_id", str, rid, MAX_ID_CHARS),
                           _field(msg, "choice", str, rid, CHOICE_CHARS))
    if kind == "vote":
        credential = _field(msg, "credential", dict, rid)
        return Vote(rid, _field(msg, "ballot_id", str, rid, MAX_ID_CHARS),
                    _field(msg, "choice", str, rid, CHOICE_CHARS),
                    _field(msg, "ceremony", str, rid, MAX_ID_CHARS), credential)
    if kind == "present":
        return _present(msg, rid)
    if kind == "command":
        name = msg.get("name")
        return Command(rid, str(name), validate_command(name, msg, rid))
    raise ProtocolError("unknown_type", f"unknown type '{kind[:40]}'", rid)


def _ballot_action(msg: dict[str, Any], rid: RequestId) -> BallotAction:
    action = _field(msg, "action", str, rid, 20)
    if action not in BALLOT_ACTIONS:
        raise ProtocolError("bad_message", f"field 'action' must be one of {', '.join(BALLOT_ACTIONS)}", rid)
    if action == "open":
        motion = _field(msg, "motion", str, rid, 500)
        if not motion.strip():
            raise ProtocolError("bad_message", "field 'motion' must not be empty", rid)
        target = _field(msg, "target", str, rid, 100) if "target" in msg else ""
        return BallotAction(rid, action, motion=motion, kind=_field(msg, "kind", str, rid, 20),
                            majority=_field(msg, "majority", str, rid, 30),
                            abstain_allowed=_field(msg, "abstain_allowed", bool, rid), target=target)
    ballot_id = _field(msg, "ballot_id", str, rid, MAX_ID_CHARS)
    choice = _field(msg, "choice", str, rid, CHOICE_CHARS) if action == "decide_tie" else ""
    return BallotAction(rid, action, ballot_id=ballot_id, choice=choice)


PRESENT_ACTIONS = ("start", "page", "point", "stop", "share_screen", "stop_screen")


def _fraction(msg: dict[str, Any], name: str, rid: RequestId) -> float:
    value = msg.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ProtocolError("bad_message", f"field '{name}' must be a number from 0 to 1", rid)
    return float(value)


def _present(msg: dict[str, Any], rid: RequestId) -> Present:
    action = _field(msg, "action", str, rid, 20)
    if action not in PRESENT_ACTIONS:
        raise ProtocolError("bad_message", f"field 'action' must be one of {', '.join(PRESENT_ACTIONS)}", rid)
    if action == "start":
        page = _field(msg, "page", int, rid) if "page" in msg else 1
        return Present(rid, action, document_id=_field(msg, "document_id", str, rid, MAX_ID_CHARS), page=page)
    if action == "page":
        return Present(rid, action, page=_field(msg, "page", int, rid))
    if action == "point":
        return Present(rid, action, x=_fraction(msg, "x", rid), y=_fraction(msg, "y", rid))
    return Present(rid, action)
