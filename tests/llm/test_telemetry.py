"""Telemetry: a registry per instance, Prometheus text, and the OpenTelemetry path."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.identity import ManagedIdentityCredential
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from chatref.settings import Settings
from chatref.telemetry import Telemetry
from tests.llm.metrics import sample


def test_each_instance_has_its_own_registry() -> None:
    first, second = Telemetry(), Telemetry()
    first.model_request("a", outcome="success", duration_s=0.1)
    success = {"endpoint": "a", "outcome": "success"}
    assert sample(first, "chatref_llm_requests_total", success) == 1
    assert sample(second, "chatref_llm_requests_total", success) == 0


def test_render_is_prometheus_text() -> None:
    telemetry = Telemetry()
    telemetry.circuit_state("east", "open")
    telemetry.unavailable()
    body, content_type = telemetry.render()
    assert content_type.startswith("text/plain; version=")
    assert b'chatref_llm_circuit_state{endpoint="east"} 2.0' in body
    assert b'chatref_llm_circuit_opened_total{endpoint="east"} 1.0' in body
    assert b"chatref_llm_unavailable_total 1.0" in body


def test_model_metrics_also_go_to_opentelemetry() -> None:
    reader = InMemoryMetricReader()
    telemetry = Telemetry(meter_provider=MeterProvider(metric_readers=[reader]))
    telemetry.model_request("east", outcome="throttled", duration_s=0.2, ttft_s=None)
    telemetry.model_request("west", outcome="success", duration_s=0.5, ttft_s=0.1,
                            prompt_tokens=30, completion_tokens=12)
    telemetry.failover("east", "throttled")
    telemetry.circuit_state("east", "open")
    data = reader.get_metrics_data()
    assert data is not None
    points: dict[str, list[tuple[dict[str, object], object]]] = {}
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                points[metric.name] = [(dict(p.attributes or {}), getattr(p, "value", None))
                                       for p in metric.data.data_points]
    assert ({"endpoint": "east", "outcome": "throttled"}, 1) in points["chatref.llm.requests"]
    assert ({"endpoint": "west", "direction": "out"}, 12) in points["chatref.llm.tokens"]
    assert ({"endpoint": "east", "reason": "throttled"}, 1) in points["chatref.llm.failovers"]
    assert ({"endpoint": "east"}, 2) in points["chatref.llm.circuit_state"]
    assert "chatref.llm.time_to_first_token" in points
    telemetry.shutdown()


def test_without_a_connection_string_there_is_no_exporter() -> None:
    telemetry = Telemetry.from_settings(Settings())
    assert telemetry._otel is None
    telemetry.shutdown()


def test_connection_string_builds_the_azure_monitor_exporter(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the exporter's own usage telemetry (statsbeat to Microsoft, SDK stats with their own
    # offline storage in /tmp): off in tests
    monkeypatch.setenv("APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL", "true")
    monkeypatch.setenv("APPLICATIONINSIGHTS_SDKSTATS_DISABLED", "true")
    monkeypatch.setenv("APPLICATIONINSIGHTS_CONNECTION_STRING",
                       "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
                       "IngestionEndpoint=http://127.0.0.1:9/")
    telemetry = Telemetry.from_settings(Settings())
    assert telemetry._otel is not None
    provider = telemetry._meter_provider
    assert isinstance(provider, MeterProvider)
    # not shut down here: that would try to export to 127.0.0.1:9; the reader is a daemon
    provider.shutdown(timeout_millis=1)
    assert not list(Path("/tmp").glob("Microsoft-AzureMonitor-*")), "offline storage in /tmp"


@pytest.mark.parametrize("client_id", [None, "11111111-2222-3333-4444-555555555555"])
def test_a_managed_identity_exports_with_entra_id_instead_of_the_key(
        monkeypatch: pytest.MonkeyPatch, client_id: str | None) -> None:
    # production turns key-based ingestion off: AZURE_CLIENT_ID means "use that identity"
    monkeypatch.setenv("APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL", "true")
    monkeypatch.setenv("APPLICATIONINSIGHTS_SDKSTATS_DISABLED", "true")
    monkeypatch.setenv("APPLICATIONINSIGHTS_CONNECTION_STRING",
                       "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
                       "IngestionEndpoint=http://127.0.0.1:9/")
    if client_id:
        monkeypatch.setenv("AZURE_CLIENT_ID", client_id)
    telemetry = Telemetry.from_settings(Settings())
    provider = telemetry._meter_provider
    assert isinstance(provider, MeterProvider)
    (reader,) = provider._measurement_consumer._reader_storages  # this provider's one reader
    exporter = reader._exporter
    if client_id:
        assert isinstance(exporter._credential, ManagedIdentityCredential)
    else:
        assert exporter._credential is None
    provider.shutdown(timeout_millis=1)
