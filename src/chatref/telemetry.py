"""Telemetry: Prometheus metrics for /metrics, and OpenTelemetry when Application Insights is set.

One ``Telemetry`` per app instance owns its own ``CollectorRegistry`` (no import-time globals, so
two apps in one process — tests — never share counters). The chat-model metrics are per endpoint;
other parts of chatref may register their own metrics on ``telemetry.registry``. Example::

    telemetry = Telemetry()
    telemetry.model_request("eastus-ptu", outcome="success", duration_s=0.8, ttft_s=0.2)
    body, content_type = telemetry.render()      # what GET /metrics serves
"""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

log = logging.getLogger(__name__)

#: outcomes of one attempt against one endpoint
OUTCOMES = ("success", "content_filter", "throttled", "server_error", "timeout",
            "first_token_timeout", "connection", "interrupted", "bad_request", "auth",
            "not_found")

CIRCUIT_STATES = {"closed": 0, "half_open": 1, "open": 2}

_LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)


class Telemetry:
    """Metrics of one chatref instance (and, optionally, its OpenTelemetry exporters)."""

    def __init__(self, *, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.model_requests = Counter(
            "chatref_llm_requests", "Attempts against a chat-model endpoint, by outcome.",
            ["endpoint", "outcome"], registry=r)
        self.model_latency = Histogram(
            "chatref_llm_request_duration_seconds", "Duration of one attempt, whole answer.",
            ["endpoint"], buckets=_LATENCY_BUCKETS, registry=r)
        self.model_ttft = Histogram(
            "chatref_llm_time_to_first_token_seconds", "Time to the first answer token.",
            ["endpoint"], buckets=_LATENCY_BUCKETS, registry=r)
        self.model_tokens = Counter(
            "chatref_llm_tokens", "Tokens sent to (in) and received from (out) the model.",
            ["endpoint", "direction"], registry=r)
        self.model_failovers = Counter(
            "chatref_llm_failovers", "Times the router left this endpoint for another.",
            ["endpoint", "reason"], registry=r)
        self.model_retries = Counter(
            "chatref_llm_retries", "Re-attempts on this endpoint after backing off.",
            ["endpoint"], registry=r)
        self.model_circuit_state = Gauge(
            "chatref_llm_circuit_state", "Circuit breaker state: 0 closed, 1 half-open, 2 open.",
            ["endpoint"], registry=r)
        self.model_circuit_opened = Counter(
            "chatref_llm_circuit_opened", "Times this endpoint's circuit opened.",
            ["endpoint"], registry=r)
        self.model_unavailable = Counter(
            "chatref_llm_unavailable",
            "Chats for which no endpoint could answer (the chat degrades to extractive).",
            registry=r)
        self.model_retry_budget_exhausted = Counter(
            "chatref_llm_retry_budget_exhausted", "Retries refused by the retry budget.",
            ["endpoint"], registry=r)
        self._otel: Any = None

    # --- chat-model hooks (called by llm/) ---------------------------------------------------
    def model_request(self, endpoint: str, *, outcome: str, duration_s: float,
                      ttft_s: float | None = None, prompt_tokens: int = 0,
                      completion_tokens: int = 0) -> None:
        """Record one attempt against ``endpoint``."""
        self.model_requests.labels(endpoint, outcome).inc()
        self.model_latency.labels(endpoint).observe(duration_s)
        if ttft_s is not None:
            self.model_ttft.labels(endpoint).observe(ttft_s)
        if prompt_tokens:
            self.model_tokens.labels(endpoint, "in").inc(prompt_tokens)
        if completion_tokens:
            self.model_tokens.labels(endpoint, "out").inc(completion_tokens)
        if self._otel is not None:
            self._otel.model_request(endpoint, outcome, duration_s, ttft_s, prompt_tokens,
                                     completion_tokens)

    def circuit_state(self, endpoint: str, state: str) -> None:
        self.model_circuit_state.labels(endpoint).set(CIRCUIT_STATES[state])
        if state == "open":
            self.model_circuit_opened.labels(endpoint).inc()

    def failover(self, endpoint: str, reason: str) -> None:
        self.model_failovers.labels(endpoint, reason).inc()
        if self._otel is not None:
            self._otel.failover(endpoint, reason)

    def retry(self, endpoint: str) -> None:
        self.model_retries.labels(endpoint).inc()

    def retry_budget_exhausted(self, endpoint: str) -> None:
        self.model_retry_budget_exhausted.labels(endpoint).inc()

    def unavailable(self) -> None:
        self.model_unavailable.inc()

    # --- export ------------------------------------------------------------------------------
    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition of this instance's metrics, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def value(self, name: str, labels: dict[str, str] | None = None) -> float:
        """One sample's current value (0.0 when absent): for tests, drills and benchmarks."""
        found = self.registry.get_sample_value(name, labels or {})
        return found if found is not None else 0.0
