"""Resource and data-source bodies against the azurerm provider schema."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from chatref.infra_validate.hcl import (
    body_items,
    is_block_list,
    is_labelled_block_list,
    unquote,
)
from chatref.infra_validate.model import (
    REGENERATE,
    RESOURCE_META_ARGS,
    RESOURCE_META_BLOCKS,
    Add,
    Emit,
    ModuleDir,
    Schema,
)


def _attr_type_is_object_collection(attr: dict[str, Any]) -> bool:
    typ = attr.get("type")
    return (
        isinstance(typ, list)
        and len(typ) == 2
        and typ[0] in ("list", "set")
        and isinstance(typ[1], list)
        and typ[1][0] == "object"
    )


def check_body(
    body: dict[str, Any], schema_block: dict[str, Any], where: str, emit: Emit,
    *, top_level: bool,
) -> None:
    """Check one block body against its schema block (recursively)."""
    attributes: dict[str, Any] = schema_block.get("attributes", {})
    block_types: dict[str, Any] = schema_block.get("block_types", {})
    present_blocks: dict[str, int] = {}
    present_attrs: set[str] = set()

    for key, value in body_items(body):
        if top_level and key in RESOURCE_META_ARGS and not is_block_list(value):
            continue
        if key == "dynamic" and is_labelled_block_list(value):
            for dyn in value:
                for label, dyn_body in body_items(dyn):
                    name = unquote(label)
                    present_blocks[name] = present_blocks.get(name, 0) + 1
                    _check_dynamic(name, dyn_body, attributes, block_types, where, emit)
            continue
        if top_level and key in RESOURCE_META_BLOCKS and (
            is_block_list(value) or is_labelled_block_list(value)
        ):
            continue
        if is_block_list(value):
            _check_block_list(key, value, schema_block, where, emit, present_blocks, present_attrs)
        elif key in attributes:
            present_attrs.add(key)
            _check_attr_flags(key, attributes[key], where, emit)
            problem = type_problem(value, attributes[key].get("type"))
            if problem:
                emit(where, "type", f"argument {key!r}: {problem}")
        elif key in block_types:
            emit(where, "syntax", f"{key!r} is a block: write `{key} {{ ... }}`, not `{key} =`")
            present_blocks[key] = present_blocks.get(key, 0) + 1
        else:
            emit(where, "unknown", f"unsupported argument {key!r}")
    _check_presence(schema_block, present_attrs, present_blocks, where, emit)


def _check_block_list(
    key: str, value: list[Any], schema_block: dict[str, Any], where: str, emit: Emit,
    present_blocks: dict[str, int], present_attrs: set[str],
) -> None:
    """``key { ... }`` written once or more: a block of the schema, or an attribute whose type
    is a collection of objects (block syntax allowed), else an error saying what it is."""
    attributes: dict[str, Any] = schema_block.get("attributes", {})
    block_types: dict[str, Any] = schema_block.get("block_types", {})
    if key in block_types:
        spec = block_types[key]
        present_blocks[key] = present_blocks.get(key, 0) + len(value)
        if spec.get("block", {}).get("deprecated"):
            emit(where, "deprecated", f"block {key!r} is deprecated in azurerm")
        for item in value:
            check_body(item, spec["block"], f"{where}.{key}", emit, top_level=False)
    elif key in attributes and _attr_type_is_object_collection(attributes[key]):
        present_attrs.add(key)  # attribute written in block syntax: allowed
        _check_attr_flags(key, attributes[key], where, emit)
        for item in value:
            _check_object_keys(item, attributes[key], f"{where}.{key}", emit)
    elif key in attributes:
        emit(where, "syntax", f"{key!r} is an argument: write `{key} = ...`, not a block")
    else:
        emit(where, "unknown", f"unsupported block {key!r}")


def _check_presence(
    schema_block: dict[str, Any], present_attrs: set[str], present_blocks: dict[str, int],
    where: str, emit: Emit,
) -> None:
    """Required arguments and blocks present; no block more often than the schema allows."""
    for name, attr in schema_block.get("attributes", {}).items():
        if attr.get("required") and name not in present_attrs:
            emit(where, "required", f"required argument {name!r} is missing")
    for name, spec in schema_block.get("block_types", {}).items():
        count = present_blocks.get(name, 0)
        if spec.get("min_items", 0) > 0 and count == 0:
            emit(where, "required", f"required block {name!r} is missing")
        max_items = spec.get("max_items", 0)
        if max_items and count > max_items and name in present_blocks:
            emit(where, "max_items", f"block {name!r} appears {count} times, at most {max_items}")


def _is_literal_string(value: Any) -> bool:
    return isinstance(value, str) and value.startswith('"') and "${" not in value


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"the string {value}"


def type_problem(value: Any, typ: Any) -> str | None:
    """Why a literal value cannot convert to a schema type, or None (expressions are not judged).

    Terraform converts "true"/"false" to bool and numeric strings to number, and any primitive
    to string; collections never convert to primitives, nor primitives to collections.
    """
    if isinstance(value, str) and not _is_literal_string(value):
        return None  # an expression or a template: known only at plan time
    if typ == "string":
        if isinstance(value, list | dict):
            return f"expected a string, got {_describe(value)}"
        return None
    if typ == "bool":
        if isinstance(value, bool):
            return None
        if _is_literal_string(value) and value[1:-1] in ("true", "false"):
            return None
        return f"expected a bool, got {_describe(value)}"
    if typ == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return None
        if _is_literal_string(value):
            try:
                float(value[1:-1])
            except ValueError:
                pass
            else:
                return None
        return f"expected a number, got {_describe(value)}"
    if isinstance(typ, list) and len(typ) == 2 and typ[0] in ("list", "set", "map"):
        kind, element = typ
        if kind == "map":
            if not isinstance(value, dict):
                return f"expected a map, got {_describe(value)}"
            items = [v for k, v in value.items() if not str(k).startswith("__")]
        else:
            if not isinstance(value, list):
                return f"expected a {kind}, got {_describe(value)}"
            items = value
        for item in items:
            problem = type_problem(item, element)
            if problem:
                return f"an element: {problem}"
    return None


def _check_object_keys(body: dict[str, Any], attr: dict[str, Any], where: str, emit: Emit) -> None:
    """Keys of an attribute written as a block (e.g. an NSG security_rule) must be fields."""
    fields: dict[str, Any] = attr["type"][1][1]
    for key, value in body_items(body):
        if key not in fields:
            emit(where, "unknown", f"unsupported argument {key!r}")
            continue
        problem = type_problem(value, fields[key])
        if problem:
            emit(where, "type", f"argument {key!r}: {problem}")


def _check_attr_flags(name: str, attr: dict[str, Any], where: str, emit: Emit) -> None:
    if attr.get("deprecated"):
        emit(where, "deprecated", f"argument {name!r} is deprecated in azurerm")
    if attr.get("computed") and not attr.get("optional") and not attr.get("required"):
        emit(where, "computed", f"argument {name!r} is computed by the provider, it cannot be set")


def _check_dynamic(
    name: str, dyn_body: dict[str, Any], attributes: dict[str, Any],
    block_types: dict[str, Any], where: str, emit: Emit,
) -> None:
    if "for_each" not in dyn_body:
        emit(where, "required", f"dynamic block {name!r} needs for_each")
    contents = dyn_body.get("content")
    if contents is None or not is_block_list(contents):
        emit(where, "required", f"dynamic block {name!r} needs a content block")
        return
    if name in block_types:
        spec = block_types[name]
        if spec.get("block", {}).get("deprecated"):
            emit(where, "deprecated", f"block {name!r} is deprecated in azurerm")
        for content in contents:
            check_body(content, spec["block"], f"{where}.{name}", emit, top_level=False)
    elif name in attributes and _attr_type_is_object_collection(attributes[name]):
        _check_attr_flags(name, attributes[name], where, emit)
        for content in contents:
            _check_object_keys(content, attributes[name], f"{where}.{name}", emit)
    else:
        emit(where, "unknown", f"unsupported dynamic block {name!r}")


_PRIMITIVE_TYPES = {"string": "string", "number": "number", "bool": "bool"}
_COLLECTION_TYPE = re.compile(r"^\$\{(list|set|map)\((string|number|bool)\)\}$")


def declared_type(value: Any) -> Any:
    """The schema-style type of a simple variable type expression, or None when complex."""
    if not isinstance(value, str):
        return None
    if value in _PRIMITIVE_TYPES:
        return value
    match = _COLLECTION_TYPE.match(value)
    if match:
        return [match.group(1), match.group(2)]
    return None


def requires_azurerm(mod: ModuleDir) -> bool:
    for blk in mod.others:
        if blk.kind != "terraform":
            continue
        for providers in blk.body.get("required_providers", []) or []:
            if isinstance(providers, dict) and "azurerm" in providers:
                return True
    return False


def check_against_schema(mod: ModuleDir, schema: Schema, add: Add) -> None:
    """Resources and data sources against the provider schema; azurerm pinned."""
    for table, kind in ((mod.resources, "resource"), (mod.data, "data")):
        schemas = schema.resources if kind == "resource" else schema.data_sources
        for (rtype, _name), blk in table.items():
            def emit(address: str, code: str, message: str, _file: Path = blk.file) -> None:
                add(_file, address, code, message)

            if not rtype.startswith("azurerm_"):
                continue  # another provider (random, terraform_data, ...): no schema here
            if rtype not in schemas:
                what = "resource type" if kind == "resource" else "data source"
                known = schema.all_resources if kind == "resource" else schema.all_data_sources
                if rtype in known:
                    emit(blk.address, "schema",
                         f"{what} {rtype!r} exists in azurerm {schema.version} but is not in the "
                         f"schema subset: regenerate it with {REGENERATE}")
                else:
                    emit(blk.address, "type",
                         f"{what} {rtype!r} does not exist in azurerm {schema.version}")
                continue
            spec = schemas[rtype]
            if spec["block"].get("deprecated"):
                emit(blk.address, "deprecated", f"{rtype!r} is deprecated in azurerm")
            check_body(blk.body, spec["block"], blk.address, emit, top_level=True)

    azurerm_blocks = [b for k, b in (*mod.resources.items(), *mod.data.items())
                      if k[0].startswith("azurerm_")]
    if azurerm_blocks and not requires_azurerm(mod):
        add(azurerm_blocks[0].file, "terraform", "provider",
            "no terraform.required_providers entry for azurerm in this module")
