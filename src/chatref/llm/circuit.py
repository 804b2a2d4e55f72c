"""The router's building blocks: a circuit breaker per endpoint, a retry budget, jittered backoff.

All three take a ``clock`` (monotonic seconds) so their timing is explicit. Example::

    breaker = CircuitBreaker(failure_threshold=3, open_s=30)
    if breaker.try_acquire():          # closed, or the one half-open probe
        ...                            # send the request
        breaker.record_success()       # or record_failure(), or release() with no verdict
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Literal

CircuitState = Literal["closed", "open", "half_open"]
Clock = Callable[[], float]


class CircuitBreaker:
    """Closed until ``failure_threshold`` consecutive failures, then open for ``open_s``.

    When the open period ends the breaker is half-open: exactly one request (the probe) may go
    through. Its success closes the breaker; its failure opens it again for twice as long (up to
    ``max_open_s``). ``force_open(seconds)`` opens it at once, e.g. for a 429 with a long
    Retry-After. ``on_change(state)`` is called on every transition (metrics).
    """

    def __init__(self, *, failure_threshold: int = 3, open_s: float = 30.0,
                 max_open_s: float = 300.0, clock: Clock = time.monotonic,
                 on_change: Callable[[CircuitState], None] | None = None) -> None:
        self.failure_threshold = failure_threshold
        self.open_s = open_s
        self.max_open_s = max_open_s
        self._clock = clock
        self._on_change = on_change
        self._state: CircuitState = "closed"
        self.consecutive_failures = 0
        self.open_until = 0.0
        self._next_open_s = open_s
        self._probe_in_flight = False

    @property
    def state(self) -> CircuitState:
        if self._state == "open" and self._clock() >= self.open_until:
            self._set("half_open")
        return self._state

    def available(self) -> bool:
        """Would a request be let through now (without taking the probe slot)?"""
        state = self.state
        return state == "closed" or (state == "half_open" and not self._probe_in_flight)

    def seconds_until_available(self) -> float:
        if self.state == "open":
            return max(0.0, self.open_until - self._clock())
        return 0.0

    def try_acquire(self) -> bool:
        """Let one request through if allowed; in half-open it becomes the probe."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._probe_in_flight:
            self._probe_in_flight = True
            return True
        return False

    def record_success(self) -> None:
        self.consecutive_failures = 0
        self._probe_in_flight = False
        self._next_open_s = self.open_s
        if self._state != "closed":
            self._set("closed")

    def record_failure(self, *, open_for_s: float | None = None) -> None:
        """A failed request. ``open_for_s`` opens the circuit at once for that long (a long
        Retry-After, a configuration error); otherwise it opens after ``failure_threshold``
        consecutive failures, or when a half-open probe fails."""
        self.consecutive_failures += 1
        if open_for_s is not None:
            self.force_open(open_for_s)
            return
        was_probe = self._probe_in_flight
        self._probe_in_flight = False
        if self.state == "half_open" and was_probe:
            self._open(self._next_open_s)
            self._next_open_s = min(self._next_open_s * 2, self.max_open_s)
        elif self._state == "closed" and self.consecutive_failures >= self.failure_threshold:
            self._open(self._next_open_s)
            self._next_open_s = min(self._next_open_s * 2, self.max_open_s)

    def force_open(self, seconds: float) -> None:
        """Open now for ``seconds`` (a long Retry-After, a configuration error)."""
        self._probe_in_flight = False
        until = self._clock() + seconds
        if self._state == "open" and self.open_until >= until:
            return
        self._open(seconds)

    def release(self) -> None:
        """The request ended without a verdict (cancelled): free the probe slot."""
        self._probe_in_flight = False

    def _open(self, seconds: float) -> None:
        self.open_until = self._clock() + seconds
        self._set("open")

    def _set(self, state: CircuitState) -> None:
        if state != self._state:
            self._state = state
            if self._on_change is not None:
                self._on_change(state)


class RetryBudget:
    """Retries may be at most ``ratio`` of first attempts, plus ``min_per_s`` as a floor.

    Every first attempt deposits ``ratio`` tokens; a retry spends one. Time refills
    ``min_per_s`` tokens a second. The balance is capped at ``cap``, so a quiet period cannot
    save up a burst that would hammer a throttled region.
    """

    def __init__(self, *, ratio: float = 0.2, min_per_s: float = 1.0, cap: float = 10.0,
                 clock: Clock = time.monotonic) -> None:
        self.ratio = ratio
        self.min_per_s = min_per_s
        self.cap = cap
        self._clock = clock
        self._tokens = cap
        self._updated = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.cap, self._tokens + (now - self._updated) * self.min_per_s)
        self._updated = now

    def deposit(self) -> None:
        self._refill()
        self._tokens = min(self.cap, self._tokens + self.ratio)

    def try_withdraw(self) -> bool:
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    @property
    def balance(self) -> float:
        self._refill()
        return self._tokens


def backoff_s(attempt: int, *, base_s: float, max_s: float, rng: random.Random) -> float:
    """Exponential backoff with equal jitter: between half and all of ``base_s * 2**attempt``.

    Half is fixed so the wait really grows; half is random so clients that failed together do
    not come back together.
    """
    ceiling = min(max_s, base_s * (2.0 ** attempt))
    return ceiling / 2 + rng.uniform(0.0, ceiling / 2)
