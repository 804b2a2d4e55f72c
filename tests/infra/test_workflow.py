"""The infra workflow: checks on pull requests, gated applies from main, OIDC and no secrets."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from tests.conftest import REPO_ROOT

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "infra.yml"


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def steps_text(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) + str(step.get("uses", "")) for step in job["steps"])


def test_runs_on_pull_requests_and_main(workflow: dict[Any, Any]) -> None:
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert "pull_request" in triggers
    assert triggers["push"]["branches"] == ["main"]


def test_static_job_runs_fmt_validators_checkov_and_policy(workflow: dict[Any, Any]) -> None:
    text = steps_text(workflow["jobs"]["static"])
    for command in ("terraform fmt -check", "scripts/tfvalidate.py infra", "tfdocs.py --check",
                    "terraform -chdir=infra/environments/$env validate", "pytest -q tests/infra",
                    "chatref policy check infra/environments/prod --profile production"):
        assert command in text, command


def test_plan_is_checked_by_the_policy_command(workflow: dict[Any, Any]) -> None:
    plan = workflow["jobs"]["plan"]
    assert plan["if"] == "github.event_name == 'pull_request'"
    text = steps_text(plan)
    assert "terraform show -json tfplan > plan.json" in text
    assert "chatref policy check --plan plan.json" in text


def test_applies_are_per_environment_from_main_prod_behind_approval(
    workflow: dict[Any, Any],
) -> None:
    dev, prod = workflow["jobs"]["apply-dev"], workflow["jobs"]["apply-prod"]
    for job in (dev, prod):
        assert "refs/heads/main" in job["if"]
        text = steps_text(job)
        assert text.index("policy check --plan") < text.index("terraform apply")
        assert "terraform apply -input=false -lock-timeout=5m tfplan" in text
        assert "-auto-approve" not in text
    assert dev["environment"] == "dev"
    assert prod["environment"] == "production"  # required reviewers = the approval gate
    assert prod["needs"] == "apply-dev"


VNET_RUNNER = ["self-hosted", "linux", "chatref-vnet"]


def test_prod_is_planned_and_applied_from_the_runner_inside_the_network(
    workflow: dict[Any, Any],
) -> None:
    """prod's vault, storage and registry are private: a GitHub-hosted runner cannot refresh or
    write their data planes, so prod's plan and apply run on the build-agent subnet's runner."""
    assert workflow["jobs"]["apply-prod"]["runs-on"] == VNET_RUNNER
    plan = workflow["jobs"]["plan"]
    assert plan["runs-on"] == "${{ fromJSON(matrix.runner) }}"
    rows = plan["strategy"]["matrix"]["include"]
    runners = {row["env"]: json.loads(row["runner"]) for row in rows}
    assert runners == {"dev": ["ubuntu-latest"], "prod": VNET_RUNNER}


def test_oidc_and_no_secrets(workflow: dict[Any, Any]) -> None:
    raw = WORKFLOW.read_text(encoding="utf-8")
    assert "secrets." not in raw
    assert not re.search(r"client[-_]secret", raw, re.IGNORECASE)
    assert workflow["env"]["ARM_USE_OIDC"] == "true"
    assert workflow["permissions"] == {"contents": "read"}
    for name in ("plan", "apply-dev", "apply-prod"):
        job = workflow["jobs"][name]
        assert job["permissions"]["id-token"] == "write", name
        logins = [s for s in job["steps"] if str(s.get("uses", "")).startswith("azure/login")]
        assert logins and set(logins[0]["with"]) == {"client-id", "tenant-id", "subscription-id"}
