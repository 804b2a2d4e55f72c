"""Read one metric sample from a ``Telemetry``'s Prometheus registry (what /metrics shows)."""

from __future__ import annotations

from chatref.telemetry import Telemetry


def sample(telemetry: Telemetry | None, name: str, labels: dict[str, str] | None = None) -> float:
    """The sample's current value; 0.0 when it was never recorded."""
    assert telemetry is not None
    found = telemetry.registry.get_sample_value(name, labels or {})
    return found if found is not None else 0.0
