"""Validation at the edge: every malformed message maps to a stable error code."""

import json

import pytest

from gikai.signaling import errors, wire
from gikai.signaling.ws import protocol
from gikai.signaling.ws.protocol import Answer, Join, MediaState, ProtocolError


def msg(**fields):
    return json.dumps({"v": 1, "id": 1, **fields})


def code_of(text):
    with pytest.raises(ProtocolError) as info:
        protocol.parse(text)
    return info.value.code


def test_valid_requests_parse_into_typed_messages():
    assert protocol.parse(msg(type="join", token="abc")) == Join(1, "abc")
    assert protocol.parse(msg(type="answer", sdp="v=0", revision=3)) == Answer(1, "v=0", 3)
    assert protocol.parse(msg(type="media_state", audio_muted=True, video_muted=False)) == MediaState(1, True, False)


@pytest.mark.parametrize(
    "text, code",
    [
        ("{not json", "bad_json"),
        ("[1, 2]", "bad_json"),
        ('"join"', "bad_json"),
        (json.dumps({"v": 1, "type": "ping"}), "bad_message"),  # no id
        (json.dumps({"v": 2, "id": 1, "type": "ping"}), "bad_version"),
        (msg(type="dance"), "unknown_type"),
        (msg(type=5), "bad_message"),
        (msg(type="join"), "bad_message"),
        (msg(type="join", token=7), "bad_message"),
        (msg(type="join", token="x" * 500), "bad_message"),
        (msg(type="answer", sdp="v=0", revision="3"), "bad_message"),
        (msg(type="answer", sdp="v=0", revision=True), "bad_message"),
        (msg(type="answer", sdp="v=0", revision=-1), "bad_message"),
        (msg(type="media_state", audio_muted="yes", video_muted=False), "bad_message"),
        (msg(type="join", token="t", pad="x" * 300_000), "too_large"),
        # A lone surrogate parses as JSON but is not Unicode text: refused wherever it sits.
        ('{"v": 1, "id": 1, "type": "join", "token": "\\ud800"}', "bad_message"),
        ('{"v": 1, "id": 1, "type": "jo\\udfffin", "token": "t"}', "bad_message"),
        ('{"v": 1, "id": "\\udc80", "type": "ping"}', "bad_message"),
        ('{"v": 1, "id": 1, "type": "ping", "\\ud83d": [{"a": "b"}]}', "bad_message"),
        ('{"v": 1, "id": 1, "type": "ping", "deep": [[{"x": "ok \\ud800 no"}]]}', "bad_message"),
        # NUL: PostgreSQL stores no text holding one (a ballot's motion, a result), so not past here
        ('{"v": 1, "id": 1, "type": "ballot", "action": "open", "motion": "a\\u0000b"}', "bad_message"),
        ('{"v": 1, "id": 1, "type": "ping", "k\\u0000": 1}', "bad_message"),
    ],
)
def test_malformed_messages_get_stable_codes(text, code):
    assert code_of(text) == code


def test_a_typed_backslash_before_u0000_is_ordinary_text():
    assert protocol.parse(msg(type="join", token="C:\\u0000")) == Join(1, "C:\\u0000")


def test_a_correct_surrogate_pair_is_ordinary_text():
    assert protocol.parse(msg(type="join", token="\U0001F600")) == Join(1, "\U0001F600")
    assert protocol.parse('{"v": 1, "id": 1, "type": "join", "token": "\\ud83d\\ude00"}') == Join(1, "\U0001F600")


def test_the_request_id_is_echoed_even_when_a_field_is_wrong():
    with pytest.raises(ProtocolError) as info:
        protocol.parse(json.dumps({"v": 1, "id": "req-9", "type": "join"}))
    assert info.value.request_id == "req-9"


def test_every_error_code_has_japanese_and_english_text():
    for code, (ja, en) in errors.CATALOGUE.items():
        out = wire.error(code, 4)
        assert out["message"] == {"ja": ja, "en": en} and ja and en and out["re"] == 4
