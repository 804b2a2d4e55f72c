"""Policy test fixtures: checkov runs once per input kind over every rule fixture.

checkov lives in .venv-checkov (``make checkov``; ``make test`` creates it). One scan of the
whole fixture tree takes a few seconds; each test then reads the records of its own fixture.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chatref.policy.engine import CheckRecord, find_checkov, run_checkov

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def checkov_bin() -> Path:
    return find_checkov(REPO / ".venv-checkov" / "bin" / "checkov")


def _scan_all(checkov_bin: Path, kind: str) -> list[CheckRecord]:
    root = FIXTURES / kind
    if kind == "hcl":
        return run_checkov(root, plan=False, checkov=checkov_bin)
    return run_checkov(root, plan=True, checkov=checkov_bin)


@pytest.fixture(scope="session")
def hcl_records(checkov_bin: Path) -> list[CheckRecord]:
    return _scan_all(checkov_bin, "hcl")


@pytest.fixture(scope="session")
def plan_records(checkov_bin: Path) -> list[CheckRecord]:
    return _scan_all(checkov_bin, "plan")
