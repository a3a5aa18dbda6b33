"""The envelope both sockets share (docs/protocol.md): a version, a request id, a type; replies and
errors; and the first checks of every inbound text, before either protocol reads its fields."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from typing import Any

from aiohttp import web

from gikai.signaling import errors
from gikai.signaling.config import origin_allowed

VERSION = 1
MAX_ID_CHARS = 64

RequestId = int | str | None


class ProtocolError(Exception):
    """A message refused at the edge, with its error code (see signaling/errors.py)."""

    def __init__(self, code: str, detail: str = "", request_id: RequestId = None) -> None:
        assert code in errors.CATALOGUE, code
        super().__init__(detail or code)
        self.code = code
        self.detail = detail
        self.request_id = request_id


def request_id(msg: dict[str, Any]) -> RequestId:
    """The message's id if it is a valid one (an integer or a short string), else None."""
    rid = msg.get("id")
    if isinstance(rid, bool):
        return None
    if isinstance(rid, int) and 0 <= rid < 2**53:
        return rid
    if isinstance(rid, str) and len(rid) <= MAX_ID_CHARS:
        return rid
    return None


def is_clean_text(value: Any) -> bool:
    """True when no string in a parsed JSON value (keys included) holds a lone surrogate or a
    NUL character.

    JSON may spell them as ``"\\ud800"`` and ``"\\u0000"``: they parse, and then fail wherever
    the text is encoded or stored (a reply, the record; PostgreSQL refuses NUL in text), far
    from the edge that let them in. One C-speed encode of the whole value finds both here."""
    try:
        text = json.dumps(value, ensure_ascii=False)
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return _NUL.search(text) is None


# NUL as json.dumps writes it: \u0000 after an even number of backslashes (an odd one is a
# backslash the sender typed, followed by the letters u0000)
_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def envelope(text: str, max_bytes: int, id_required: bool = True) -> tuple[RequestId, str, dict[str, Any]]:
    """Size, JSON object, id, version and type of one inbound message; raises ProtocolError.
    The member socket requires the ``id`` field; the gallery's may leave it out."""
    if len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise ProtocolError("too_large", f"over {max_bytes} bytes")
    try:
        msg = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError("bad_json", str(exc)[:200]) from None
    if not isinstance(msg, dict):
        raise ProtocolError("bad_json", "not an object")
    if not is_clean_text(msg):
        # the id is left out of the refusal: it may be the bad text itself
        raise ProtocolError("bad_message", "text holds a lone surrogate (not Unicode) or a NUL character")
    rid = request_id(msg)
    if (id_required and "id" not in msg) or (rid is None and msg.get("id") is not None):
        raise ProtocolError("bad_message", "field 'id' must be an integer or a short string", rid)
    if msg.get("v") != VERSION:
        raise ProtocolError("bad_version", f"expected v={VERSION}", rid)
    kind = msg.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("bad_message", "field 'type' must be str", rid)
    return rid, kind, msg


def reply(rid: RequestId, data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "reply", "re": rid, "ok": True, "data": data or {}}


def error(code: str, rid: RequestId = None, detail: str = "",
          texts: errors.Text | None = None) -> dict[str, Any]:
    """An error message; ``texts`` only where a raised error refines its code's text."""
    out: dict[str, Any] = {"type": "error", "re": rid, "code": code, "message": errors.message(code, texts)}
    if detail:
        out["detail"] = detail
    return out


class RateLimit:
    """A token bucket: bursts up to ``rate`` messages, refilled at ``rate`` per second."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.tokens = float(rate)
        self.stamp = time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class ErrorTally:
    """Error messages sent, by where (``ws``, ``gallery``, ``http``) and code: read by /metrics."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()

    def add(self, channel: str, code: str) -> None:
        self.counts[(channel, code if code in errors.CATALOGUE else "other")] += 1


ERRORS = web.AppKey("errors", ErrorTally)

# Every error this module builds starts so when encoded (``error`` puts "type" first), whichever
# JSON encoder the socket uses: a cheap test on each outgoing text, a parse only for errors.
_ERROR_PREFIX = '{"type": "error"'


class _CountingSocket(web.WebSocketResponse):
    """A socket that counts the error messages it sends."""

    def __init__(self, tally: ErrorTally, channel: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._tally = tally
        self._channel = channel

    async def send_str(self, data: str, compress: int | None = None) -> None:
        if data.startswith(_ERROR_PREFIX):
            try:
                code = json.loads(data).get("code")
            except ValueError:
                code = None
            self._tally.add(self._channel, str(code))
        await super().send_str(data, compress)


async def accept(request: web.Request, max_frame: int, channel: str = "ws") -> web.WebSocketResponse:
    """Open a socket for a page this server served (a browser always sends Origin; another
    site's page is refused before the upgrade)."""
    origin = request.headers.get("Origin")
    if origin is not None and not origin_allowed(request, origin):
        raise web.HTTPForbidden(text="origin not allowed")
    tally = request.app.get(ERRORS)
    ws = (_CountingSocket(tally, channel, max_msg_size=max_frame, heartbeat=20.0) if tally is not None
          else web.WebSocketResponse(max_msg_size=max_frame, heartbeat=20.0))
    await ws.prepare(request)
    return ws
