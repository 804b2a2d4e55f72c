"""The repository's own environments: prod passes production; dev passes basic and fails
production with the findings the basic architecture is expected to have."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatref.policy.check import default_overrides, judge
from chatref.policy.engine import CheckRecord, run_checkov
from chatref.policy.report import Report, Status

from .conftest import REPO

ENVIRONMENTS = REPO / "infra" / "environments"

# What the basic architecture deliberately lacks, rule by rule (resource counts in brackets).
DEV_PRODUCTION_GAPS = {
    "CKV_CHATREF_004",  # purge protection
    "CKV_CHATREF_005",  # 7-day soft delete
    "CKV_CHATREF_007",  # Key Vault firewall open
    "CKV_CHATREF_014",  # platform-managed keys on storage
    "CKV_CHATREF_015",  # storage firewall open
    "CKV_CHATREF_018",  # no registry replica
    "CKV_CHATREF_020",  # search basic tier
    "CKV_CHATREF_021",  # one search replica
    "CKV_CHATREF_023",  # no private endpoints
    "CKV_CHATREF_025",  # public network access
    "CKV_CHATREF_030",  # registry without diagnostics
    "CKV_CHATREF_031",  # B1 plan, one instance
    "CKV_CHATREF_033",  # one OpenAI region
    "CKV_CHATREF_034",  # 30-day log retention
}


def _scan(env: str, checkov_bin: Path) -> list[CheckRecord]:
    folder = ENVIRONMENTS / env
    if not (folder / "main.tf").is_file():
        pytest.fail(f"{folder} has no main.tf")
    return run_checkov(folder, plan=False, checkov=checkov_bin)


def _judge(env: str, records: list[CheckRecord], profile: str) -> Report:
    folder = ENVIRONMENTS / env
    return judge(records, folder, plan=False, profile=profile,
                 overrides=default_overrides(folder, plan=False))


@pytest.fixture(scope="module")
def prod_records(checkov_bin: Path) -> list[CheckRecord]:
    return _scan("prod", checkov_bin)


@pytest.fixture(scope="module")
def dev_records(checkov_bin: Path) -> list[CheckRecord]:
    return _scan("dev", checkov_bin)


def _blocking(report: Report) -> list[str]:
    return [f"{f.rule_id} {f.resource}: {f.message}" for f in report.blocking]


def test_prod_passes_production(prod_records: list[CheckRecord]) -> None:
    report = _judge("prod", prod_records, "production")
    assert report.exit_code == 0, _blocking(report)
    # The pack really ran: every chatref rule that applies to prod's services passed somewhere.
    passed = {f.rule_id for f in report.with_status(Status.PASSED)}
    assert {"CKV_CHATREF_004", "CKV_CHATREF_009", "CKV_CHATREF_023", "CKV_CHATREF_030",
            "CKV_CHATREF_031", "CKV_CHATREF_033", "CKV_CHATREF_035",
            "CKV_CHATREF_036"} <= passed


def test_dev_passes_basic(dev_records: list[CheckRecord]) -> None:
    report = _judge("dev", dev_records, "basic")
    assert report.exit_code == 0, _blocking(report)
    # Dev turns purge protection off on purpose, with a recorded reason (policy-overrides.toml).
    purge = [f for f in report.findings if f.rule_id == "CKV_CHATREF_004"]
    assert purge and all(f.status is Status.OVERRIDDEN and f.override_reason for f in purge)


def test_dev_fails_production_with_the_expected_findings(dev_records: list[CheckRecord]) -> None:
    report = _judge("dev", dev_records, "production")
    assert report.exit_code == 1
    failed = {f.rule_id for f in report.blocking}
    assert failed == DEV_PRODUCTION_GAPS, _blocking(report)


def test_prod_with_ai_foundry_switched_on_passes_production(
    checkov_bin: Path, tmp_path: Path
) -> None:
    """The optional AI Foundry hub, when enabled, is private, diagnosed and hardened too."""
    folder = ENVIRONMENTS / "prod"
    example = (folder / "terraform.tfvars.example").read_text()
    assert "ai_foundry_enabled" in example
    tfvars = tmp_path / "foundry.tfvars"
    tfvars.write_text(
        "\n".join(
            "ai_foundry_enabled = true" if line.split("=")[0].strip() == "ai_foundry_enabled"
            else line
            for line in example.splitlines()
        )
    )
    records = run_checkov(folder, plan=False, checkov=checkov_bin, var_files=(tfvars,))
    report = _judge("prod", records, "production")
    assert report.exit_code == 0, _blocking(report)
    hub = [f for f in report.findings if "azurerm_ai_foundry.this" in f.resource
           and f.rule_id in ("CKV_CHATREF_019", "CKV_CHATREF_023", "CKV_CHATREF_030")]
    assert {f.rule_id for f in hub} == {"CKV_CHATREF_019", "CKV_CHATREF_023", "CKV_CHATREF_030"}
    assert all(f.status is Status.PASSED for f in hub)
