"""The rule catalog and the checkov checks stay in step; every rule has its four fixtures."""

from __future__ import annotations

import re

import pytest

from chatref.policy.catalog import PROFILES, RULES, Level
from chatref.policy.engine import RULES_DIR

from . import plan_from_hcl
from .conftest import FIXTURES

_PY_ID = re.compile(r'^\s+ID = "(CKV_CHATREF_\d{3})"', re.M)
_YAML_ID = re.compile(r'^\s+id: "(CKV_CHATREF_\d{3})"', re.M)


def _check_ids() -> set[str]:
    ids: set[str] = set()
    for path in RULES_DIR.glob("*.py"):
        ids |= set(_PY_ID.findall(path.read_text()))
    for path in RULES_DIR.glob("*.yaml"):
        ids |= set(_YAML_ID.findall(path.read_text()))
    return ids


def test_every_check_has_metadata_and_every_rule_a_check() -> None:
    assert _check_ids() == set(RULES)


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_metadata_is_complete(rule_id: str) -> None:
    rule = RULES[rule_id]
    for text in (rule.title, rule.rationale, rule.enforces, rule.fix, rule.area):
        assert text.strip()
    assert rule.level("production") is Level.HARD
    for case in ("pass", "fail"):
        assert (FIXTURES / "hcl" / rule_id / case / "main.tf").is_file()
        assert (FIXTURES / "plan" / rule_id / f"{case}.json").is_file()


def test_basic_profile_is_the_baseline() -> None:
    baseline = {r.id for r in RULES.values() if r.level("basic") in (Level.HARD, Level.SOFT)}
    areas = {RULES[i].area for i in baseline}
    assert areas == {"identity", "tagging", "tls", "key-vault", "content-filter",
                     "app-service", "storage"}
    assert RULES["CKV_CHATREF_002"].level("basic") is Level.SOFT  # tagging is soft in basic
    assert PROFILES == ("basic", "production")


def test_plan_fixtures_are_current() -> None:
    """The plan JSON twins are what plan_from_hcl.py renders from the HCL fixtures."""
    stale = [
        str(plan_from_hcl.twin(tf))
        for tf in sorted((FIXTURES / "hcl").glob("*/*/main.tf"))
        if plan_from_hcl.twin(tf).read_text() != plan_from_hcl.render(tf)
    ]
    assert not stale, "run `python tests/policy/plan_from_hcl.py`: " + ", ".join(stale)


def test_hcl_fixtures_are_valid_azurerm_4() -> None:
    """Fixtures use real azurerm 4.x arguments (checked by chatref.infra_validate's schema
    validation), so a rule cannot pass its fixtures while reading an attribute that does not
    exist. Fixtures are fragments: no required_providers, undescribed variables."""
    from chatref.infra_validate import Schema, validate_tree

    schema = Schema.load()
    findings = [
        str(f)
        for root in (FIXTURES / "hcl", FIXTURES / "modules")
        for f in validate_tree(root, schema)
        # fragments: no required_providers, undescribed variables, literal addresses and
        # resource IDs (rule 071's fixtures attach keys by literal ID on purpose)
        if f.code not in {"provider", "variable", "literal-next-hop", "openai-cmk",
                          "openai-cmk-warning"}
        # rule 073's failing fixture uses the data-plane forms azurerm 4.x deprecates on purpose
        and not (f.code == "deprecated" and "CKV_CHATREF_073/fail" in f.file)
    ]
    assert not findings, "\n".join(findings)


def test_docs_list_every_rule_with_its_levels() -> None:
    from .conftest import REPO

    docs = (REPO / "docs" / "policy.md").read_text()
    for rule in RULES.values():
        basic = rule.level("basic")
        row = f"| {rule.id} | {rule.title} | {rule.severity.value} | " \
              f"{basic.value if basic else '—'} | hard |"
        assert row in docs, f"docs/policy.md: rule table row for {rule.id} is missing or stale"
