"""The signaling protocol (docs/protocol.md): message types, validation, error codes.

Every inbound message is checked here, at the edge; the rest of the server receives
typed requests only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Union

VERSION = 1
MAX_MESSAGE_BYTES = 256 * 1024
MAX_SDP_CHARS = 200_000
MAX_TOKEN_CHARS = 200
MAX_ID_CHARS = 64

RequestId = Union[int, str, None]

# code -> (Japanese, English)
MESSAGES: dict[str, tuple[str, str]] = {
    "bad_json": ("メッセージを読み取れませんでした。", "The message is not a JSON object."),
    "bad_version": ("このアプリの版が古いか新しすぎます。ページを再読み込みしてください。",
                    "Unsupported protocol version. Please reload the page."),
    "bad_message": ("メッセージの内容に誤りがあります。", "The message has a missing or wrong field."),
    "unknown_type": ("この操作には対応していません。", "Unknown message type."),
    "too_large": ("メッセージが大きすぎます。", "The message is too large."),
    "rate_limited": ("操作が多すぎます。少し待ってからお試しください。",
                     "Too many messages. Please wait a moment."),
    "not_joined": ("まだ会議に参加していません。", "Join the meeting first."),
    "already_joined": ("すでに参加しています。", "Already joined."),
    "invalid_token": ("参加用リンクが正しくないか、無効になっています。事務局にお問い合わせください。",
                      "This join link is not valid. Please ask the clerk for a new one."),
    "negotiation_failed": ("映像・音声の接続を確立できませんでした。",
                           "The audio/video connection could not be set up."),
    "unsupported_codec": ("お使いのブラウザーは必要な形式(VP8 映像・Opus 音声)に対応していません。",
                          "Your browser does not support VP8 video and Opus audio."),
    "peer_closed": ("映像・音声の接続が切れました。再接続します。",
                    "The audio/video connection ended. Reconnecting."),
    "replaced": ("別の画面から同じ参加者として接続されました。",
                 "You joined from another screen; this one was disconnected."),
    "not_found": ("見つかりません。", "Not found."),
    "not_logged_in": ("ログインしてください。", "Please log in."),
    "not_a_participant": ("この会議の参加者ではありません。", "You are not a participant of this meeting."),
    "unknown_command": ("この操作には対応していません。", "Unknown command."),
    "removed": ("委員長の指示により、この会議から退出しました。",
                "The chair has removed you from this meeting."),
    "passkey_failed": ("パスキーで本人確認できませんでした。もう一度やり直してください。",
                       "Your passkey could not be verified. Please try again."),
    "internal": ("サーバーで問題が起きました。もう一度お試しください。",
                 "The server had a problem. Please try again."),
}


class ProtocolError(Exception):
    def __init__(self, code: str, detail: str = "", request_id: RequestId = None) -> None:
        assert code in MESSAGES, code
        super().__init__(detail or code)
        self.code = code
        self.detail = detail
        self.request_id = request_id


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


Request = Union[Join, Answer, MediaState, Ping, Leave, Command, Reception, AttendanceQuery,
                BallotAction, VoteOptions, Vote, Present]
BALLOT_ACTIONS = ("open", "close", "decide_tie", "publish")
CHOICE_CHARS = 10


def _field(msg: dict[str, Any], name: str, kind: type, rid: RequestId, max_len: int = 0) -> Any:
    value = msg.get(name)
    if kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise ProtocolError("bad_message", f"field '{name}' must be {kind.__name__}", rid)
    if max_len and len(value) > max_len:
        raise ProtocolError("bad_message", f"field '{name}' is longer than {max_len}", rid)
    return value


def _request_id(msg: dict[str, Any]) -> RequestId:
    rid = msg.get("id")
    if isinstance(rid, bool):
        return None
    if isinstance(rid, int) and 0 <= rid < 2**53:
        return rid
    if isinstance(rid, str) and len(rid) <= MAX_ID_CHARS:
        return rid
    return None


def parse(text: str) -> Request:
    """Parse and validate one client message, or raise ProtocolError."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_MESSAGE_BYTES:
        raise ProtocolError("too_large", f"over {MAX_MESSAGE_BYTES} bytes")
    try:
        msg = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError("bad_json", str(exc)[:200]) from None
    if not isinstance(msg, dict):
        raise ProtocolError("bad_json", "not an object")
    rid = _request_id(msg)
    if "id" not in msg or (rid is None and msg.get("id") is not None):
        raise ProtocolError("bad_message", "field 'id' must be an integer or a short string", rid)
    if msg.get("v") != VERSION:
        raise ProtocolError("bad_version", f"expected v={VERSION}", rid)
    kind = msg.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("bad_message", "field 'type' must be str", rid)
    if kind == "join":
        if "meeting_id" in msg and "token" not in msg:
            return Join(rid, meeting_id=_field(msg, "meeting_id", str, rid, MAX_ID_CHARS))
        return Join(rid, token=_field(msg, "token", str, rid, MAX_TOKEN_CHARS))
    if kind == "answer":
        return Answer(rid, _field(msg, "sdp", str, rid, MAX_SDP_CHARS), _field(msg, "revision", int, rid))
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
    if kind == "ballot":
        return _ballot_action(msg, rid)
    if kind == "vote_options":
        return VoteOptions(rid, _field(msg, "ballot_id", str, rid, MAX_ID_CHARS),
                           _field(msg, "choice", str, rid, CHOICE_CHARS))
    if kind == "vote":
        credential = _field(msg, "credential", dict, rid)
        return Vote(rid, _field(msg, "ballot_id", str, rid, MAX_ID_CHARS), _field(msg, "choice", str, rid, CHOICE_CHARS),
                    _field(msg, "ceremony", str, rid, MAX_ID_CHARS), credential)
    if kind == "present":
        return _present(msg, rid)
    if kind == "command":
        from gikai.signaling.ws.commands import validate

        name = msg.get("name")
        return Command(rid, str(name), validate(name, msg, rid))
    raise ProtocolError("unknown_type", f"unknown type '{kind[:40]}'", rid)


def _ballot_action(msg: dict[str, Any], rid: RequestId) -> BallotAction:
    action = _field(msg, "action", str, rid, 20)
    if action not in BALLOT_ACTIONS:
        raise ProtocolError("bad_message", f"field 'action' must be one of {', '.join(BALLOT_ACTIONS)}", rid)
    if action == "open":
        motion = _field(msg, "motion", str, rid, 500)
        if not motion.strip():
            raise ProtocolError("bad_message", "field 'motion' must not be empty", rid)
        return BallotAction(rid, action, motion=motion, kind=_field(msg, "kind", str, rid, 20),
                            majority=_field(msg, "majority", str, rid, 30),
                            abstain_allowed=_field(msg, "abstain_allowed", bool, rid))
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


def reply(rid: RequestId, data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "reply", "re": rid, "ok": True, "data": data or {}}


def error(code: str, rid: RequestId = None, detail: str = "",
          text: tuple[str, str] | None = None) -> dict[str, Any]:
    ja, en = text or MESSAGES[code]
    out: dict[str, Any] = {"type": "error", "re": rid, "code": code, "message": {"ja": ja, "en": en}}
    if detail:
        out["detail"] = detail
    return out
