"""The policy pack and the governance module's Azure Policies judge the same resources.

Azure Policy refuses, at apply time, what the governance module assigns against: a name outside
the convention (mode Indexed: every resource with tags and a location), public network access on
the data services and App Service. Rules CKV_CHATREF_025 and 037 refuse the same before apply;
these tests keep the rule pack's type lists and the module's inputs in step, so a new resource
type (or a new exemption) cannot slip between the two. The lists are read from the rules' source
(the rules run inside checkov's environment, not this one).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from chatref.infra_validate import Schema, load_module_dir
from chatref.policy.engine import RULES_DIR, CheckRecord

from .conftest import FIXTURES, REPO

INFRA = REPO / "infra"
GOVERNANCE = INFRA / "modules" / "governance"

# The deny-public assignments of the governance module, by key, and the azurerm types they judge.
DENY_PUBLIC_TYPES = {
    "storage": {"azurerm_storage_account"},
    "key-vault": {"azurerm_key_vault"},
    "openai": {"azurerm_cognitive_account"},
    "search": {"azurerm_search_service"},
    "registry": {"azurerm_container_registry"},
    "app-service": {"azurerm_linux_web_app", "azurerm_windows_web_app"},
    "app-service-slots": {"azurerm_linux_web_app_slot", "azurerm_windows_web_app_slot"},
}
# Exempt from the naming policy although Terraform does not create them: Azure does.
CREATED_BY_AZURE = {
    "Microsoft.Network/networkInterfaces",
    "Microsoft.AlertsManagement/smartDetectorAlertRules",
}


def _literals(*files: Path) -> dict[str, Any]:
    """Module-level tuple, set and dict literals of strings (``*NAME`` spreads allowed)."""
    names: dict[str, Any] = {}

    def value(node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return names[node.id]
        if isinstance(node, ast.Tuple | ast.Set | ast.List):
            items: list[Any] = []
            for element in node.elts:
                if isinstance(element, ast.Starred):
                    items += list(value(element.value))
                else:
                    items.append(value(element))
            return tuple(items)
        if isinstance(node, ast.Dict):
            return {value(k): value(v) for k, v in zip(node.keys, node.values, strict=True)
                    if k is not None}
        raise ValueError(ast.dump(node))

    for path in files:
        for node in ast.parse(path.read_text()).body:
            targets = [t for t in getattr(node, "targets", []) if isinstance(t, ast.Name)]
            if isinstance(node, ast.Assign) and len(targets) == 1:
                try:
                    names[targets[0].id] = value(node.value)
                except (ValueError, KeyError):
                    continue
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if (isinstance(item, ast.Assign) and len(item.targets) == 1
                            and isinstance(item.targets[0], ast.Name)
                            and item.targets[0].id == "RESOURCES"):
                        try:
                            names[f"{node.name}.RESOURCES"] = value(item.value)
                        except (ValueError, KeyError):
                            continue
    return names


def _rule_lists() -> dict[str, Any]:
    return _literals(RULES_DIR / "chatref_rulekit.py", RULES_DIR / "chatref_operations.py",
                     RULES_DIR / "chatref_services.py", RULES_DIR / "chatref_baseline.py")


def _governance_default(name: str) -> Any:
    return load_module_dir(GOVERNANCE).variables[name].body["default"]


def _unquote(text: str) -> str:
    return text.strip('"')


def _infra_types() -> set[str]:
    found: set[str] = set()
    for directory in {p.parent for p in INFRA.rglob("*.tf")}:
        found |= {rtype for rtype, _ in load_module_dir(directory).resources}
    return found


def test_naming_exemptions_match_the_governance_module() -> None:
    lists = _rule_lists()
    exempt_in_rules = set(lists["NAMING_EXEMPT"].values())
    exempt_in_module = {_unquote(t) for t in _governance_default("naming_exempted_types")}
    assert exempt_in_rules <= exempt_in_module
    assert exempt_in_module - exempt_in_rules == CREATED_BY_AZURE


def test_every_resource_the_naming_policy_judges_is_judged_by_rule_037() -> None:
    """A type with tags (mode Indexed evaluates it) is named by the rule, exempt, or written
    through a data plane (no ARM policy sees it)."""
    lists = _rule_lists()
    named = {t for t in (*lists["TAGGABLE"], *lists["TAGGED_ONLY"], *lists["TAGGED_MORE"])
             if t not in lists["NAMING_EXEMPT"] and t not in lists["NOT_INDEXED"]}
    schema = Schema.load()
    tagged = {
        rtype for rtype in _infra_types()
        if rtype.startswith("azurerm_")
        and "tags" in schema.resources[rtype]["block"].get("attributes", {})
    }
    unjudged = tagged - named - set(lists["NAMING_EXEMPT"]) - set(lists["NOT_INDEXED"])
    assert not unjudged, f"add to TAGGED_MORE (rule 037) or NAMING_EXEMPT: {sorted(unjudged)}"
    # and every one of them must carry the required tags (rule 002 has the same list)
    assert set(lists["RequiredTags.RESOURCES"]) >= tagged


def test_deny_public_rule_covers_every_governance_assignment() -> None:
    denied = {k for k in _governance_default("deny_public_network_policy_definitions")
              if not k.startswith("__")}
    assert denied == set(DENY_PUBLIC_TYPES)
    rule_types = set(_rule_lists()["NoPublicNetworkAccess.RESOURCES"])
    for key, types in DENY_PUBLIC_TYPES.items():
        assert types <= rule_types, key


# Rules whose failing fixture holds one example per class of mistake: each must fail on its own.
EVERY_RESOURCE_FAILS = ("CKV_CHATREF_025", "CKV_CHATREF_037", "CKV_CHATREF_072", "CKV_CHATREF_073")


@pytest.mark.parametrize("rule_id", EVERY_RESOURCE_FAILS)
def test_every_example_in_the_failing_fixture_fails(
    rule_id: str, hcl_records: list[CheckRecord], plan_records: list[CheckRecord]
) -> None:
    """Not just one: an App Service slot left public fails 025 as a storage account does."""
    for records, fixture in ((hcl_records, FIXTURES / "hcl" / rule_id / "fail"),
                             (plan_records, FIXTURES / "plan" / rule_id / "fail.json")):
        judged = {r.resource: r.result for r in records
                  if r.check_id == rule_id and (r.file == fixture.resolve()
                                                or fixture.resolve() in r.file.parents)}
        assert len(judged) >= 2 or rule_id == "CKV_CHATREF_072", judged
        assert set(judged.values()) == {"failed"}, judged
