"""Back-off for guesses: a few free failures, then a wait that doubles with each failure.

Logins and passkey ceremonies are throttled per key (a client address, an account name), so a
flood of wrong passwords is refused before any password is hashed, and never holds up a
sitting. Standard library only; the caller passes the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Backoff:
    free_failures: int = 5  # failures allowed before any wait
    first_wait: float = 2.0  # seconds after the first failure over the free ones, doubled each time
    longest_wait: float = 900.0
    forget_after: float = 3600.0  # a key quiet this long starts afresh
    max_keys: int = 10_000  # keys remembered at most (the oldest go first), so a flood cannot grow memory


@dataclass
class _Key:
    failures: int = 0
    last: float = 0.0
    until: float = 0.0  # no attempt before this time


@dataclass(frozen=True)
class Lockout:
    kind: str  # what the key is: "address" or "name"
    key: str
    failures: int
    until: float


@dataclass
class Throttle:
    rule: Backoff = field(default_factory=Backoff)
    kind: str = "name"
    _keys: dict[str, _Key] = field(default_factory=dict)

    def wait(self, key: str, now: float) -> float:
        """Seconds before ``key`` may try again (0: now)."""
        entry = self._fresh(key, now)
        return max(0.0, entry.until - now) if entry is not None else 0.0

    def failed(self, key: str, now: float) -> None:
        entry = self._fresh(key, now)
        if entry is None:
            while len(self._keys) >= self.rule.max_keys:
                del self._keys[next(iter(self._keys))]
            entry = self._keys[key] = _Key()
        entry.failures += 1
        entry.last = now
        over = entry.failures - self.rule.free_failures
        if over > 0:
            entry.until = now + min(self.rule.longest_wait, self.rule.first_wait * 2 ** (over - 1))

    def succeeded(self, key: str) -> None:
        self._keys.pop(key, None)

    def lockouts(self, now: float) -> list[Lockout]:
        """Keys that must wait now: what the clerk is shown."""
        return [Lockout(self.kind, k, e.failures, e.until) for k, e in self._keys.items() if e.until > now]

    def _fresh(self, key: str, now: float) -> _Key | None:
        entry = self._keys.get(key)
        if entry is not None and now - entry.last > self.rule.forget_after and entry.until <= now:
            del self._keys[key]
            return None
        return entry


@dataclass
class Guesses:
    """Failed logins counted twice: per account name (few free failures: a password is being
    guessed) and per client address (more: a town hall's members may share one address)."""

    by_name: Throttle = field(default_factory=Throttle)
    by_address: Throttle = field(default_factory=lambda: Throttle(Backoff(free_failures=20), "address"))

    def wait(self, address: str, name: str | None, now: float) -> float:
        waits = [self.by_address.wait(address, now)]
        if name is not None:
            waits.append(self.by_name.wait(name, now))
        return max(waits)

    def failed(self, address: str, name: str | None, now: float) -> None:
        self.by_address.failed(address, now)
        if name is not None:
            self.by_name.failed(name, now)

    def succeeded(self, address: str, name: str | None) -> None:
        self.by_address.succeeded(address)
        if name is not None:
            self.by_name.succeeded(name)

    def lockouts(self, now: float) -> list[Lockout]:
        return self.by_address.lockouts(now) + self.by_name.lockouts(now)
