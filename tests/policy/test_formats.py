"""JSON, SARIF 2.1.0 (as GitHub code scanning reads it) and JUnit renderings of one report."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from chatref.policy.engine import CheckRecord
from chatref.policy.formats import render, to_json, to_junit, to_sarif
from chatref.policy.overrides import Override
from chatref.policy.report import Report, evaluate


def _report(tmp_path: Path) -> Report:
    main_tf = tmp_path / "infra" / "main.tf"
    main_tf.parent.mkdir(exist_ok=True)
    main_tf.write_text("# fixture\n")

    def rec(check_id: str, result: str, resource: str) -> CheckRecord:
        return CheckRecord(check_id=check_id, name=f"{check_id} name", result=result,
                           resource=resource, file=main_tf, start_line=4, end_line=12,
                           details=(f"{check_id} detail",))

    return evaluate(
        [
            rec("CKV_CHATREF_004", "failed", "azurerm_key_vault.kv"),  # hard
            rec("CKV_CHATREF_029", "failed", "azurerm_linux_web_app.app"),  # soft, overridden
            rec("CKV_AZURE_1", "failed", "azurerm_linux_web_app.app"),  # builtin: advisory
            rec("CKV_CHATREF_026", "passed", "azurerm_linux_web_app.app"),
        ],
        profile="basic",
        overrides=[Override(rule="CKV_CHATREF_029", reason="probe lands next sprint",
                            approved_by="ops", source="o.toml override #1")],
        target="infra",
        today=dt.date(2026, 11, 26),
    )


def test_json_has_verdict_counts_and_findings(tmp_path: Path) -> None:
    data = json.loads(to_json(_report(tmp_path)))
    assert data["passed"] is False and data["exit_code"] == 1
    assert data["counts"] == {"passed": 1, "failed": 1, "warning": 1, "overridden": 1}
    first = data["findings"][0]
    assert first["rule"] == "CKV_CHATREF_004" and first["status"] == "failed"
    assert first["file"] == "infra/main.tf" and first["start_line"] == 4
    assert first["fix"] and first["rationale"] and first["enforces"]


def test_sarif_is_what_code_scanning_needs(tmp_path: Path) -> None:
    sarif = json.loads(to_sarif(_report(tmp_path)))
    assert sarif["version"] == "2.1.0" and "sarif-2.1.0" in sarif["$schema"]
    (run,) = sarif["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert run["tool"]["driver"]["name"]
    ids = [r["id"] for r in rules]
    assert ids == sorted(set(ids), key=ids.index)  # each rule once
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["help"]["text"]
        assert "Fix:" in rule["help"]["text"]
        assert float(rule["properties"]["security-severity"]) > 0
    results = run["results"]
    assert {r["ruleId"] for r in results} == {"CKV_CHATREF_004", "CKV_CHATREF_029", "CKV_AZURE_1"}
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "infra/main.tf"
        assert location["region"]["startLine"] == 4
        assert result["message"]["text"]
        assert result["level"] in {"error", "warning", "note"}
    by_rule = {r["ruleId"]: r for r in results}
    assert by_rule["CKV_CHATREF_004"]["level"] == "error"
    assert by_rule["CKV_CHATREF_029"]["suppressions"][0]["justification"].startswith("probe")
    assert by_rule["CKV_AZURE_1"]["level"] == "note"


def test_junit_failures_skips_and_counts(tmp_path: Path) -> None:
    root = ET.fromstring(to_junit(_report(tmp_path)))  # noqa: S314 - our own output
    (suite,) = root.findall("testsuite")
    assert suite.get("tests") == "4" and suite.get("failures") == "1"
    assert suite.get("skipped") == "1"
    failures = suite.findall("testcase/failure")
    assert len(failures) == 1 and failures[0].get("type") == "CKV_CHATREF_004"
    assert "Fix:" in (failures[0].text or "")
    assert suite.findall("testcase/skipped")[0].get("message", "").startswith("overridden")


def test_table_names_the_verdict_and_the_fix(tmp_path: Path) -> None:
    text = render(_report(tmp_path), "table")
    assert "FAILED" in text and "CKV_CHATREF_004" in text
    assert "purge_protection_enabled = true" in text
    assert "CKV_CHATREF_026" in text  # in the per-rule counts
    passed_line = "PASSED (hard) CKV_CHATREF_026"
    assert passed_line not in text  # passed findings only with --show-passed
    assert passed_line in render(_report(tmp_path), "table", show_passed=True)
