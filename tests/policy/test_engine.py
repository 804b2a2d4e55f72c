"""The checkov boundary: finding the binary, tfvars, and reading every shape of its JSON."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from chatref.errors import ConfigurationError
from chatref.policy.check import judge
from chatref.policy.engine import find_checkov, parse_checkov_json, run_checkov
from chatref.policy.report import Status
from chatref.settings import Settings

VAULT = """
variable "purge" {
  type        = bool
  description = "Purge protection."
}

resource "azurerm_key_vault" "kv" {
  name                     = "chatref-prod-kv"
  location                 = "westeurope"
  resource_group_name      = "chatref-prod-rg"
  tenant_id                = "00000000-0000-0000-0000-000000000000"
  sku_name                 = "premium"
  purge_protection_enabled = var.purge
}
"""


def _purge_status(folder: Path, checkov: Path, var_files: tuple[Path, ...] = ()) -> tuple[
    Status, str
]:
    records = run_checkov(folder, plan=False, checkov=checkov, var_files=var_files)
    report = judge(records, folder, plan=False, profile="production")
    (finding,) = [f for f in report.findings if f.rule_id == "CKV_CHATREF_004"]
    return finding.status, finding.message


def test_unresolved_variable_fails_and_var_file_resolves_it(
    tmp_path: Path, checkov_bin: Path
) -> None:
    (tmp_path / "main.tf").write_text(VAULT)
    status, message = _purge_status(tmp_path, checkov_bin)
    assert status is Status.FAILED
    assert "cannot be resolved statically" in message
    tfvars = tmp_path / "prod.tfvars.example"
    tfvars.write_text("purge = true\n")
    assert _purge_status(tmp_path, checkov_bin, (tfvars,))[0] is Status.PASSED


def test_find_checkov_prefers_explicit_then_environment(
    tmp_path: Path, checkov_bin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert find_checkov(checkov_bin) == checkov_bin
    monkeypatch.setenv("CHATREF_CHECKOV", str(checkov_bin))
    assert find_checkov(Settings().chatref_checkov) == checkov_bin
    not_executable = tmp_path / "checkov"
    not_executable.write_text("#!/bin/sh\n")
    os.chmod(not_executable, 0o644)
    with pytest.raises(ConfigurationError, match="make checkov"):
        find_checkov(not_executable)


def _item(check_id: str) -> dict[str, object]:
    return {
        "check_id": check_id, "check_name": "n", "resource": "azurerm_x.y",
        "file_path": "/main.tf", "file_abs_path": "/repo/main.tf", "file_line_range": [3, 7],
        "check_result": {"result": "FAILED"}, "details": ["d"],
    }


def test_parse_reads_single_list_and_summary_outputs(tmp_path: Path) -> None:
    one = {"check_type": "terraform", "results": {
        "passed_checks": [], "failed_checks": [_item("CKV_A")], "skipped_checks": []}}
    two = [one, {"check_type": "terraform", "results": {
        "passed_checks": [_item("CKV_B")], "failed_checks": [], "skipped_checks": []}}]
    summary_only = {"passed": 0, "failed": 0, "skipped": 0, "resource_count": 0}
    assert [r.check_id for r in parse_checkov_json(json.dumps(one), tmp_path)] == ["CKV_A"]
    records = parse_checkov_json(json.dumps(two), tmp_path)
    assert [(r.check_id, r.result) for r in records] == [("CKV_A", "failed"), ("CKV_B", "passed")]
    assert records[0].file == Path("/repo/main.tf") and records[0].start_line == 3
    assert parse_checkov_json(json.dumps(summary_only), tmp_path) == []
    with pytest.raises(ConfigurationError, match="not JSON"):
        parse_checkov_json("Traceback (most recent call last):", tmp_path)
