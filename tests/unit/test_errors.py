"""The domain's errors are one catalogue: each error its own stable code, each code exactly
one Japanese and one English text."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import gikai.orchestrator.domain as domain
from gikai.orchestrator.domain.errors import DomainError, ErrorText, NotChair, catalogue, error_classes

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture(scope="module", autouse=True)
def every_domain_module() -> None:
    """Errors defined anywhere in the domain take part in the catalogue once imported."""
    for module in pkgutil.iter_modules(domain.__path__):
        importlib.import_module(f"{domain.__name__}.{module.name}")


def test_every_error_names_its_own_code():
    for cls in error_classes():
        assert "code" in vars(cls), f"{cls.__qualname__} inherits its code from {cls.__mro__[1].__qualname__}"


def test_error_codes_are_unique_and_stable_words():
    codes = [cls.code for cls in error_classes()]
    assert len(codes) == len(set(codes)), sorted(c for c in codes if codes.count(c) > 1)
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", c) for c in codes), codes


def test_every_code_has_one_japanese_and_one_english_text():
    table = catalogue()
    assert len(table) == len(error_classes())
    for code, text in table.items():
        assert JAPANESE.search(text.ja), (code, text.ja)
        assert text.en and text.en.isascii() and not JAPANESE.search(text.en), (code, text.en)
        assert text.ja.endswith("。") and text.en.endswith("."), (code, text)


def test_the_catalogue_holds_the_votes_and_the_accounts_errors():
    table = catalogue()
    for code in ("not_chair", "quorum_not_met", "already_voted", "not_present", "passkey_failed", "login_failed",
                 "enrolment_invalid", "not_clerk"):
        assert code in table


def test_a_repeated_code_is_refused():
    class Repeats(NotChair):  # names no code of its own: it would give "not_chair" a second text
        ja = "別の文。"
        en = "Another text."

    try:
        with pytest.raises(ValueError, match="not_chair"):
            catalogue()
    finally:
        del Repeats
        import gc

        gc.collect()  # __subclasses__ holds weak references: the class is gone for the next tests
    assert "not_chair" in catalogue()


def test_the_message_is_in_the_language_asked_for():
    assert NotChair.message("en") == "Only the chair can do this."
    assert NotChair.message("ja") == NotChair.ja
    assert ErrorText("はい。", "Yes.").text("fr") == "はい。"  # Japanese unless English is asked for
    assert str(DomainError()) == DomainError.en
