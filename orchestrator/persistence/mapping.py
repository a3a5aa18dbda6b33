"""Domain values as JSON for the database, and back."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import Any

from gikai.orchestrator.domain.floor import Floor
from gikai.orchestrator.domain.rules import LimitBasis, SpeechKind, StandingRules


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
        "limit_basis": {k.value: v.value for k, v in rules.limit_basis.items()},
        "remote_may_speak_in_plenary": _kinds_to_json(rules.remote_may_speak_in_plenary),
        "remote_may_speak_in_committee": _kinds_to_json(rules.remote_may_speak_in_committee),
        "remote_requires_permission_in_plenary": rules.remote_requires_permission_in_plenary,
        "remote_requires_permission_in_committee": rules.remote_requires_permission_in_committee,
        "remote_application_deadline_hours": rules.remote_application_deadline_hours,
        "motion_supporters_in_plenary": rules.motion_supporters_in_plenary,
        "motion_supporters_in_committee": rules.motion_supporters_in_committee,
        "amendment_movers_fraction_in_plenary": str(rules.amendment_movers_fraction_in_plenary),
        "minutes_signers": rules.minutes_signers,
        "third_person_after_seconds": rules.third_person_after_seconds,
        "third_person_stops_counting": rules.third_person_stops_counting,
    }


def _kinds_to_json(kinds: frozenset[SpeechKind]) -> list[str]:
    return sorted(k.value for k in kinds)


def _kinds_from_json(data: dict[str, Any], key: str, default: frozenset[SpeechKind]) -> frozenset[SpeechKind]:
    """A set of speech kinds; absent (older JSON) gives the default, an empty list stays empty."""
    if key not in data:
        return default
    return frozenset(SpeechKind(k) for k in data[key])


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
        limit_basis={SpeechKind(k): LimitBasis(v) for k, v in data["limit_basis"].items()}
        if "limit_basis" in data else dict(defaults.limit_basis),
        remote_may_speak_in_plenary=_kinds_from_json(data, "remote_may_speak_in_plenary",
                                                     defaults.remote_may_speak_in_plenary),
        remote_may_speak_in_committee=_kinds_from_json(data, "remote_may_speak_in_committee",
                                                       defaults.remote_may_speak_in_committee),
        remote_requires_permission_in_plenary=bool(data.get("remote_requires_permission_in_plenary",
                                                            defaults.remote_requires_permission_in_plenary)),
        remote_requires_permission_in_committee=bool(data.get("remote_requires_permission_in_committee",
                                                              defaults.remote_requires_permission_in_committee)),
        remote_application_deadline_hours=int(data.get("remote_application_deadline_hours",
                                                       defaults.remote_application_deadline_hours)),
        motion_supporters_in_plenary=int(data.get("motion_supporters_in_plenary",
                                                  defaults.motion_supporters_in_plenary)),
        motion_supporters_in_committee=int(data.get("motion_supporters_in_committee",
                                                    defaults.motion_supporters_in_committee)),
        amendment_movers_fraction_in_plenary=Fraction(data.get("amendment_movers_fraction_in_plenary",
                                                               str(defaults.amendment_movers_fraction_in_plenary))),
        minutes_signers=int(data.get("minutes_signers", defaults.minutes_signers)),
        third_person_after_seconds=int(data.get("third_person_after_seconds", defaults.third_person_after_seconds)),
        third_person_stops_counting=bool(data.get("third_person_stops_counting",
                                                  defaults.third_person_stops_counting)),
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
