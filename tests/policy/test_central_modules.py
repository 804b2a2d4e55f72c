"""Private endpoints and diagnostic settings made by a central module count for the services
their module call points at (directly or through a local); switched-off resources are skipped."""

from __future__ import annotations

from pathlib import Path

from chatref.policy.check import judge
from chatref.policy.engine import run_checkov
from chatref.policy.report import Status

from .conftest import FIXTURES

CENTRAL = FIXTURES / "modules" / "central"


def test_central_modules_cover_the_modules_they_point_at(checkov_bin: Path) -> None:
    records = run_checkov(CENTRAL, plan=False, checkov=checkov_bin)
    report = judge(records, CENTRAL, plan=False, profile="production")
    verdicts = {
        (f.rule_id, f.resource): f.status
        for f in report.findings
        if f.rule_id in ("CKV_CHATREF_023", "CKV_CHATREF_030")
    }
    vault = "module.vault.azurerm_key_vault.this"
    store = "module.store.azurerm_storage_account.this"
    assert verdicts[("CKV_CHATREF_023", vault)] is Status.PASSED  # through local.endpoints
    assert verdicts[("CKV_CHATREF_030", vault)] is Status.PASSED  # through module.diag's map
    assert verdicts[("CKV_CHATREF_023", store)] is Status.FAILED
    assert verdicts[("CKV_CHATREF_030", store)] is Status.FAILED
    # The endpoint and diagnostic resources themselves are not judged by these rules.
    assert not any("private_endpoint" in r or "diagnostic" in r for _, r in verdicts)
    # A count = 0 service fails nothing.
    assert not any("azurerm_search_service" in f.resource for f in report.blocking)
    passed = [f for f in report.findings if f.resource == vault and f.rule_id == "CKV_CHATREF_023"]
    assert passed[0].message == "reached through module.endpoints"
