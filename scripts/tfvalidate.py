"""Offline `terraform validate` for chatref's Terraform, against the azurerm provider schema.

There is no terraform binary and no provider download on the machines that build chatref, so
this script does statically what `terraform validate` would do with the azurerm 4.x provider:

- every ``azurerm_*`` resource and data source type exists in the provider schema (other
  providers' types are left alone: there is no schema for them here);
- every argument and nested block exists, and is written as an argument or as a block as the
  schema says; computed-only attributes are not set; blocks respect their max_items;
- required arguments and required blocks are present (a ``dynamic`` block counts);
- nothing deprecated is used;
- every module call passes only variables the module declares, and every required one;
- literal values convert to the argument's type (``"yes"`` is no bool, a list is no string);
- every variable has a type and a description, every output a value; names are unique;
- ``each``/``count.index`` appear only with ``for_each``/``count``; ``for_each`` is not given a
  list; attributes of counted things are read through an instance key, a splat or a ``for``;
- outputs that carry sensitive values (schema-sensitive attributes, sensitive variables or module
  outputs) say ``sensitive = true``; every module pins azurerm in ``required_providers``;
- tfvars files (``*.tfvars``, ``*.tfvars.example``) set only declared variables, and all
  required ones;
- every reference (``var.x``, ``local.x``, ``module.m.out``, ``azurerm_t.n.attr``,
  ``data.azurerm_t.n.attr``, ``azurerm_t.n.block[0].attr``) points at something that exists.

With ``--fmt`` it also checks the layout rules of ``terraform fmt`` that review cares about
(a heuristic; CI runs the real ``terraform fmt -check``).

Not covered: values of expressions (they need Terraform's evaluator), enum-like string values
(the schema does not list them), the provider block (the schema file has no provider schema),
the arguments of other providers' resources (azapi, time, ...: no schema here; the CLI lists
them as not checked).

Usage::

    python scripts/tfvalidate.py infra                # every directory holding .tf files
    python scripts/tfvalidate.py infra --fmt
    python scripts/tfvalidate.py infra/environments/prod --json

Importable: ``validate_tree(root, schema)`` returns a list of :class:`Finding`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCHEMA = REPO_ROOT / "infra" / "schema" / "azurerm-4.79.0-subset.json.gz"
REGENERATE = ("python scripts/azurerm_schema_subset.py "
              "../shared/azurerm-schema/azurerm-4.79.0.json")

# Arguments Terraform itself understands on every resource/data block.
RESOURCE_META_ARGS = frozenset({"count", "for_each", "depends_on", "provider", "lifecycle"})
RESOURCE_META_BLOCKS = frozenset({"lifecycle", "provisioner", "connection", "precondition",
                                  "postcondition", "dynamic"})
MODULE_META_ARGS = frozenset({"source", "version", "count", "for_each", "depends_on",
                              "providers"})
VARIABLE_ARGS = frozenset({"type", "description", "default", "sensitive", "nullable",
                           "validation", "ephemeral"})
OUTPUT_ARGS = frozenset({"value", "description", "sensitive", "depends_on", "precondition",
                         "ephemeral"})
_OPTIONS = SerializationOptions(with_comments=False, preserve_heredocs=False)


@dataclass(frozen=True)
class Finding:
    """One problem: where it is and what is wrong."""

    file: str
    address: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.address}: [{self.code}] {self.message}"


@dataclass
class Block:
    """A labelled top-level block (resource, data, module, variable, output)."""

    kind: str
    labels: tuple[str, ...]
    body: dict[str, Any]
    file: Path

    @property
    def address(self) -> str:
        if self.kind == "resource":
            return ".".join(self.labels)
        return ".".join((self.kind, *self.labels))


@dataclass
class ModuleDir:
    """Everything declared in one directory of .tf files."""

    path: Path
    resources: dict[tuple[str, str], Block] = field(default_factory=dict)
    data: dict[tuple[str, str], Block] = field(default_factory=dict)
    modules: dict[str, Block] = field(default_factory=dict)
    variables: dict[str, Block] = field(default_factory=dict)
    outputs: dict[str, Block] = field(default_factory=dict)
    locals: dict[str, tuple[Any, Path]] = field(default_factory=dict)
    others: list[Block] = field(default_factory=list)
    parse_errors: list[Finding] = field(default_factory=list)


class Schema:
    """The provider schema: resource and data-source blocks by type name.

    Either the full schema (``terraform providers schema -json`` shape) or the repository's
    subset (infra/schema/, written by scripts/azurerm_schema_subset.py), which also lists every
    type name of the full schema so that a type missing from the subset is told apart from a
    type that does not exist.
    """

    def __init__(self, raw: dict[str, Any]) -> None:
        self.resources: dict[str, Any] = raw["resource_schemas"]
        self.data_sources: dict[str, Any] = raw["data_source_schemas"]
        self.version: str = raw.get("version", "?")
        self.all_resources = frozenset(raw.get("all_resource_types", self.resources))
        self.all_data_sources = frozenset(raw.get("all_data_sources", self.data_sources))

    @classmethod
    def load(cls, path: Path = DEFAULT_SCHEMA) -> Schema:
        if not path.is_file():
            raise FileNotFoundError(
                f"azurerm schema not found at {path}: regenerate it with {REGENERATE}"
            )
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                return cls(json.load(handle))
        return cls(json.loads(path.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- parsing


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1]
    return text


def _is_block_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) and v.get("__is_block__") for v in value)
    )


def _is_labelled_block_list(value: Any) -> bool:
    """``dynamic "x" {...}`` parses as a list of ``{label: block}`` dicts."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(v, dict)
            and all(isinstance(b, dict) and b.get("__is_block__") for _, b in _body_items(v))
            for v in value
        )
    )


def _body_items(body: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for key, value in body.items():
        if key.startswith("__") and key.endswith("__"):
            continue
        yield key, value


def load_module_dir(path: Path) -> ModuleDir:
    """Parse every .tf file of one directory (not recursive)."""
    mod = ModuleDir(path=path)
    for tf in sorted(path.glob("*.tf")):
        try:
            with tf.open(encoding="utf-8") as handle:
                doc = hcl2.load(handle, serialization_options=_OPTIONS)
        except Exception as exc:  # the parser raises several unrelated types
            mod.parse_errors.append(Finding(str(tf), "-", "parse", f"not valid HCL: {exc}"))
            continue
        _collect(mod, doc, tf)
    return mod


def _collect(mod: ModuleDir, doc: dict[str, Any], tf: Path) -> None:
    def duplicate(address: str) -> None:
        mod.parse_errors.append(Finding(str(tf), address, "duplicate",
                                        f"{address} is declared more than once"))

    for kind, entries in _body_items(doc):
        for entry in entries:
            if kind == "locals":
                for name, value in _body_items(entry):
                    if name in mod.locals:
                        duplicate(f"local.{name}")
                    mod.locals[name] = (value, tf)
                continue
            if kind in ("resource", "data"):
                for rtype, named in _body_items(entry):
                    for rname, body in _body_items(named):
                        labels = (_unquote(rtype), _unquote(rname))
                        blk = Block(kind, labels, body, tf)
                        target = mod.resources if kind == "resource" else mod.data
                        if labels in target:
                            duplicate(blk.address)
                        target[labels] = blk
                continue
            if kind in ("module", "variable", "output"):
                for name, body in _body_items(entry):
                    blk = Block(kind, (_unquote(name),), body, tf)
                    table = {"module": mod.modules, "variable": mod.variables,
                             "output": mod.outputs}[kind]
                    if blk.labels[0] in table:
                        duplicate(blk.address)
                    table[blk.labels[0]] = blk
                continue
            mod.others.append(Block(kind, (), entry, tf))


# --------------------------------------------------------------------------- expressions


def _code_of(text: str) -> str:
    """The expression code in an hcl2 value string, with string-literal text blanked out.

    Interpolations inside literals (``"${var.x}-app"``) are kept, so references in them count;
    the literal text itself (``"a.b"``) is not mistaken for a reference.
    """
    out: list[str] = []
    i, n = 0, len(text)
    # A value is either an expression wrapped in ${...} or a quoted literal.
    in_string = text.startswith('"')
    if in_string:
        i = 1  # past the opening quote
    if text.startswith("${") and text.endswith("}"):
        text, n, in_string = text[2:-1], len(text) - 3, False
    depth_stack: list[int] = []  # brace depth at which each interpolation started
    depth = 0
    while i < n:
        ch = text[i]
        if in_string:
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                in_string = False
            elif text.startswith("${", i):
                depth_stack.append(depth)
                depth += 1
                in_string = False
                i += 2
                out.append(" ")
                continue
            out.append(" ")
            i += 1
            continue
        if ch == '"':
            in_string = True
            out.append(" ")
        elif ch == "{":
            depth += 1
            out.append(ch)
        elif ch == "}":
            depth -= 1
            if depth_stack and depth == depth_stack[-1]:
                depth_stack.pop()
                in_string = True
                out.append(" ")
            else:
                out.append(ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key.startswith("${"):
                yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


_REF = re.compile(
    r"(?<![\w.])(?P<root>var|local|module|data|[a-z][a-z0-9]*_[a-z0-9_]+)"
    r"\.(?P<a>[A-Za-z_][\w-]*)"
    r"(?P<idx1>(?:\[[^\]]*\])*)"
    r"(?:\.(?P<b>[A-Za-z_][\w-]*)(?P<idx2>(?:\[[^\]]*\])*)(?:\.(?P<c>[A-Za-z_][\w-]*))?)?"
)


_EACH = re.compile(r"(?<![\w.])each\.(?:key|value)\b")
_COUNT = re.compile(r"(?<![\w.])count\.index\b")


@dataclass(frozen=True)
class Reference:
    root: str
    parts: tuple[str, ...]
    indexes: tuple[bool, bool] = (False, False)  # an [index] after the 1st / the 2nd part


def references(value: Any) -> Iterator[Reference]:
    """Every var/local/module/data/resource reference in a parsed HCL value."""
    for text in _strings(value):
        code = _code_of(text)
        for match in _REF.finditer(code):
            parts = tuple(p for p in (match["a"], match["b"], match["c"]) if p)
            yield Reference(match["root"], parts, (bool(match["idx1"]), bool(match["idx2"])))


# --------------------------------------------------------------------------- checks


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
    body: dict[str, Any], schema_block: dict[str, Any], where: str, emit: Any,
    *, top_level: bool,
) -> None:
    """Check one block body against its schema block (recursively)."""
    attributes: dict[str, Any] = schema_block.get("attributes", {})
    block_types: dict[str, Any] = schema_block.get("block_types", {})
    present_blocks: dict[str, int] = {}
    present_attrs: set[str] = set()

    for key, value in _body_items(body):
        if top_level and key in RESOURCE_META_ARGS and not _is_block_list(value):
            continue
        if key == "dynamic" and _is_labelled_block_list(value):
            for dyn in value:
                for label, dyn_body in _body_items(dyn):
                    name = _unquote(label)
                    present_blocks[name] = present_blocks.get(name, 0) + 1
                    _check_dynamic(name, dyn_body, attributes, block_types, where, emit)
            continue
        if top_level and key in RESOURCE_META_BLOCKS and (
            _is_block_list(value) or _is_labelled_block_list(value)
        ):
            continue
        if _is_block_list(value):
            if top_level and key in RESOURCE_META_BLOCKS:
                continue
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
            continue
        if key in attributes:
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

    for name, attr in attributes.items():
        if attr.get("required") and name not in present_attrs:
            emit(where, "required", f"required argument {name!r} is missing")
    for name, spec in block_types.items():
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


def _check_object_keys(body: dict[str, Any], attr: dict[str, Any], where: str, emit: Any) -> None:
    """Keys of an attribute written as a block (e.g. an NSG security_rule) must be fields."""
    fields: dict[str, Any] = attr["type"][1][1]
    for key, value in _body_items(body):
        if key not in fields:
            emit(where, "unknown", f"unsupported argument {key!r}")
            continue
        problem = type_problem(value, fields[key])
        if problem:
            emit(where, "type", f"argument {key!r}: {problem}")


def _check_attr_flags(name: str, attr: dict[str, Any], where: str, emit: Any) -> None:
    if attr.get("deprecated"):
        emit(where, "deprecated", f"argument {name!r} is deprecated in azurerm")
    if attr.get("computed") and not attr.get("optional") and not attr.get("required"):
        emit(where, "computed", f"argument {name!r} is computed by the provider, it cannot be set")


def _check_dynamic(
    name: str, dyn_body: dict[str, Any], attributes: dict[str, Any],
    block_types: dict[str, Any], where: str, emit: Any,
) -> None:
    if "for_each" not in dyn_body:
        emit(where, "required", f"dynamic block {name!r} needs for_each")
    contents = dyn_body.get("content")
    if contents is None or not _is_block_list(contents):
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


def _declared_type(value: Any) -> Any:
    """The schema-style type of a simple variable type expression, or None when complex."""
    if not isinstance(value, str):
        return None
    if value in _PRIMITIVE_TYPES:
        return value
    match = _COLLECTION_TYPE.match(value)
    if match:
        return [match.group(1), match.group(2)]
    return None


def _requires_azurerm(mod: ModuleDir) -> bool:
    for blk in mod.others:
        if blk.kind != "terraform":
            continue
        for providers in blk.body.get("required_providers", []) or []:
            if isinstance(providers, dict) and "azurerm" in providers:
                return True
    return False


def _resolve_source(mod: ModuleDir, call: Block) -> Path | None:
    source = call.body.get("source")
    if not isinstance(source, str):
        return None
    text = _unquote(source)
    if not text.startswith(("./", "../")):
        return None
    return (mod.path / text).resolve()


# One finding: file, address, code, message.
Add = Callable[[Path, str, str, str], None]


def validate_module_dir(
    mod: ModuleDir, schema: Schema, loaded: dict[Path, ModuleDir] | None = None
) -> list[Finding]:
    """All findings for one directory of .tf files."""
    findings: list[Finding] = list(mod.parse_errors)
    loaded = loaded if loaded is not None else {}

    def add(file: Path, address: str, code: str, message: str) -> None:
        findings.append(Finding(str(file), address, code, message))

    _check_against_schema(mod, schema, add)
    _check_variables(mod, add)
    _check_outputs(mod, add)
    callees = _check_module_calls(mod, loaded, add)
    _check_meta_arguments(mod, add)
    _check_sensitive_outputs(mod, callees, schema, add)
    for (address, file), value in _all_values(mod):
        for ref in references(value):
            problem = _check_reference(ref, mod, callees, schema)
            if problem:
                add(file, address, "reference", problem)
    return findings


def _check_against_schema(mod: ModuleDir, schema: Schema, add: Add) -> None:
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
    if azurerm_blocks and not _requires_azurerm(mod):
        add(azurerm_blocks[0].file, "terraform", "provider",
            "no terraform.required_providers entry for azurerm in this module")


def _check_variables(mod: ModuleDir, add: Add) -> None:
    """Typed, described, known arguments, defaults of the declared type, whole validations."""
    for name, blk in mod.variables.items():
        keys = {k for k, _ in _body_items(blk.body)}
        if "type" not in keys:
            add(blk.file, blk.address, "variable", f"variable {name!r} has no type")
        if not _unquote(str(blk.body.get("description", ""))).strip():
            add(blk.file, blk.address, "variable", f"variable {name!r} has no description")
        for key in sorted(keys - VARIABLE_ARGS):
            add(blk.file, blk.address, "unknown", f"unsupported argument {key!r} in a variable")
        declared = _declared_type(blk.body.get("type"))
        if blk.body.get("default") is not None and declared is not None:
            problem = type_problem(blk.body["default"], declared)
            if problem:
                add(blk.file, blk.address, "type", f"default: {problem}")
        rules = blk.body.get("validation")
        rule_list: list[Any] = rules if isinstance(rules, list) and _is_block_list(rules) else []
        for rule in rule_list:
            missing = {"condition", "error_message"} - {k for k, _ in _body_items(rule)}
            if missing:
                add(blk.file, blk.address, "variable",
                    f"validation block lacks {', '.join(sorted(missing))}")


def _check_outputs(mod: ModuleDir, add: Add) -> None:
    for name, blk in mod.outputs.items():
        keys = {k for k, _ in _body_items(blk.body)}
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
        passed = {k for k, _ in _body_items(call.body)} - MODULE_META_ARGS
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
        code = " ".join(_code_of(t) for t in _strings(blk.body))
        if _EACH.search(code) and "for_each" not in blk.body:
            add(blk.file, blk.address, "reference", "each.* is used without for_each")
        if _COUNT.search(code) and "count" not in blk.body:
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
            values = hcl2.load(handle, serialization_options=_OPTIONS)
    except Exception as exc:  # the parser raises several unrelated types
        return [Finding(str(path), "-", "parse", f"not valid HCL: {exc}")]
    names = {k for k, _ in _body_items(values)}
    for name in sorted(names - mod.variables.keys()):
        findings.append(Finding(str(path), name, "tfvars", f"{name!r} is not a declared variable"))
    for name, var in sorted(mod.variables.items()):
        if "default" not in var.body and name not in names:
            findings.append(Finding(str(path), name, "tfvars",
                                    f"required variable {name!r} has no value here"))
    return findings


_ASSIGN = re.compile(r"^(\s*)([\w\"\-.]+)(\s*)=(?![=>])(.*)$")


def _trailing_comment(value: str) -> int | None:
    """Index of a trailing `#` comment in an argument's value text, outside strings."""
    in_string = False
    for index, ch in enumerate(value):
        if ch == '"' and (index == 0 or value[index - 1] != "\\"):
            in_string = not in_string
        elif ch == "#" and not in_string:
            return index
    return None


def _check_comment_columns(group: list[tuple[int, re.Match[str]]], emit: Any) -> None:
    """Consecutive trailing comments start one space after the longest value among them."""
    run: list[tuple[int, str, int]] = []  # line, value text, comment index in the value

    def close() -> None:
        if len(run) > 0:
            longest = max(len(text[:at].rstrip()) for _, text, at in run)
            for number, _text, at in run:
                if at != longest + 1:
                    emit(number, "trailing comment is not aligned with its neighbours")
        run.clear()

    for number, match in group:
        value = match.group(4)
        at = _trailing_comment(value)
        if at is None:
            close()
        else:
            run.append((number, value, at))
    close()


def fmt_problems(path: Path) -> list[Finding]:
    """The layout rules of `terraform fmt` that matter in review (a heuristic, not the real one).

    Two-space indentation, no tabs, no trailing blanks, a final newline, and the `=` of
    consecutive single-line arguments at one indentation aligned one column after the longest
    name (an argument whose value opens a multi-line bracket is not aligned, as fmt does).
    """
    findings: list[Finding] = []
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()

    def emit(number: int, message: str) -> None:
        findings.append(Finding(str(path), f"line {number}", "fmt", message))

    if text and not text.endswith("\n"):
        emit(len(lines), "no newline at the end of the file")
    group: list[tuple[int, re.Match[str]]] = []

    def flush() -> None:
        if group:
            width = max(len(m.group(2)) for _, m in group)
            for number, m in group:
                if len(m.group(2)) + len(m.group(3)) != width + 1:
                    emit(number, f"`=` of {m.group(2)!r} is not aligned with its neighbours")
            _check_comment_columns(group, emit)
            group.clear()

    for index, line in enumerate(lines, start=1):
        if "\t" in line:
            emit(index, "tab character")
        if line != line.rstrip():
            emit(index, "trailing whitespace")
        indent = len(line) - len(line.lstrip(" "))
        if line.strip() and indent % 2:
            emit(index, "indentation is not a multiple of two spaces")
        match = _ASSIGN.match(line)
        multi_line = bool(match) and match is not None and match.group(4).strip().endswith(
            ("{", "[", "("))
        if match and not multi_line and line.lstrip()[0] not in "#/":
            if group and group[0][1].group(1) != match.group(1):
                flush()
            group.append((index, match))
        else:
            flush()
    flush()
    return findings


# --------------------------------------------------------------------------- driver


def module_dirs(root: Path) -> list[Path]:
    """Every directory under root (root included) that holds .tf files."""
    if root.is_file():
        return [root.parent]
    dirs = {p.parent for p in root.rglob("*.tf") if ".terraform" not in p.parts}
    return sorted(dirs)


def validate_tree(root: Path, schema: Schema) -> list[Finding]:
    """Validate every module directory under root."""
    loaded: dict[Path, ModuleDir] = {}
    findings: list[Finding] = []
    for directory in module_dirs(root):
        resolved = directory.resolve()
        mod = loaded.get(resolved) or load_module_dir(resolved)
        loaded[resolved] = mod
        findings.extend(validate_module_dir(mod, schema, loaded))
        for tfvars in sorted(resolved.glob("*.tfvars*")):
            findings.extend(validate_tfvars(tfvars, mod))
    return findings


def unchecked_types(root: Path) -> dict[str, list[str]]:
    """Resource and data types of providers with no schema here, by provider name.

    Their references are still checked; their arguments are not, and the CLI says so.
    """
    found: dict[str, set[str]] = {}
    for directory in module_dirs(root):
        mod = load_module_dir(directory.resolve())
        for rtype, _name in (*mod.resources, *mod.data):
            provider = rtype.split("_", 1)[0]
            if provider != "azurerm":
                found.setdefault(provider, set()).add(rtype)
    return {provider: sorted(types) for provider, types in sorted(found.items())}


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("paths", nargs="*", type=Path, default=[REPO_ROOT / "infra"])
    parser.add_argument("--schema", type=Path, default=DEFAULT_SCHEMA)
    parser.add_argument("--json", action="store_true", help="findings as a JSON list")
    parser.add_argument("--fmt", action="store_true",
                        help="also check terraform fmt layout (a heuristic; CI runs the real one)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        schema = Schema.load(args.schema)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    findings: list[Finding] = []
    unchecked: dict[str, set[str]] = {}
    checked = 0
    for path in args.paths:
        if not path.exists():
            print(f"error: {path} does not exist", file=sys.stderr)
            return 2
        checked += len(module_dirs(path))
        findings.extend(validate_tree(path, schema))
        for provider, types in unchecked_types(path).items():
            unchecked.setdefault(provider, set()).update(types)
        if args.fmt:
            for tf in sorted(path.rglob("*.tf") if path.is_dir() else [path]):
                findings.extend(fmt_problems(tf))
    if args.json:
        print(json.dumps([asdict(f) for f in findings], indent=2))
    else:
        for finding in findings:
            print(finding)
        for provider, types in sorted(unchecked.items()):
            print(f"not checked (no {provider} schema here): {', '.join(sorted(types))}",
                  file=sys.stderr)
        status = "ok" if not findings else f"{len(findings)} problem(s)"
        print(f"{checked} module director{'y' if checked == 1 else 'ies'} checked against "
              f"azurerm {schema.version}: {status}", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
