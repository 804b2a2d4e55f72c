"""Circuit breaker, retry budget, backoff and cool-down headers, on an explicit clock."""

from __future__ import annotations

import random

import pytest

from chatref.llm.circuit import CircuitBreaker, RetryBudget, backoff_s
from chatref.llm.retry_hints import cool_down_from_headers, parse_duration_s


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_threshold_and_probes_once() -> None:
    clock = Clock()
    changes: list[str] = []
    breaker = CircuitBreaker(failure_threshold=3, open_s=10, clock=clock, on_change=changes.append)
    for _ in range(2):
        assert breaker.try_acquire()
        breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert breaker.state == "open" and not breaker.try_acquire()
    assert breaker.seconds_until_available() == 10
    clock.now += 10
    assert breaker.state == "half_open"
    assert breaker.try_acquire()          # the probe
    assert not breaker.try_acquire()      # nobody else while it is out
    breaker.record_success()
    assert breaker.state == "closed" and breaker.consecutive_failures == 0
    assert changes == ["open", "half_open", "closed"]


def test_success_resets_the_consecutive_count() -> None:
    breaker = CircuitBreaker(failure_threshold=2, clock=Clock())
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state == "closed"


def test_failed_probe_doubles_the_open_period_up_to_the_cap() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, open_s=10, max_open_s=25, clock=clock)
    breaker.record_failure()
    periods = []
    for _ in range(3):
        periods.append(breaker.open_until - clock.now)
        clock.now = breaker.open_until
        assert breaker.try_acquire()
        breaker.record_failure()
    assert periods == [10, 20, 25]


def test_release_frees_the_probe_without_a_verdict() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, open_s=1, clock=clock)
    breaker.record_failure()
    clock.now += 1
    assert breaker.try_acquire()
    breaker.release()
    assert breaker.state == "half_open" and breaker.try_acquire()


def test_force_open_never_shortens_an_open_period() -> None:
    clock = Clock()
    breaker = CircuitBreaker(clock=clock)
    breaker.force_open(60)
    breaker.force_open(5)
    assert breaker.seconds_until_available() == 60


def test_retry_budget_ratio_floor_and_cap() -> None:
    clock = Clock()
    budget = RetryBudget(ratio=0.5, min_per_s=0.0, cap=2.0, clock=clock)
    assert budget.try_withdraw() and budget.try_withdraw()   # starts full (cap)
    assert not budget.try_withdraw()
    budget.deposit()
    assert not budget.try_withdraw()                          # 0.5 token
    budget.deposit()
    assert budget.try_withdraw()                              # two first attempts, one retry
    refilling = RetryBudget(ratio=0.0, min_per_s=2.0, cap=3.0, clock=clock)
    for _ in range(3):
        refilling.try_withdraw()
    clock.now += 0.5
    assert refilling.try_withdraw() and not refilling.try_withdraw()
    clock.now += 100
    assert refilling.balance == 3.0


def test_backoff_grows_with_equal_jitter_and_is_capped() -> None:
    rng = random.Random(3)
    for attempt, ceiling in [(0, 0.2), (1, 0.4), (2, 0.8), (6, 2.0)]:
        waits = [backoff_s(attempt, base_s=0.2, max_s=2.0, rng=rng) for _ in range(50)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 1


@pytest.mark.parametrize(("value", "seconds"), [
    ("20", 20.0), ("0.5", 0.5), ("6m0s", 360.0), ("1m30.5s", 90.5), ("250ms", 0.25),
    ("1h", 3600.0), ("soon", None), ("", None), ("5x", None)])
def test_parse_duration(value: str, seconds: float | None) -> None:
    assert parse_duration_s(value) == seconds


def test_cool_down_prefers_ms_then_seconds_then_date_then_ratelimit_reset() -> None:
    assert cool_down_from_headers({"retry-after-ms": "1500", "retry-after": "9"},
                                  throttled=True) == 1.5
    assert cool_down_from_headers({"retry-after": "9"}, throttled=False) == 9.0
    date = "Wed, 21 Oct 2015 07:28:30 GMT"
    assert cool_down_from_headers({"retry-after": date}, throttled=True,
                                  now=1445412500.0) == pytest.approx(10.0)
    resets = {"x-ratelimit-reset-requests": "2", "x-ratelimit-reset-tokens": "1m"}
    assert cool_down_from_headers(resets, throttled=True) == 60.0
    assert cool_down_from_headers(resets, throttled=False) is None
    assert cool_down_from_headers({"retry-after": "99999"}, throttled=True) == 600.0
