"""Every rule fails its failing fixture and passes its passing one, in HCL and in plan JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatref.policy.catalog import RULES
from chatref.policy.check import judge
from chatref.policy.engine import CheckRecord
from chatref.policy.report import Status

from .conftest import FIXTURES

CASES = [
    (rule_id, kind, case)
    for rule_id in sorted(RULES)
    for kind in ("hcl", "plan")
    for case in ("pass", "fail")
]


def _fixture(rule_id: str, kind: str, case: str) -> Path:
    if kind == "hcl":
        return FIXTURES / "hcl" / rule_id / case
    return FIXTURES / "plan" / rule_id / f"{case}.json"


def _records_of(records: list[CheckRecord], fixture: Path) -> list[CheckRecord]:
    fixture = fixture.resolve()
    return [r for r in records if r.file == fixture or fixture in r.file.parents]


@pytest.mark.parametrize(("rule_id", "kind", "case"), CASES)
def test_rule_fixture(
    rule_id: str,
    kind: str,
    case: str,
    hcl_records: list[CheckRecord],
    plan_records: list[CheckRecord],
) -> None:
    fixture = _fixture(rule_id, kind, case)
    assert fixture.exists(), f"missing fixture {fixture}"
    records = _records_of(hcl_records if kind == "hcl" else plan_records, fixture)
    report = judge(records, fixture, plan=kind == "plan", profile="production")
    statuses = {f.status for f in report.findings if f.rule_id == rule_id}
    if case == "pass":
        assert statuses == {Status.PASSED}, [
            f.message for f in report.findings if f.rule_id == rule_id
        ]
    else:
        assert Status.FAILED in statuses, f"{rule_id} did not fail on {fixture}"
