"""Built-in Azure Policy assignments against the definitions they assign: ``policy-parameters``.

An assignment of a built-in definition fails at apply when it passes a parameter the definition
does not declare, or an effect outside the definition's ``allowedValues``: some built-ins take
no ``effect`` at all ("Require a tag on resources" always denies), and some allow no ``Deny``
(the deprecated "App Services should disable public network access" audits only). The catalogue
``infra/modules/governance/builtin-policies.json`` lists each built-in the governance module
assigns, with its parameters and allowed effects and the Azure/azure-policy file (and commit)
they were read from. This check finds every policy assignment's built-in definition IDs (a
literal GUID, ``var.x``, or ``each.value`` over a map variable's default) and its
``jsonencode({ name = { value = ... } })`` parameters, and compares.

A built-in missing from the catalogue is a warning (``policy-parameters-warning``): add it with
its source before relying on it.

>>> from pathlib import Path
>>> from chatref.infra_validate.model import ModuleDir
>>> found = []
>>> check_policy_assignments(ModuleDir(Path(".")), lambda *args: found.append(args))
>>> found
[]
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from chatref.infra_validate.hcl import unquote
from chatref.infra_validate.model import REPO_ROOT, Add, Block, ModuleDir

CATALOGUE = REPO_ROOT / "infra" / "modules" / "governance" / "builtin-policies.json"
ASSIGNMENTS = frozenset({
    "azurerm_resource_group_policy_assignment",
    "azurerm_management_group_policy_assignment",
    "azurerm_subscription_policy_assignment",
})
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_BUILTIN = "/providers/Microsoft.Authorization/policyDefinitions/"
_VAR = re.compile(r"\bvar\.([\w-]+)")
_PARAMETER = re.compile(r"([A-Za-z_][\w]*)\s*=\s*\{\s*value\s*=\s*(\"([^\"]*)\"|[^}]*)\}")


@cache
def builtin_catalogue(path: Path = CATALOGUE) -> dict[str, dict[str, Any]]:
    """The catalogue's definitions by GUID."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {entry["id"]: entry for entry in raw["definitions"]}


def _guids(value: Any) -> list[str]:
    if isinstance(value, str):
        text = unquote(value)
        return [text] if _GUID.match(text) else []
    if isinstance(value, dict):
        return [g for k, v in value.items() if not str(k).startswith("__") for g in _guids(v)]
    return []


def _variable_default(mod: ModuleDir, name: str) -> Any:
    variable = mod.variables.get(name)
    return variable.body.get("default") if variable else None


def definition_ids(blk: Block, mod: ModuleDir) -> list[str]:
    """The built-in definition GUIDs an assignment can assign (empty for custom definitions)."""
    text = unquote(str(blk.body.get("policy_definition_id", "")))
    if _BUILTIN not in text:
        return []
    tail = text.split(_BUILTIN, 1)[1]
    if _GUID.match(tail):
        return [tail]
    if tail == "${each.value}":
        return [g for name in _VAR.findall(str(blk.body.get("for_each", "")))
                for g in _guids(_variable_default(mod, name))]
    match = re.fullmatch(r"\$\{var\.([\w-]+)\}", tail)
    return _guids(_variable_default(mod, match.group(1))) if match else []


def passed_parameters(blk: Block) -> dict[str, str | None]:
    """Parameter names an assignment passes, with literal values (None for expressions)."""
    text = str(blk.body.get("parameters", ""))
    return {name: literal if quoted.startswith('"') else None
            for name, quoted, literal in _PARAMETER.findall(text)}


def check_policy_assignments(mod: ModuleDir, add: Add) -> None:
    """Add a ``policy-parameters`` finding for each parameter or effect a built-in refuses."""
    catalogue = builtin_catalogue()
    for (rtype, _), blk in sorted(mod.resources.items()):
        if rtype not in ASSIGNMENTS:
            continue
        passed = passed_parameters(blk)
        for guid in definition_ids(blk, mod):
            entry = catalogue.get(guid)
            if entry is None:
                add(blk.file, blk.address, "policy-parameters-warning",
                    f"built-in policy definition {guid} is not in {CATALOGUE.name}: its "
                    "parameters and effects are not checked (add it with its source)")
                continue
            name = f"{guid} ({entry['display_name']})"
            for parameter, value in passed.items():
                if parameter not in entry["parameters"]:
                    add(blk.file, blk.address, "policy-parameters",
                        f"{name} declares no parameter {parameter!r} (it takes "
                        f"{', '.join(entry['parameters']) or 'none'}): the assignment fails "
                        "at apply")
                elif parameter == "effect" and value is not None and entry["effects"] and (
                        value not in entry["effects"]):
                    add(blk.file, blk.address, "policy-parameters",
                        f"{name} allows effect {' | '.join(entry['effects'])}, not "
                        f"{value!r}: the assignment fails at apply")
