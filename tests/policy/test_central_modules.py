"""Private endpoints and diagnostic settings made by a central module count for the services
their module call points at (directly or through a local); switched-off resources are skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatref.policy.check import judge
from chatref.policy.engine import run_checkov
from chatref.policy.report import Status

from .conftest import FIXTURES

CENTRAL = FIXTURES / "modules" / "central"


@pytest.mark.parametrize("plan", [False, True], ids=["hcl", "plan"])
def test_central_modules_cover_the_modules_they_point_at(checkov_bin: Path, plan: bool) -> None:
    """With --plan, the .tf files beside plan.json are read for the module calls."""
    target = CENTRAL / "plan.json" if plan else CENTRAL
    records = run_checkov(target, plan=plan, checkov=checkov_bin)
    report = judge(records, target, plan=plan, profile="production")
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


def test_plan_without_sources_beside_it_gets_no_credit(checkov_bin: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text((CENTRAL / "plan.json").read_text())
    records = run_checkov(plan, plan=True, checkov=checkov_bin)
    report = judge(records, plan, plan=True, profile="production")
    failed = {f.resource for f in report.blocking if f.rule_id == "CKV_CHATREF_023"}
    assert "module.vault.azurerm_key_vault.this" in failed


def test_unexpanded_dynamic_block_proves_nothing(checkov_bin: Path) -> None:
    """checkov leaves a dynamic block with an empty for_each as raw `var.x` content; the
    customer-managed key rule must fail that account, not count the block as present."""
    target = FIXTURES / "modules" / "dynamic"
    report = judge(run_checkov(target, plan=False, checkov=checkov_bin), target, plan=False,
                   profile="production")
    cmk = {f.resource: f.status for f in report.findings if f.rule_id == "CKV_CHATREF_014"}
    assert cmk == {
        "module.cmk_on.azurerm_storage_account.this": Status.PASSED,
        "module.cmk_off.azurerm_storage_account.this": Status.FAILED,
    }
    # A replica block whose for_each is empty keeps `location = var.x`: no replica.
    replica = {f.resource: f.status for f in report.findings if f.rule_id == "CKV_CHATREF_018"}
    assert replica == {
        "module.replica_on.azurerm_container_registry.this": Status.PASSED,
        "module.replica_off.azurerm_container_registry.this": Status.FAILED,
    }


def test_app_insights_handed_to_a_central_diagnostics_module_fails(checkov_bin: Path) -> None:
    """Rule 072 through a central module whose targets checkov cannot expand (a merge() of module
    outputs, as in prod): the module call's text names the Application Insights output."""
    target = FIXTURES / "modules" / "central_appi"
    report = judge(run_checkov(target, plan=False, checkov=checkov_bin), target, plan=False,
                   profile="production")
    verdicts = {f.resource.split(".")[1]: f for f in report.findings
                if f.rule_id == "CKV_CHATREF_072"}
    assert verdicts["diag_bad"].status is Status.FAILED
    assert "module.monitoring.application_insights_id" in verdicts["diag_bad"].message
    assert verdicts["diag_ok"].status is Status.PASSED
