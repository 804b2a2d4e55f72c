"""The validator's ``policy-parameters`` check: a built-in policy assignment that passes a
parameter the definition does not declare, or an effect it does not allow, fails (as it would at
apply); the governance module's assignments pass, every built-in they assign is in the
catalogue, and the catalogue says where each definition was read."""

from __future__ import annotations

from pathlib import Path

from chatref.infra_validate import load_module_dir
from chatref.infra_validate.policy_checks import (
    builtin_catalogue,
    check_policy_assignments,
    definition_ids,
)
from tests.infra.conftest import INFRA

FIXTURES = Path(__file__).parent / "fixtures" / "policy"
GOVERNANCE = INFRA / "modules" / "governance"


def _found(directory: Path) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    check_policy_assignments(load_module_dir(directory), lambda file, address, code, message:
                             found.append((address, code, message)))
    return found


def test_assignments_the_definitions_accept_pass() -> None:
    assert _found(FIXTURES / "ok") == []


def test_a_refused_effect_or_parameter_fails_and_an_unknown_builtin_warns() -> None:
    found = [(address.split(".")[1], code, message.split(": ")[0])
             for address, code, message in _found(FIXTURES / "bad")]
    assert found == [
        ("deny_public", "policy-parameters",
         "63a0ac64-5d5f-4569-8a3d-df67cc1ce9d7 (App Services should disable public network "
         "access (deprecated, no Deny)) allows effect AuditIfNotExists | Disabled, not 'Deny'"),
        ("deny_public", "policy-parameters-warning",
         "built-in policy definition 00000000-0000-0000-0000-000000000000 is not in "
         "builtin-policies.json"),
        ("require_owner", "policy-parameters",
         "871b6d14-10aa-478d-b590-94f262ecfa99 (Require a tag on resources) declares no "
         "parameter 'effect' (it takes tagName)"),
    ]


def test_the_governance_module_passes_with_every_builtin_in_the_catalogue() -> None:
    module = load_module_dir(GOVERNANCE)
    assert _found(GOVERNANCE) == []
    assigned = {guid for (rtype, _), blk in module.resources.items()
                if rtype.endswith("_policy_assignment") for guid in definition_ids(blk, module)}
    catalogue = builtin_catalogue()
    # the require-tag definition and the seven deny-public ones, at both scopes
    assert len(assigned) == 8 and assigned <= set(catalogue)
    for guid in assigned - {"871b6d14-10aa-478d-b590-94f262ecfa99"}:
        assert "Deny" in catalogue[guid]["effects"], guid


def test_every_catalogue_entry_names_its_source_or_says_it_is_unverified() -> None:
    for guid, entry in builtin_catalogue().items():
        source = entry["source"]
        if source is None:
            assert "not found" in entry["note"], guid
        else:
            assert source["repository"] == "Azure/azure-policy"
            assert source["path"].startswith("built-in-policies/policyDefinitions/")
            assert len(source["commit"]) == 40
