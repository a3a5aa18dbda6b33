"""Domain values as JSON for the database, and back."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import Any

from gikai.orchestrator.domain.floor import Floor
from gikai.orchestrator.domain.rules import SpeechKind, StandingRules


def rules_to_json(rules: StandingRules) -> dict[str, Any]:
    return {
        "quorum_fraction": str(rules.quorum_fraction),
        "remote_counts_in_plenary": rules.remote_counts_in_plenary,
        "remote_counts_in_committee": rules.remote_counts_in_committee,
        "remote_votes_in_plenary": rules.remote_votes_in_plenary,
        "remote_votes_in_committee": rules.remote_votes_in_committee,
        "chair_votes_only_on_tie": rules.chair_votes_only_on_tie,
        "speech_limits": {k.value: v for k, v in rules.speech_limits.items()},
        "warning_seconds": rules.warning_seconds,
        "record_sittings": rules.record_sittings,
        "record_recess": rules.record_recess,
        "retention_years": rules.retention_years,
    }


def rules_from_json(data: dict[str, Any]) -> StandingRules:
    if not data:
        return StandingRules()
    defaults = StandingRules()
    return StandingRules(
        quorum_fraction=Fraction(data.get("quorum_fraction", str(defaults.quorum_fraction))),
        remote_counts_in_plenary=bool(data.get("remote_counts_in_plenary", defaults.remote_counts_in_plenary)),
        remote_counts_in_committee=bool(data.get("remote_counts_in_committee", defaults.remote_counts_in_committee)),
        remote_votes_in_plenary=bool(data.get("remote_votes_in_plenary", defaults.remote_votes_in_plenary)),
        remote_votes_in_committee=bool(data.get("remote_votes_in_committee", defaults.remote_votes_in_committee)),
        chair_votes_only_on_tie=bool(data.get("chair_votes_only_on_tie", defaults.chair_votes_only_on_tie)),
        speech_limits={SpeechKind(k): int(v) for k, v in data.get("speech_limits", {}).items()}
        or dict(defaults.speech_limits),
        warning_seconds=int(data.get("warning_seconds", defaults.warning_seconds)),
        record_sittings=bool(data.get("record_sittings", defaults.record_sittings)),
        record_recess=bool(data.get("record_recess", defaults.record_recess)),
        retention_years=int(data.get("retention_years", defaults.retention_years)),
    )


def floor_to_json(floor: Floor | None) -> dict[str, Any] | None:
    if floor is None:
        return None
    return {
        "holder_id": floor.holder_id, "kind": floor.kind.value, "started_at": floor.started_at.isoformat(),
        "limit_seconds": floor.limit_seconds, "extended_seconds": floor.extended_seconds,
        "request_id": floor.request_id,
    }


def floor_from_json(data: dict[str, Any] | None) -> Floor | None:
    if not data:
        return None
    return Floor(
        data["holder_id"], SpeechKind(data["kind"]), datetime.fromisoformat(data["started_at"]),
        int(data["limit_seconds"]), int(data.get("extended_seconds", 0)), data.get("request_id"),
    )
