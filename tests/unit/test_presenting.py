"""Presenting's rules (orchestrator/domain/presenting.py): who may show a document or a screen,
who may take over or end it, pages, and when a committed change ends it."""

from __future__ import annotations

import pytest

from gikai.orchestrator.domain.presenting import (
    CannotPresent,
    NoPresentation,
    NotPresenter,
    PageOutOfRange,
    Presentation,
    check_may_end,
    check_may_present,
    check_may_take_over,
    presentation_ended_by,
    presenter_only,
    share_ended_by,
)
from gikai.orchestrator.domain.rules import SpeechKind
from gikai.orchestrator.domain.sitting import Event, Sitting
from tests.unit.test_sitting import at, opened


def with_floor(holder: str) -> Sitting:
    s = opened()
    s.request_floor(holder, SpeechKind.QUESTION, at(2))
    s.grant("chair", s.queue.requests[0].id, at(3))
    return s


def test_only_the_chair_or_whoever_has_the_floor_may_present():
    s = opened()
    check_may_present(s, "chair")
    with pytest.raises(CannotPresent):
        check_may_present(s, "m3")
    s = with_floor("m3")
    check_may_present(s, "m3")
    with pytest.raises(CannotPresent):
        check_may_present(s, "m4")


def test_someone_elses_presentation_is_taken_over_or_ended_by_the_chair_only():
    s = with_floor("m3")
    with pytest.raises(NotPresenter):
        check_may_take_over(s, "m3", "chair", "presenting")
    check_may_take_over(s, "chair", "m3", "presenting")
    check_may_take_over(s, "m3", "m3", "presenting")
    check_may_take_over(s, "m3", None, "presenting")
    with pytest.raises(NotPresenter):
        check_may_end(s, "m4", "m3")
    check_may_end(s, "chair", "m3")
    check_may_end(s, "m3", "m3")


def test_pages_turn_within_the_document_and_only_for_its_presenter():
    shown = Presentation("doc", "議案第1号", 1, 3, "m3", pointer=(0.5, 0.5))
    with pytest.raises(PageOutOfRange):
        shown.turn_to(4)
    assert shown.turn_to(2) and shown.page == 2 and shown.pointer is None
    assert not shown.turn_to(2), "the same page again changes nothing"
    assert presenter_only(shown, "m3") is shown
    with pytest.raises(NotPresenter):
        presenter_only(shown, "chair")
    with pytest.raises(NoPresentation):
        presenter_only(None, "m3")


def test_a_presentation_ends_when_its_presenter_loses_the_floor_or_its_document_is_removed():
    s = with_floor("m3")
    shown = Presentation("doc", "議案第1号", 1, 3, "m3")
    assert presentation_ended_by(s, [], shown) is None
    assert share_ended_by(s, "m3") is None
    removed = Event("document_removed", at(4), "clerk", {"document_id": "doc"})
    other = Event("document_removed", at(4), "clerk", {"document_id": "another"})
    assert presentation_ended_by(s, [removed], shown) == "document_removed"
    assert presentation_ended_by(s, [other], shown) is None
    s.end_speech("chair", at(5))
    assert presentation_ended_by(s, [], shown) == "floor_lost"
    assert share_ended_by(s, "m3") == "floor_lost"
    assert share_ended_by(s, "chair") is None, "the chair presides still"
