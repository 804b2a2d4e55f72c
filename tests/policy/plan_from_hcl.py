"""Write the plan-JSON twin of every HCL fixture: ``python tests/policy/plan_from_hcl.py``.

There is no azurerm provider offline, so ``terraform plan`` cannot run here. The fixtures are
small and literal, so this script renders what ``terraform show -json tfplan`` would print for
them: ``planned_values`` and ``resource_changes`` with the literal values (references unknown
until apply, as in a real plan) and ``configuration`` with each expression's constant value or
references, which checkov uses to connect resources. Run it after changing an HCL fixture;
``test_plan_fixtures_are_current`` fails when a JSON twin is stale.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import hcl2

FIXTURES = Path(__file__).parent / "fixtures"
_REF = re.compile(r"^\$\{([a-z0-9_]+\.[a-z0-9_]+(?:\.[a-z0-9_]+)*)\}$")
PROVIDER = "registry.terraform.io/hashicorp/azurerm"


def _literal(value: Any) -> Any:
    if isinstance(value, str):
        if value.startswith('"') and value.endswith('"'):
            return value[1:-1]
        return value
    if isinstance(value, list):
        return [_literal(v) for v in value]
    if isinstance(value, dict):
        return {_literal(k): _literal(v) for k, v in value.items() if k != "__is_block__"}
    return value


def _is_block(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(v, dict) and v.get("__is_block__") for v in value
    )


def _split(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(known values, after_unknown, configuration expressions) of one resource body."""
    values: dict[str, Any] = {}
    unknown: dict[str, Any] = {}
    expressions: dict[str, Any] = {}
    for key, raw in body.items():
        if key == "__is_block__":
            continue
        if _is_block(raw):
            parts = [_split(block) for block in raw]
            values[key] = [p[0] for p in parts]
            if any(p[1] for p in parts):
                unknown[key] = [p[1] for p in parts]
            expressions[key] = [p[2] for p in parts]
            continue
        match = _REF.match(raw) if isinstance(raw, str) else None
        if match:
            ref = match.group(1)
            parent = ".".join(ref.split(".")[:2])
            unknown[key] = True
            expressions[key] = {"references": [ref, parent] if ref != parent else [ref]}
        else:
            values[key] = _literal(raw)
            expressions[key] = {"constant_value": values[key]}
    return values, unknown, expressions


def plan_json(tf_file: Path) -> dict[str, Any]:
    with tf_file.open() as handle:
        parsed = hcl2.load(handle)
    planned, changes, configured = [], [], []
    for entry in parsed.get("resource", []):
        for rtype, named in entry.items():
            for name, body in named.items():
                rtype, name = _literal(rtype), _literal(name)
                address = f"{rtype}.{name}"
                values, unknown, expressions = _split(body)
                common = {"address": address, "mode": "managed", "type": rtype, "name": name}
                planned.append(
                    {**common, "provider_name": PROVIDER, "schema_version": 0,
                     "values": values, "sensitive_values": {}}
                )
                changes.append(
                    {**common, "provider_name": PROVIDER, "change": {
                        "actions": ["create"], "before": None, "after": values,
                        "after_unknown": unknown, "before_sensitive": False,
                        "after_sensitive": {}}}
                )
                configured.append(
                    {**common, "provider_config_key": "azurerm", "expressions": expressions,
                     "schema_version": 0}
                )
    return {
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": {"azurerm": {"name": "azurerm", "full_name": PROVIDER}},
            "root_module": {"resources": configured},
        },
    }


def render(tf_file: Path) -> str:
    return json.dumps(plan_json(tf_file), indent=2) + "\n"


def twin(tf_file: Path) -> Path:
    """fixtures/hcl/<rule>/<case>/main.tf -> fixtures/plan/<rule>/<case>.json"""
    rule, case = tf_file.parent.parent.name, tf_file.parent.name
    return FIXTURES / "plan" / rule / f"{case}.json"


def main() -> int:
    for tf_file in sorted((FIXTURES / "hcl").glob("*/*/main.tf")):
        target = twin(tf_file)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(tf_file))
    return 0


if __name__ == "__main__":
    sys.exit(main())
