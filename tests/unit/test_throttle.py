"""Back-off for failed logins: a rule on numbers, no clock but the one passed in."""

from gikai.orchestrator.domain.throttle import Backoff, Guesses, Throttle


def test_a_few_failures_are_free_then_each_one_doubles_the_wait():
    t = Throttle(Backoff(free_failures=3, first_wait=2.0, longest_wait=60.0))
    for _ in range(3):
        assert t.wait("a", 0.0) == 0.0
        t.failed("a", 0.0)
    assert t.wait("a", 0.0) == 0.0  # three failures were free
    t.failed("a", 0.0)
    assert t.wait("a", 0.0) == 2.0
    t.failed("a", 2.0)
    assert t.wait("a", 2.0) == 4.0
    for _ in range(10):
        t.failed("a", 10.0)
    assert t.wait("a", 10.0) == 60.0  # capped
    assert t.wait("b", 10.0) == 0.0  # other keys are untouched


def test_success_forgives_and_quiet_forgets():
    t = Throttle(Backoff(free_failures=1, first_wait=5.0, forget_after=100.0))
    t.failed("a", 0.0)
    t.failed("a", 0.0)
    assert t.wait("a", 1.0) == 4.0
    t.succeeded("a")
    assert t.wait("a", 1.0) == 0.0
    t.failed("b", 0.0)
    t.failed("b", 0.0)
    assert [lock.key for lock in t.lockouts(1.0)] == ["b"]
    assert t.wait("b", 200.0) == 0.0 and t.lockouts(200.0) == []
    t.failed("b", 200.0)  # starts afresh: the first failure is free again
    assert t.wait("b", 200.0) == 0.0


def test_a_flood_of_new_keys_cannot_grow_memory():
    t = Throttle(Backoff(max_keys=100))
    for i in range(10_000):
        t.failed(f"name{i}", 0.0)
    assert len(t._keys) == 100


def test_an_account_name_locks_sooner_than_a_shared_address():
    g = Guesses()
    for _ in range(6):
        g.failed("10.0.0.1", "clerk", 0.0)
    assert g.wait("10.0.0.1", "clerk", 0.0) > 0  # the password of 'clerk' is being guessed
    assert g.wait("10.0.0.1", None, 0.0) == 0  # the town hall's members on that address still log in
    assert g.wait("10.0.0.2", "clerk", 0.0) > 0
