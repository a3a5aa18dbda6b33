"""Sitting commands over the socket (validated by ws/protocol.py): the domain call each one makes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from gikai.orchestrator.domain.sitting import Event, Sitting

PAUSING = frozenset({"recess", "adjourn"})  # refused while a ballot is open (BallotService.require_none_open)


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
        "name_minutes_signers": lambda s, now: s.name_minutes_signers(actor, a.get("members", []), now),
        "move_amendment": lambda s, now: s.move_amendment(
            actor, a["item_id"], a["mover_id"], a["original"], a["text"], a["supporters"], now),
        "arrange_amendments": lambda s, now: s.arrange_amendments(actor, a["item_id"], a["order"], now),
        "move_motion": lambda s, now: s.move_procedural_motion(actor, a["kind"], a["mover_id"], a["supporters"], now),
        "start_roll_call": lambda s, now: s.start_roll_call(actor, now),
        "answer_roll_call": lambda s, now: s.answer_roll_call(actor, now),
        "confirm_identity": lambda s, now: s.confirm_identity(actor, a["participant_id"], a["confirmed"], now),
        "end_roll_call": lambda s, now: s.end_roll_call(actor, now),
        # remote_apply goes through service/remote.py (its refusals are recorded): see connection.py
        "remote_permit": lambda s, now: s.permit_remote(actor, a.get("application_id", ""), now),
        "remote_refuse": lambda s, now: s.refuse_remote(actor, a.get("application_id", ""), a.get("reason", ""), now),
    }
    return table[name]
