from gikai.signaling.auth.tokens import JoinTokens


def test_a_token_names_its_participant_and_cannot_be_forged():
    tokens = JoinTokens(b"s" * 32)
    pid = "0123456789abcdef0123456789abcdef"
    token = tokens.issue(pid)
    assert tokens.verify(token) == pid
    other = "f" * 32
    forged = other + token[32:]
    assert tokens.verify(forged) is None
    assert JoinTokens(b"t" * 32).verify(token) is None
    assert tokens.verify(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert tokens.verify("") is None and tokens.verify("../../etc/passwd") is None


def test_a_token_with_anything_around_it_is_not_the_token():
    tokens = JoinTokens(b"s" * 32)
    token = tokens.issue("0123456789abcdef0123456789abcdef")
    for padded in (token + "\n", token + "\r\n", " " + token, token + " ", token + "\x00"):
        assert tokens.verify(padded) is None, repr(padded)
