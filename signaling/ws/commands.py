"""Sitting commands over the socket: validated at the edge, then run by the orchestrator."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from gikai.orchestrator.domain.rules import SpeechKind
from gikai.orchestrator.domain.sitting import AudioMode, Event, Sitting
from gikai.signaling.ws.protocol import ProtocolError, RequestId

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
}
MAX_TEXT = 500


def validate(name: Any, msg: dict[str, Any], rid: RequestId) -> dict[str, Any]:
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
        elif not isinstance(value, kind) or (kind is str and len(value) > MAX_TEXT):
            raise ProtocolError("bad_message", f"field '{field}' must be {kind.__name__}", rid)
        args[field] = value
    return args


def bind(name: str, actor: str, a: dict[str, Any]) -> Callable[[Sitting, datetime], list[Event]]:
    """The domain call for a validated command, with the actor filled in."""
    table: dict[str, Callable[[Sitting, datetime], list[Event]]] = {
        "open": lambda s, now: s.open(actor, now),
        "recess": lambda s, now: s.recess(actor, now),
        "resume": lambda s, now: s.resume(actor, now),
        "adjourn": lambda s, now: s.adjourn(actor, now),
        "take_up": lambda s, now: s.take_up(actor, a.get("item_id", ""), now),
        "decide": lambda s, now: s.decide(actor, a.get("item_id", ""), a.get("result", ""), now),
        "request_floor": lambda s, now: s.request_floor(actor, a["kind"], now) if "kind" in a else [],
        "withdraw_request": lambda s, now: s.withdraw_request(actor, a.get("request_id", ""), now),
        "grant": lambda s, now: s.grant(actor, a.get("request_id", ""), now),
        "deny": lambda s, now: s.deny(actor, a.get("request_id", ""), now),
        "call": lambda s, now: s.call_presenter(actor, a.get("participant_id", ""), now),
        "end_speech": lambda s, now: s.end_speech(actor, now),
        "extend": lambda s, now: s.extend(actor, a.get("seconds", 0), now),
        "reorder": lambda s, now: s.reorder(actor, a.get("order", []), a.get("version", -1), now),
        "audio_mode": lambda s, now: s.set_audio_mode(actor, a["mode"], now) if "mode" in a else [],
        "mute": lambda s, now: s.mute(actor, a.get("participant_id", ""), bool(a.get("muted")), now),
        "remove": lambda s, now: s.remove(actor, a.get("participant_id", ""), now),
        "check_in": lambda s, now: s.check_in(actor, a.get("participant_id", ""), now),
        "check_out": lambda s, now: s.check_out(actor, a.get("participant_id", ""), now),
        "recording": lambda s, now: s.switch_recording(actor, bool(a.get("on")), now),
    }
    return table[name]
