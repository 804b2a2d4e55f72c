"""Checks within and across module directories: variables, outputs, calls, references."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hcl2

from chatref.infra_validate.cmk_checks import check_openai_cmk
from chatref.infra_validate.edge_checks import check_edge
from chatref.infra_validate.hcl import (
    COUNT,
    EACH,
    Reference,
    body_items,
    code_of,
    is_block_list,
    load_module_dir,
    references,
    strings_in,
    unquote,
)
from chatref.infra_validate.model import (
    HCL_OPTIONS,
    MODULE_META_ARGS,
    OUTPUT_ARGS,
    VARIABLE_ARGS,
    Add,
    Block,
    Finding,
    ModuleDir,
    Schema,
)
from chatref.infra_validate.models import check_model_catalogue
from chatref.infra_validate.other_providers import check_other_providers, shipped_subsets
from chatref.infra_validate.policy_checks import check_policy_assignments
from chatref.infra_validate.provider_rules import (
    ProviderRules,
    check_provider_rules,
    shipped_rules,
)
from chatref.infra_validate.schema_checks import (
    check_against_schema,
    declared_type,
    type_problem,
)


def _resolve_source(mod: ModuleDir, call: Block) -> Path | None:
    source = call.body.get("source")
    if not isinstance(source, str):
        return None
    text = unquote(source)
    if not text.startswith(("./", "../")):
        return None
    return (mod.path / text).resolve()




def validate_module_dir(
    mod: ModuleDir, schema: Schema, loaded: dict[Path, ModuleDir] | None = None,
    rules: ProviderRules | None = None,
) -> list[Finding]:
    """All findings for one directory of .tf files (provider rules: the shipped ones)."""
    findings: list[Finding] = list(mod.parse_errors)
    loaded = loaded if loaded is not None else {}

    def add(file: Path, address: str, code: str, message: str) -> None:
        findings.append(Finding(str(file), address, code, message))

    check_against_schema(mod, schema, add)
    check_other_providers(mod, shipped_subsets(), add)
    check_provider_rules(mod, rules or shipped_rules(), add)
    _check_variables(mod, add)
    _check_outputs(mod, add)
    callees = _check_module_calls(mod, loaded, add)
    _check_meta_arguments(mod, add)
    _check_sensitive_outputs(mod, callees, schema, add)
    check_edge(mod, add)
    check_openai_cmk(mod, loaded, add)
    check_policy_assignments(mod, add)
    for values in [{}, *(_tfvars_values(path) for path in sorted(mod.path.glob("*.tfvars*")))]:
        check_model_catalogue(mod, callees, values, add)
    for (address, file), value in _all_values(mod):
        for ref in references(value):
            problem = _check_reference(ref, mod, callees, schema)
            if problem:
                add(file, address, "reference", problem)
    return sorted(set(findings), key=findings.index)  # each tfvars file may repeat a finding


def _tfvars_values(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            values: dict[str, Any] = hcl2.load(handle, serialization_options=HCL_OPTIONS)
    except Exception:  # the parser raises several types; validate_tfvars reports them
        return {}
    return values


def _check_variables(mod: ModuleDir, add: Add) -> None:
    """Typed, described, known arguments, defaults of the declared type, whole validations."""
    for name, blk in mod.variables.items():
        keys = {k for k, _ in body_items(blk.body)}
        if "type" not in keys:
            add(blk.file, blk.address, "variable", f"variable {name!r} has no type")
        if not unquote(str(blk.body.get("description", ""))).strip():
            add(blk.file, blk.address, "variable", f"variable {name!r} has no description")
        for key in sorted(keys - VARIABLE_ARGS):
            add(blk.file, blk.address, "unknown", f"unsupported argument {key!r} in a variable")
        declared = declared_type(blk.body.get("type"))
        if blk.body.get("default") is not None and declared is not None:
            problem = type_problem(blk.body["default"], declared)
            if problem:
                add(blk.file, blk.address, "type", f"default: {problem}")
        rules = blk.body.get("validation")
        rule_list: list[Any] = rules if isinstance(rules, list) and is_block_list(rules) else []
        for rule in rule_list:
            missing = {"condition", "error_message"} - {k for k, _ in body_items(rule)}
            if missing:
                add(blk.file, blk.address, "variable",
                    f"validation block lacks {', '.join(sorted(missing))}")


def _check_outputs(mod: ModuleDir, add: Add) -> None:
    for name, blk in mod.outputs.items():
        keys = {k for k, _ in body_items(blk.body)}
        if "value" not in keys:
            add(blk.file, blk.address, "output", f"output {name!r} has no value")
        for key in sorted(keys - OUTPUT_ARGS):
            add(blk.file, blk.address, "unknown", f"unsupported argument {key!r} in an output")


def _check_module_calls(
    mod: ModuleDir, loaded: dict[Path, ModuleDir], add: Add
) -> dict[str, ModuleDir]:
    """Local module calls pass only declared variables and every required one.

    Returns the callee of each call that could be loaded, for output references.
    """
    callees: dict[str, ModuleDir] = {}
    for name, call in mod.modules.items():
        if "source" not in call.body:
            add(call.file, call.address, "module", "module call has no source")
            continue
        path = _resolve_source(mod, call)
        if path is None:
            continue  # registry or git modules are out of reach offline
        if not path.is_dir() or not any(path.glob("*.tf")):
            add(call.file, call.address, "module", f"module source {path} has no .tf files")
            continue
        callee = loaded.get(path) or load_module_dir(path)
        loaded[path] = callee
        callees[name] = callee
        passed = {k for k, _ in body_items(call.body)} - MODULE_META_ARGS
        for arg in sorted(passed - callee.variables.keys()):
            add(call.file, call.address, "module",
                f"passes {arg!r}, which the module does not declare")
        for var_name, var in sorted(callee.variables.items()):
            if "default" not in var.body and var_name not in passed:
                add(call.file, call.address, "module",
                    f"required variable {var_name!r} is not passed")
    return callees


def _check_meta_arguments(mod: ModuleDir, add: Add) -> None:
    """each/count.index need for_each/count; not both; for_each takes no list."""
    for blk in (*mod.resources.values(), *mod.data.values(), *mod.modules.values()):
        code = " ".join(code_of(t) for t in strings_in(blk.body))
        if EACH.search(code) and "for_each" not in blk.body:
            add(blk.file, blk.address, "reference", "each.* is used without for_each")
        if COUNT.search(code) and "count" not in blk.body:
            add(blk.file, blk.address, "reference", "count.index is used without count")
        if "count" in blk.body and "for_each" in blk.body:
            add(blk.file, blk.address, "meta", "count and for_each cannot both be set")
        if "for_each" in blk.body:
            problem = _for_each_problem(blk.body["for_each"], mod)
            if problem:
                add(blk.file, blk.address, "meta", problem)


def _check_sensitive_outputs(
    mod: ModuleDir, callees: dict[str, ModuleDir], schema: Schema, add: Add
) -> None:
    for name, blk in mod.outputs.items():
        if blk.body.get("sensitive") is True:
            continue
        source = _sensitive_source(blk.body.get("value"), mod, callees, schema)
        if source:
            add(blk.file, blk.address, "sensitive",
                f"output {name!r} carries {source}: add sensitive = true")


def _all_values(mod: ModuleDir) -> Iterator[tuple[tuple[str, Path], Any]]:
    for blk in (*mod.resources.values(), *mod.data.values(), *mod.modules.values(),
                *mod.variables.values(), *mod.outputs.values()):
        yield (blk.address, blk.file), blk.body
    for name, (value, file) in mod.locals.items():
        yield (f"local.{name}", file), value


def _for_each_problem(value: Any, mod: ModuleDir) -> str | None:
    """for_each takes a map or a set of strings, never a list."""
    if isinstance(value, list):
        return "for_each needs a map or a set: wrap the list in toset()"
    if isinstance(value, str):
        match = re.fullmatch(r"\$\{var\.([\w-]+)\}", value)
        if match and match.group(1) in mod.variables:
            declared = str(mod.variables[match.group(1)].body.get("type", ""))
            if declared.startswith(("${list(", "${tuple(")) or declared == "list":
                return (f"for_each needs a map or a set, var.{match.group(1)} is a list: "
                        "wrap it in toset()")
    return None


def _sensitive_source(
    value: Any, mod: ModuleDir, callees: dict[str, ModuleDir], schema: Schema
) -> str | None:
    """The first sensitive thing an output value refers to, described, or None."""
    for ref in references(value):
        root, parts = ref.root, ref.parts
        if root == "var" and parts[0] in mod.variables:
            if mod.variables[parts[0]].body.get("sensitive") is True:
                return f"the sensitive variable var.{parts[0]}"
        elif root == "module" and len(parts) > 1 and parts[0] in callees:
            out = callees[parts[0]].outputs.get(parts[1])
            if out is not None and out.body.get("sensitive") is True:
                return f"the sensitive output module.{parts[0]}.{parts[1]}"
        elif root.startswith("azurerm_") and len(parts) > 1:
            spec = schema.resources.get(root)
            attr = spec["block"].get("attributes", {}).get(parts[1]) if spec else None
            if attr and attr.get("sensitive"):
                return f"the sensitive attribute {root}.{parts[0]}.{parts[1]}"
    return None


def _is_multi(blk: Block) -> bool:
    return "count" in blk.body or "for_each" in blk.body


def _instance_key_missing(address: str) -> str:
    return (f"{address} has count or for_each: name an instance ({address}[...]) "
            "or use a splat or for expression")


def _check_reference(
    ref: Reference, mod: ModuleDir, callees: dict[str, ModuleDir], schema: Schema
) -> str | None:
    root, parts = ref.root, ref.parts
    if root == "var":
        if parts[0] not in mod.variables:
            return f"var.{parts[0]} is not declared"
    elif root == "local":
        if parts[0] not in mod.locals:
            return f"local.{parts[0]} is not defined"
    elif root == "module":
        if parts[0] not in mod.modules:
            return f"module.{parts[0]} is not called here"
        if len(parts) > 1 and not ref.indexes[0] and _is_multi(mod.modules[parts[0]]):
            return _instance_key_missing(f"module.{parts[0]}")
        callee = callees.get(parts[0])
        if callee is not None and len(parts) > 1 and parts[1] not in callee.outputs:
            return f"module.{parts[0]} has no output {parts[1]!r}"
    elif root == "data":
        if len(parts) < 2:
            return None
        key = (parts[0], parts[1])
        if key not in mod.data:
            return f"data.{parts[0]}.{parts[1]} is not declared"
        if len(parts) > 2 and not ref.indexes[1] and _is_multi(mod.data[key]):
            return _instance_key_missing(f"data.{parts[0]}.{parts[1]}")
        if len(parts) > 2:
            return _check_attribute(schema.data_sources.get(parts[0]), f"data.{key[0]}.{key[1]}",
                                    parts[2])
    elif root.startswith("azurerm_"):
        key = (root, parts[0])
        if key not in mod.resources:
            return f"{root}.{parts[0]} is not declared"
        if len(parts) > 1 and not ref.indexes[0] and _is_multi(mod.resources[key]):
            return _instance_key_missing(f"{root}.{parts[0]}")
        if len(parts) > 1:
            return _check_attribute(schema.resources.get(root), f"{root}.{parts[0]}", parts[1],
                                    parts[2] if len(parts) > 2 else None)
    return None


def _check_attribute(
    spec: dict[str, Any] | None, address: str, attr: str, nested: str | None = None
) -> str | None:
    """`attr` exists on the resource; when it is a block, `nested` exists inside it."""
    if spec is None:
        return None
    block = spec["block"]
    if attr in block.get("attributes", {}):
        return None
    if attr in block.get("block_types", {}):
        inner = block["block_types"][attr]["block"]
        if nested is None or nested in inner.get("attributes", {}) or nested in inner.get(
                "block_types", {}):
            return None
        return f"{address}.{attr} has no attribute {nested!r}"
    return f"{address} has no attribute {attr!r}"


def validate_tfvars(path: Path, mod: ModuleDir) -> list[Finding]:
    """A tfvars file sets only declared variables, and every variable without a default."""
    findings: list[Finding] = []
    try:
        with path.open(encoding="utf-8") as handle:
            values = hcl2.load(handle, serialization_options=HCL_OPTIONS)
    except Exception as exc:  # the parser raises several unrelated types
        return [Finding(str(path), "-", "parse", f"not valid HCL: {exc}")]
    names = {k for k, _ in body_items(values)}
    for name in sorted(names - mod.variables.keys()):
        findings.append(Finding(str(path), name, "tfvars", f"{name!r} is not a declared variable"))
    for name, var in sorted(mod.variables.items()):
        if "default" not in var.body and name not in names:
            findings.append(Finding(str(path), name, "tfvars",
                                    f"required variable {name!r} has no value here"))
    return findings
