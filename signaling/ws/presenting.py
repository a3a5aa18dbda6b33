"""The member socket's ``present`` requests, handed to the presenting service
(orchestrator/service/presenting.py), which holds the rules and what is shown."""

from __future__ import annotations

from typing import Any

from gikai.orchestrator.service.presenting import PresentingService
from gikai.signaling.ws.protocol import Present
from gikai.signaling.ws.views import presentation_view, screen_view


async def present(presenting: PresentingService, meeting_id: str, actor: str, r: Present) -> dict[str, Any]:
    """Run one request; the reply carries what is shown afterwards."""
    if r.action in ("share_screen", "stop_screen"):
        if r.action == "share_screen":
            await presenting.share_screen(meeting_id, actor)
        else:
            await presenting.stop_screen(meeting_id, actor)
        return {"screen": screen_view(presenting.sharer(meeting_id))}
    if r.action == "start":
        await presenting.start(meeting_id, actor, r.document_id, r.page)
    elif r.action == "stop":
        await presenting.stop(meeting_id, actor)
    elif r.action == "page":
        await presenting.turn_page(meeting_id, actor, r.page)
    else:
        await presenting.point(meeting_id, actor, r.x, r.y)
    return {"presentation": presentation_view(presenting.current(meeting_id))}
