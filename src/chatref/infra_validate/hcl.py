"""Reading HCL: module directories into blocks, and references out of expression strings."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2

from chatref.infra_validate.model import (
    HCL_OPTIONS,
    Block,
    Finding,
    ModuleDir,
)


def unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1]
    return text


def is_block_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) and v.get("__is_block__") for v in value)
    )


def is_labelled_block_list(value: Any) -> bool:
    """``dynamic "x" {...}`` parses as a list of ``{label: block}`` dicts."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(v, dict)
            and all(isinstance(b, dict) and b.get("__is_block__") for _, b in body_items(v))
            for v in value
        )
    )


def body_items(body: dict[str, Any]) -> Iterator[tuple[str, Any]]:
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
                doc = hcl2.load(handle, serialization_options=HCL_OPTIONS)
        except Exception as exc:  # the parser raises several unrelated types
            mod.parse_errors.append(Finding(str(tf), "-", "parse", f"not valid HCL: {exc}"))
            continue
        _collect(mod, doc, tf)
    return mod


def _collect(mod: ModuleDir, doc: dict[str, Any], tf: Path) -> None:
    def duplicate(address: str) -> None:
        mod.parse_errors.append(Finding(str(tf), address, "duplicate",
                                        f"{address} is declared more than once"))

    for kind, entries in body_items(doc):
        for entry in entries:
            if kind == "locals":
                for name, value in body_items(entry):
                    if name in mod.locals:
                        duplicate(f"local.{name}")
                    mod.locals[name] = (value, tf)
                continue
            if kind in ("resource", "data"):
                for rtype, named in body_items(entry):
                    for rname, body in body_items(named):
                        labels = (unquote(rtype), unquote(rname))
                        blk = Block(kind, labels, body, tf)
                        target = mod.resources if kind == "resource" else mod.data
                        if labels in target:
                            duplicate(blk.address)
                        target[labels] = blk
                continue
            if kind in ("module", "variable", "output"):
                for name, body in body_items(entry):
                    blk = Block(kind, (unquote(name),), body, tf)
                    table = {"module": mod.modules, "variable": mod.variables,
                             "output": mod.outputs}[kind]
                    if blk.labels[0] in table:
                        duplicate(blk.address)
                    table[blk.labels[0]] = blk
                continue
            mod.others.append(Block(kind, (), entry, tf))


# --------------------------------------------------------------------------- expressions


def code_of(text: str) -> str:
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


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key.startswith("${"):
                yield key
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


_REF = re.compile(
    r"(?<![\w.])(?P<root>var|local|module|data|[a-z][a-z0-9]*_[a-z0-9_]+)"
    r"\.(?P<a>[A-Za-z_][\w-]*)"
    r"(?P<idx1>(?:\[[^\]]*\])*)"
    r"(?:\.(?P<b>[A-Za-z_][\w-]*)(?P<idx2>(?:\[[^\]]*\])*)(?:\.(?P<c>[A-Za-z_][\w-]*))?)?"
)


EACH = re.compile(r"(?<![\w.])each\.(?:key|value)\b")
COUNT = re.compile(r"(?<![\w.])count\.index\b")


@dataclass(frozen=True)
class Reference:
    root: str
    parts: tuple[str, ...]
    indexes: tuple[bool, bool] = (False, False)  # an [index] after the 1st / the 2nd part


def references(value: Any) -> Iterator[Reference]:
    """Every var/local/module/data/resource reference in a parsed HCL value."""
    for text in strings_in(value):
        code = code_of(text)
        for match in _REF.finditer(code):
            parts = tuple(p for p in (match["a"], match["b"], match["c"]) if p)
            yield Reference(match["root"], parts, (bool(match["idx1"]), bool(match["idx2"])))
