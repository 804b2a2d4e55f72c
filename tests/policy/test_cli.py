"""`chatref policy check` end to end: the real CLI, the real checkov, exit statuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from chatref.policy.catalog import RULES

from .conftest import FIXTURES

CHATREF = str(Path(sys.executable).parent / "chatref")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHATREF, "policy", "check", *args], capture_output=True, text=True, timeout=300,
        env={**os.environ, "COLUMNS": "120", **(env or {})}, check=False,
    )


def test_failing_configuration_exits_1_and_names_rule_file_and_fix() -> None:
    done = run(str(FIXTURES / "hcl" / "CKV_CHATREF_004" / "fail"), "--profile", "production")
    assert done.returncode == 1, done.stderr
    assert "FAILED (hard) CKV_CHATREF_004" in done.stdout
    assert "main.tf:1" in done.stdout
    assert "fix: Set purge_protection_enabled = true." in done.stdout


def test_passing_configuration_exits_0() -> None:
    # A tagged resource group meets the basic profile (the rest is advisory there).
    done = run(str(FIXTURES / "hcl" / "CKV_CHATREF_002" / "pass"), "--profile", "basic")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASSED" in done.stdout


def test_soft_failure_overridden_by_file_exits_0(tmp_path: Path) -> None:
    target = FIXTURES / "hcl" / "CKV_CHATREF_002" / "fail"
    assert run(str(target), "--profile", "basic").returncode == 1
    overrides = tmp_path / "exceptions.toml"
    overrides.write_text(
        '[[override]]\nrule = "CKV_CHATREF_002"\n'
        'reason = "tags are applied by Azure Policy in this subscription"\n'
        'approved_by = "platform-team"\n'
    )
    done = run(str(target), "--profile", "basic", "--overrides", str(overrides))
    assert done.returncode == 0, done.stdout
    assert "override: tags are applied by Azure Policy" in done.stdout


def test_plan_json_sarif_to_file(tmp_path: Path) -> None:
    out = tmp_path / "policy.sarif"
    done = run("--plan", str(FIXTURES / "plan" / "CKV_CHATREF_009" / "fail.json"),
               "--format", "sarif", "--output", str(out))
    assert done.returncode == 1
    assert "blocking" in done.stderr  # the one-line summary goes to stderr
    sarif = json.loads(out.read_text())
    results = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "CKV_CHATREF_009"]
    assert results and results[0]["level"] == "error"
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(
        "fail.json"
    )


def test_junit_and_json_go_to_stdout() -> None:
    target = str(FIXTURES / "hcl" / "CKV_CHATREF_026" / "fail")
    as_json = run(target, "--format", "json")
    assert json.loads(as_json.stdout)["exit_code"] == 1
    junit = run(target, "--format", "junit")
    assert junit.stdout.startswith("<?xml") and "<failure" in junit.stdout


def test_missing_checkov_is_a_clear_error() -> None:
    done = run(str(FIXTURES / "hcl" / "CKV_CHATREF_004" / "fail"),
               env={"CHATREF_CHECKOV": "/nonexistent/checkov"})
    assert done.returncode == 2
    assert "make checkov" in done.stderr and "/nonexistent/checkov" in done.stderr


def test_bad_arguments_are_clear_errors(tmp_path: Path) -> None:
    bad_profile = run(str(tmp_path), "--profile", "staging")
    assert bad_profile.returncode == 2 and "--profile 'staging'" in bad_profile.stderr
    no_tf = run(str(tmp_path))
    assert no_tf.returncode == 2 and "holds no .tf files" in no_tf.stderr
    not_plan = tmp_path / "plan.json"
    not_plan.write_text('{"hello": 1}')
    done = run("--plan", str(not_plan))
    assert done.returncode == 2 and "not a Terraform plan" in done.stderr


def test_rules_lists_the_pack_per_profile() -> None:
    done = subprocess.run([CHATREF, "policy", "rules", "--json"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    rules = {r["id"]: r for r in json.loads(done.stdout)}
    assert set(rules) == set(RULES)
    assert rules["CKV_CHATREF_018"]["levels"] == {"basic": None, "production": "hard"}
    basic = subprocess.run([CHATREF, "policy", "rules", "--profile", "basic", "--json"],
                           capture_output=True, text=True, timeout=60, check=False)
    assert "CKV_CHATREF_018" not in {r["id"] for r in json.loads(basic.stdout)}
