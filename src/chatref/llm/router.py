"""The model router: one ``ChatModel`` over several endpoints (regions, PTU and pay-as-you-go).

What it promises the chat flow:

- Failures before the first token are invisible: the router fails over at once to the next
  endpoint (lower ``priority`` first, ``weight``-ed random within a priority).
- A failure after tokens ends the stream with ``ModelStreamInterruptedError`` carrying the
  partial text; nothing is retried (the user already saw part of an answer).
- Content-filter refusals and 400s are raised as they are: another region would answer the same.
- A 401/403 is retried once on the same endpoint after refreshing the Entra ID token; if it
  persists, or on a 404, the endpoint is marked misconfigured (shown by ``health()``) and left.
- When every endpoint is out, the router waits with jittered exponential backoff for those that
  failed only transiently (circuit still closed) — never longer than ``max_wait_s`` in total,
  never spending more than each endpoint's retry budget — and then raises
  ``ModelUnavailableError`` before any token: the chat flow answers extractively. Endpoints
  whose circuit is open are not waited for.

Each endpoint has a circuit breaker (llm/circuit.py): opened by consecutive failures or by a
throttling response whose Retry-After is long; while open, no request goes there except one probe
when it half-opens. Short Retry-After / retry-after-ms / x-ratelimit-reset-* hints keep the
endpoint out for that long without opening the circuit. Example::

    router = ModelRouter([RoutedEndpoint(model_a, priority=1), RoutedEndpoint(model_b, priority=2)])
    async for event in router.stream(messages, max_tokens=800):
        ...
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field, replace

from chatref.errors import (
    ContentFilteredError,
    ModelEndpointError,
    ModelError,
    ModelStreamInterruptedError,
    ModelUnavailableError,
)
from chatref.llm.base import (
    ChatMessage,
    ChatModel,
    EndpointHealth,
    ModelDelta,
    ModelEvent,
    ModelHealth,
    complete_from_stream,
)
from chatref.llm.circuit import CircuitBreaker, CircuitState, Clock, RetryBudget, backoff_s
from chatref.telemetry import Telemetry


@dataclass(frozen=True)
class RouterPolicy:
    """The router's knobs. The defaults suit production; tests and drills shrink the times."""

    failure_threshold: int = 3          # consecutive failures that open a circuit
    open_s: float = 30.0                # first open period (doubles after a failed probe)
    max_open_s: float = 300.0
    long_retry_after_s: float = 10.0    # a Retry-After at least this long opens the circuit
    misconfigured_open_s: float = 300.0  # 404 / persistent 401: out this long, then one probe
    backoff_base_s: float = 0.2
    backoff_max_s: float = 2.0
    max_wait_s: float = 4.0             # most one chat waits, in total, when everything is out
    max_attempts: int = 6               # attempts per chat, failovers included
    retry_budget_ratio: float = 0.2
    retry_budget_min_per_s: float = 1.0
    retry_budget_cap: float = 10.0


@dataclass
class RoutedEndpoint:
    """One endpoint as the router sees it: a ChatModel plus where it sits in the order."""

    model: ChatModel
    priority: int = 1
    weight: float = 1.0
    kind: str = "paygo"


@dataclass
class _Endpoint:
    spec: RoutedEndpoint
    breaker: CircuitBreaker
    budget: RetryBudget
    cool_down_until: float = 0.0
    config_error: str | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.model.name


class _FailOver(Exception):  # noqa: N818 - a signal inside the router, never seen outside
    """The endpoint failed before relaying anything: the chat may go on elsewhere."""

    def __init__(self, cause: ModelError) -> None:
        super().__init__(cause.message)
        self.cause = cause


@dataclass
class _ChatProgress:
    """Where one chat is in its tour of the endpoints."""

    out_for_round: set[str] = field(default_factory=set)  # tried since the last backoff
    out_for_chat: set[str] = field(default_factory=set)   # their retry budget refused this chat
    tries: Counter[str] = field(default_factory=Counter)  # requests sent, per endpoint
    attempts: int = 0
    backoffs: int = 0
    waited_s: float = 0.0

    def started(self, endpoint: str) -> None:
        self.tries[endpoint] += 1
        self.attempts += 1

    def backed_off(self, delay_s: float) -> None:
        self.waited_s += delay_s
        self.backoffs += 1
        self.out_for_round.clear()


def _reason(error: ModelError) -> str:
    return error.reason if isinstance(error, ModelEndpointError) else "server_error"


class ModelRouter:
    """A ``ChatModel`` that routes each chat to the best endpoint that can answer now."""

    def __init__(self, endpoints: Sequence[RoutedEndpoint], *, name: str = "router",
                 policy: RouterPolicy | None = None, telemetry: Telemetry | None = None,
                 clock: Clock = time.monotonic, rng: random.Random | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if not endpoints:
            raise ValueError("the router needs at least one endpoint")
        self._name = name
        self.policy = policy or RouterPolicy()
        self.telemetry = telemetry
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._sleep = sleep
        self._endpoints = [self._wrap(spec) for spec in endpoints]

    def _wrap(self, spec: RoutedEndpoint) -> _Endpoint:
        p = self.policy
        telemetry, name = self.telemetry, spec.model.name

        def on_change(state: CircuitState) -> None:
            if telemetry is not None:
                telemetry.circuit_state(name, state)

        breaker = CircuitBreaker(failure_threshold=p.failure_threshold, open_s=p.open_s,
                                 max_open_s=p.max_open_s, clock=self._clock, on_change=on_change)
        budget = RetryBudget(ratio=p.retry_budget_ratio, min_per_s=p.retry_budget_min_per_s,
                             cap=p.retry_budget_cap, clock=self._clock)
        if telemetry is not None:
            telemetry.circuit_state(name, "closed")
        return _Endpoint(spec, breaker, budget)

    @property
    def name(self) -> str:
        return self._name

    # --- choosing --------------------------------------------------------------------------
    def _usable(self, endpoint: _Endpoint) -> bool:
        return self._clock() >= endpoint.cool_down_until and endpoint.breaker.available()

    def _pick(self, exclude: set[str]) -> _Endpoint | None:
        usable = [e for e in self._endpoints if e.name not in exclude and self._usable(e)]
        if not usable:
            return None
        best = min(e.spec.priority for e in usable)
        group = [e for e in usable if e.spec.priority == best]
        if len(group) == 1:
            return group[0]
        return self._rng.choices(group, weights=[e.spec.weight for e in group])[0]

    # --- streaming -------------------------------------------------------------------------
    async def stream(self, messages: Sequence[ChatMessage], *, max_tokens: int,
                     temperature: float = 0.0) -> AsyncGenerator[ModelEvent, None]:
        chat = _ChatProgress()
        while True:
            endpoint = self._next_endpoint(chat)
            if endpoint is None:
                delay = self._next_delay(chat.backoffs, chat.waited_s, chat.attempts,
                                         chat.out_for_chat)
                if delay is None:
                    self._give_up()
                    raise ModelUnavailableError(self._unavailable_message())
                await self._sleep(delay)
                chat.backed_off(delay)
                continue
            try:
                answer = self._answer_from(endpoint, chat, messages, max_tokens, temperature)
                async with aclosing(answer):
                    async for event in answer:
                        yield event
                return
            except _FailOver as failed:
                if chat.attempts >= self.policy.max_attempts:
                    self._give_up()
                    raise ModelUnavailableError(self._unavailable_message()) from failed.cause

    def _next_endpoint(self, chat: _ChatProgress) -> _Endpoint | None:
        """The next endpoint to try in this round, admitted by its retry budget and circuit."""
        while (endpoint := self._pick(chat.out_for_round | chat.out_for_chat)) is not None:
            chat.out_for_round.add(endpoint.name)
            if not chat.tries[endpoint.name]:
                endpoint.budget.deposit()
            elif not endpoint.budget.try_withdraw():
                if self.telemetry is not None:
                    self.telemetry.retry_budget_exhausted(endpoint.name)
                chat.out_for_chat.add(endpoint.name)
                continue
            elif self.telemetry is not None:
                self.telemetry.retry(endpoint.name)
            if endpoint.breaker.try_acquire():
                chat.started(endpoint.name)
                return endpoint
        return None

    async def _answer_from(self, endpoint: _Endpoint, chat: _ChatProgress,
                           messages: Sequence[ChatMessage], max_tokens: int,
                           temperature: float) -> AsyncGenerator[ModelEvent, None]:
        """Relay ``endpoint``'s answer; a 401 is tried once more after a credential refresh.

        Raises ``_FailOver`` when the endpoint failed before relaying anything.
        """
        for first_try in (True, False):
            try:
                relay = self._relay(endpoint, messages, max_tokens, temperature)
                async with aclosing(relay):
                    async for event in relay:
                        yield event
                return
            except _FailOver as failed:
                if first_try and _reason(failed.cause) == "auth":
                    endpoint.breaker.release()
                    endpoint.spec.model.refresh_credentials()
                    if endpoint.breaker.try_acquire():
                        chat.started(endpoint.name)
                        continue
                    raise
                self._record_unanswered(endpoint, failed.cause)
                raise

    async def _relay(self, endpoint: _Endpoint, messages: Sequence[ChatMessage],
                     max_tokens: int, temperature: float) -> AsyncGenerator[ModelEvent, None]:
        """One request to ``endpoint``: its events, and its verdict for the circuit breaker."""
        parts: list[str] = []
        verdict = False
        try:
            inner = endpoint.spec.model.stream(messages, max_tokens=max_tokens,
                                               temperature=temperature)
            async with aclosing(inner):
                async for event in inner:
                    if isinstance(event, ModelDelta):
                        parts.append(event.text)
                        yield event
                        continue
                    self._succeeded(endpoint)
                    verdict = True
                    yield replace(event, endpoint=endpoint.name)
                    return
            raise ModelEndpointError(f"{endpoint.name}: the stream ended without an answer",
                                     endpoint=endpoint.name, reason="connection")
        except ContentFilteredError:
            self._succeeded(endpoint)  # the endpoint works; the prompt is the problem
            verdict = True
            raise
        except ModelError as exc:
            verdict = True
            if parts or isinstance(exc, ModelStreamInterruptedError):
                self._failed(endpoint, "interrupted", str(exc), None)
                raise ModelStreamInterruptedError(
                    f"{endpoint.name}: the answer broke off: {exc.message}",
                    partial_text="".join(parts), endpoint=endpoint.name) from exc
            if _reason(exc) == "bad_request":  # another endpoint would refuse it the same way
                self._succeeded(endpoint)
                raise
            raise _FailOver(exc) from exc
        finally:
            if not verdict:  # cancelled or closed by the caller
                if parts:
                    self._succeeded(endpoint)
                else:
                    endpoint.breaker.release()

    def _record_unanswered(self, endpoint: _Endpoint, error: ModelError) -> None:
        reason = _reason(error)
        if reason in ("auth", "not_found"):
            self._misconfigured(endpoint, str(error))
        else:
            retry_after = error.retry_after_s if isinstance(error, ModelEndpointError) else None
            self._failed(endpoint, reason, str(error), retry_after)
        if self.telemetry is not None:
            self.telemetry.failover(endpoint.name, reason)

    def _next_delay(self, backoffs: int, waited_s: float, attempts: int,
                    no_budget: set[str]) -> float | None:
        """How long to back off before trying again, or None to give up now.

        Only endpoints whose circuit is closed are worth waiting for (a transient failure in
        this chat, or a short Retry-After). An open circuit means the endpoint is known to be
        down: the chat then gives up at once and is answered extractively, rather than making
        the user wait; the next chat after the open period is the probe.
        """
        p = self.policy
        if attempts >= p.max_attempts:
            return None
        now = self._clock()
        waits = [max(0.0, e.cool_down_until - now) for e in self._endpoints
                 if e.config_error is None and e.name not in no_budget
                 and e.breaker.state == "closed"]
        if not waits:
            return None
        delay = max(backoff_s(backoffs, base_s=p.backoff_base_s, max_s=p.backoff_max_s,
                              rng=self._rng), min(waits))
        if waited_s + delay > p.max_wait_s:
            return None
        return delay

    # --- bookkeeping -------------------------------------------------------------------------
    def _count(self, endpoint: _Endpoint, outcome: str) -> None:
        endpoint.counts[outcome] = endpoint.counts.get(outcome, 0) + 1

    def _succeeded(self, endpoint: _Endpoint) -> None:
        endpoint.breaker.record_success()
        endpoint.config_error = None
        self._count(endpoint, "success")

    def _failed(self, endpoint: _Endpoint, reason: str, message: str,
                retry_after_s: float | None) -> None:
        self._count(endpoint, reason)
        endpoint.last_error = f"{reason}: {message}"
        endpoint.last_error_at = time.time()
        if retry_after_s is not None and retry_after_s >= self.policy.long_retry_after_s:
            endpoint.breaker.record_failure(open_for_s=retry_after_s)
            return
        endpoint.breaker.record_failure()
        if retry_after_s is not None:
            endpoint.cool_down_until = max(endpoint.cool_down_until,
                                           self._clock() + retry_after_s)

    def _misconfigured(self, endpoint: _Endpoint, message: str) -> None:
        self._count(endpoint, "misconfigured")
        endpoint.config_error = message
        endpoint.last_error = message
        endpoint.last_error_at = time.time()
        endpoint.breaker.record_failure(open_for_s=self.policy.misconfigured_open_s)

    def _give_up(self) -> None:
        if self.telemetry is not None:
            self.telemetry.unavailable()

    def _unavailable_message(self) -> str:
        states = ", ".join(
            f"{e.name}: {e.config_error or e.last_error or e.breaker.state}"
            for e in self._endpoints)
        return f"no chat-model endpoint could answer ({states})"

    # --- the rest of ChatModel ---------------------------------------------------------------
    async def complete(self, messages: Sequence[ChatMessage], *, max_tokens: int,
                       temperature: float = 0.0) -> str:
        return await complete_from_stream(self, messages, max_tokens=max_tokens,
                                          temperature=temperature)

    async def health(self) -> ModelHealth:
        """Per-endpoint circuit state and configuration problems (see ``ModelHealth``)."""
        now = self._clock()
        described: list[EndpointHealth] = []
        for e in self._endpoints:
            for own in (await e.spec.model.health()).endpoints:
                described.append(replace(
                    own, name=e.name, kind=e.spec.kind, priority=e.spec.priority,
                    weight=e.spec.weight, circuit=e.breaker.state, usable=self._usable(e),
                    cool_down_s=round(max(0.0, e.cool_down_until - now,
                                          e.breaker.seconds_until_available()), 3),
                    consecutive_failures=e.breaker.consecutive_failures,
                    config_error=e.config_error, last_error=e.last_error,
                    outcomes=dict(e.counts)))
        usable = sum(1 for d in described if d.usable)
        return ModelHealth(
            status="ok" if usable == len(described) else "degraded" if usable else "unavailable",
            ready=any(d.config_error is None for d in described), endpoints=described,
            problems=[f"{d.name}: configuration error: {d.config_error}"
                      for d in described if d.config_error])

    def refresh_credentials(self) -> bool:
        refreshed = [e.spec.model.refresh_credentials() for e in self._endpoints]
        return any(refreshed)

    async def aclose(self) -> None:
        for e in self._endpoints:
            await e.spec.model.aclose()

    @property
    def endpoints(self) -> list[str]:
        return [e.name for e in self._endpoints]
