"""The validator's edge checks (issue 11 findings 8 and 10) fail their bad fixtures and pass the
good ones, and the repository's Terraform passes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatref.infra_validate import load_module_dir
from chatref.infra_validate.edge_checks import check_edge
from tests.infra.conftest import INFRA

FIXTURES = Path(__file__).parent / "fixtures" / "edge"


def _codes(directory: Path) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    check_edge(load_module_dir(directory),
               lambda file, address, code, message: found.append((address, code)))
    return found


def test_an_autoscaled_plan_must_ignore_worker_count() -> None:
    assert _codes(FIXTURES / "autoscale_bad") == [
        ("azurerm_service_plan.this", "autoscale-count")]
    assert _codes(FIXTURES / "autoscale_ok") == []


def test_a_next_hop_must_not_be_a_literal_address() -> None:
    assert sorted(_codes(FIXTURES / "hop_bad")) == [
        ("azurerm_route_table.egress", "literal-next-hop"),
        ("module.routes.firewall_private_ip", "literal-next-hop"),
    ]
    assert _codes(FIXTURES / "hop_ok") == []


@pytest.mark.parametrize("directory", sorted(
    p for p in [*(INFRA / "modules").iterdir(), *(INFRA / "environments").iterdir()]
    if p.is_dir()), ids=lambda p: p.name)
def test_the_repository_passes_the_edge_checks(directory: Path) -> None:
    assert _codes(directory) == []
