"""Telemetry: Prometheus metrics for /metrics, and OpenTelemetry when Application Insights is set.

One ``Telemetry`` per app instance owns its own ``CollectorRegistry`` (no import-time globals, so
two apps in one process — tests — never share counters). The chat-model metrics are per endpoint;
other parts of chatref may register their own metrics on ``telemetry.registry``.

``Telemetry.from_settings`` also sends the model metrics through OpenTelemetry to Application
Insights when APPLICATIONINSIGHTS_CONNECTION_STRING is set (a private ``MeterProvider``, not the
global one; ``shutdown()`` flushes it). Example::

    telemetry = Telemetry.from_settings(settings)
    telemetry.model_request("eastus-ptu", outcome="success", duration_s=0.8, ttft_s=0.2)
    body, content_type = telemetry.render()      # what GET /metrics serves
    telemetry.shutdown()
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider

    from chatref.settings import Settings

log = logging.getLogger(__name__)

#: outcomes of one attempt against one endpoint
OUTCOMES = ("success", "content_filter", "throttled", "server_error", "timeout",
            "first_token_timeout", "connection", "interrupted", "bad_request", "auth",
            "not_found")

CIRCUIT_STATES = {"closed": 0, "half_open": 1, "open": 2}

_LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)


class Telemetry:
    """Metrics of one chatref instance (and, optionally, its OpenTelemetry exporters)."""

    def __init__(self, *, registry: CollectorRegistry | None = None,
                 meter_provider: MeterProvider | None = None) -> None:
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
        self.model_reasoning_tokens = Counter(
            "chatref_llm_reasoning_tokens", "Hidden reasoning tokens a reasoning model spent "
            "(part of the out tokens, billed, never shown).", ["endpoint"], registry=r)
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
        self._otel: _OtelModelMetrics | None = None
        self._meter_provider = meter_provider
        if meter_provider is not None:
            self._otel = _OtelModelMetrics(meter_provider)

    @classmethod
    def from_settings(cls, settings: Settings) -> Telemetry:
        """Prometheus always; OpenTelemetry to Application Insights when it is configured."""
        secret = settings.applicationinsights_connection_string
        if secret is None or not secret.get_secret_value().strip():
            return cls()
        from azure.monitor.opentelemetry.exporter import AzureMonitorMetricExporter
        from opentelemetry.sdk.metrics import MeterProvider as SdkMeterProvider
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
        from opentelemetry.sdk.resources import Resource

        # Production turns Application Insights' key-based ingestion off: with a user-assigned
        # identity configured (AZURE_CLIENT_ID, set by Terraform), export with an Entra ID token
        # of that identity (it holds Monitoring Metrics Publisher). Without one, the
        # connection string's key is used, as on a developer's machine.
        credential: dict[str, Any] = {}
        if settings.azure_client_id:
            from chatref.azure_credentials import managed_identity_credential

            credential["credential"] = managed_identity_credential(settings.azure_client_id)
        # offline retries are kept under the data dir, not in the shared temp dir
        exporter = AzureMonitorMetricExporter(
            connection_string=secret.get_secret_value(),
            storage_directory=str(settings.chatref_data_dir / "appinsights"), **credential)
        reader = PeriodicExportingMetricReader(exporter, export_interval_millis=60_000)
        provider = SdkMeterProvider(metric_readers=[reader],
                                    resource=Resource.create({"service.name": "chatref"}))
        return cls(meter_provider=provider)

    def shutdown(self) -> None:
        """Flush and stop the OpenTelemetry exporter (no-op without one)."""
        shutdown = getattr(self._meter_provider, "shutdown", None)
        if callable(shutdown):
            shutdown()

    # --- chat-model hooks (called by llm/) ---------------------------------------------------
    def model_request(self, endpoint: str, *, outcome: str, duration_s: float,
                      ttft_s: float | None = None, prompt_tokens: int = 0,
                      completion_tokens: int = 0, reasoning_tokens: int = 0) -> None:
        """Record one attempt against ``endpoint`` (``reasoning_tokens`` are part of
        ``completion_tokens``)."""
        self.model_requests.labels(endpoint, outcome).inc()
        self.model_latency.labels(endpoint).observe(duration_s)
        if ttft_s is not None:
            self.model_ttft.labels(endpoint).observe(ttft_s)
        if prompt_tokens:
            self.model_tokens.labels(endpoint, "in").inc(prompt_tokens)
        if completion_tokens:
            self.model_tokens.labels(endpoint, "out").inc(completion_tokens)
        if reasoning_tokens:
            self.model_reasoning_tokens.labels(endpoint).inc(reasoning_tokens)
        if self._otel is not None:
            self._otel.model_request(endpoint, outcome, duration_s, ttft_s, prompt_tokens,
                                     completion_tokens, reasoning_tokens)

    def circuit_state(self, endpoint: str, state: str) -> None:
        self.model_circuit_state.labels(endpoint).set(CIRCUIT_STATES[state])
        if state == "open":
            self.model_circuit_opened.labels(endpoint).inc()
        if self._otel is not None:
            self._otel.circuit_state(endpoint, state)

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
        if self._otel is not None:
            self._otel.unavailable.add(1)

    # --- export ------------------------------------------------------------------------------
    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition of this instance's metrics, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _OtelModelMetrics:
    """The same model metrics as OpenTelemetry instruments (names use dots, units in seconds)."""

    def __init__(self, provider: MeterProvider) -> None:
        from opentelemetry.metrics import CallbackOptions, Observation

        meter = provider.get_meter("chatref.llm")
        self.requests = meter.create_counter(
            "chatref.llm.requests", description="Attempts against a chat-model endpoint.")
        self.duration = meter.create_histogram(
            "chatref.llm.request.duration", unit="s", description="Duration of one attempt.")
        self.ttft = meter.create_histogram(
            "chatref.llm.time_to_first_token", unit="s", description="Time to the first token.")
        self.tokens = meter.create_counter("chatref.llm.tokens", unit="{token}")
        self.reasoning_tokens = meter.create_counter("chatref.llm.reasoning_tokens",
                                                     unit="{token}")
        self.failovers = meter.create_counter("chatref.llm.failovers")
        self.unavailable = meter.create_counter("chatref.llm.unavailable")
        self._states: dict[str, int] = {}

        def observe(options: CallbackOptions) -> list[Observation]:
            return [Observation(value, {"endpoint": endpoint})
                    for endpoint, value in self._states.items()]

        meter.create_observable_gauge("chatref.llm.circuit_state", callbacks=[observe],
                                      description="0 closed, 1 half-open, 2 open.")

    def model_request(self, endpoint: str, outcome: str, duration_s: float,
                      ttft_s: float | None, prompt_tokens: int, completion_tokens: int,
                      reasoning_tokens: int = 0) -> None:
        self.requests.add(1, {"endpoint": endpoint, "outcome": outcome})
        self.duration.record(duration_s, {"endpoint": endpoint})
        if ttft_s is not None:
            self.ttft.record(ttft_s, {"endpoint": endpoint})
        if prompt_tokens:
            self.tokens.add(prompt_tokens, {"endpoint": endpoint, "direction": "in"})
        if completion_tokens:
            self.tokens.add(completion_tokens, {"endpoint": endpoint, "direction": "out"})
        if reasoning_tokens:
            self.reasoning_tokens.add(reasoning_tokens, {"endpoint": endpoint})

    def failover(self, endpoint: str, reason: str) -> None:
        self.failovers.add(1, {"endpoint": endpoint, "reason": reason})

    def circuit_state(self, endpoint: str, state: str) -> None:
        self._states[endpoint] = CIRCUIT_STATES[state]
