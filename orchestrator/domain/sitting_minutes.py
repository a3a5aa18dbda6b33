"""Naming the members who will sign the minutes (会議録署名議員の指名), at the sitting.

The presiding chair names them, as many as the body's rules say, from the members of the
sitting other than the chair; a later naming (before the adjournment) replaces an earlier one.
The naming is on the record; the signing itself comes after the clerk finalises the minutes
(service/minutes_signing.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from gikai.orchestrator.domain.events import Entry, Event
from gikai.orchestrator.domain.minutes_signatures import name_signers
from gikai.orchestrator.domain.sitting_state import SittingState


class SittingMinutes(SittingState):
    def name_minutes_signers(self, actor: str, named: Sequence[str], now: datetime) -> list[Event]:
        self._require_not_adjourned()
        self._require_chair(actor)
        members = {p.id for p in self.participants.values() if p.role.is_member}
        signers = name_signers((actor,), list(named), members, self.rules)
        if signers == self.minutes_signers:
            return []  # a repeated tap: nothing more happens
        self.minutes_signers = signers
        return [Event(Entry.MINUTES_SIGNERS_NAMED, now, actor,
                      {"presiding": list(signers.presiding), "named": list(signers.named)})]
