"""Provider rules the JSON schema cannot show, read from the azurerm provider's Go source.

``azurerm-4.79.0-rules.json`` (written by scripts/azurerm_provider_rules.py from
hashicorp/terraform-provider-azurerm at tag v4.79.0) holds, per resource type and with the Go file
it came from: the values an enumerated string accepts (``validation.StringInSlice``), the
argument relations (``ConflictsWith``, ``ExactlyOneOf``, ``AtLeastOneOf``, ``RequiredWith``)
and the ``ForceNew`` arguments, whose change replaces the resource. Paths are dotted from the
resource (``sku.name``, ``network_acls.default_action``), list indexes dropped.

Only literal values are judged: an expression is known at plan time only. Relations are checked
between siblings (arguments of the same block), which is how the provider states nearly all of
them; a block written with ``dynamic`` counts as present.

>>> rules = ProviderRules({"resources": {"azurerm_x": {"enums": {"sku": ["A", "B"]}}}})
>>> for _where, message in rules.problems("azurerm_x", {"sku": '"C"'}):
...     print(message)
argument 'sku' is "C": azurerm accepts A, B
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from chatref.infra_validate.hcl import body_items, is_block_list, is_labelled_block_list, unquote
from chatref.infra_validate.model import Add, ModuleDir

DEFAULT_RULES = Path(__file__).resolve().parent / "azurerm-4.79.0-rules.json"
_RELATIONS = {
    "conflicts_with": "conflicts with",
    "exactly_one_of": "needs exactly one of",
    "at_least_one_of": "needs at least one of",
    "required_with": "needs",
}


class ProviderRules:
    """The rules of every resource type the extraction found, by type name."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.resources: dict[str, dict[str, Any]] = raw["resources"]
        self.source: str = raw.get("source", "?")

    @classmethod
    def load(cls, path: Path = DEFAULT_RULES) -> ProviderRules:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def force_new(self, rtype: str) -> list[str]:
        """Arguments whose change replaces a resource of this type."""
        return list(self.resources.get(rtype, {}).get("force_new", []))

    def source_file(self, rtype: str) -> str | None:
        spec = self.resources.get(rtype)
        return None if spec is None else str(spec.get("file"))

    def problems(self, rtype: str, body: dict[str, Any]) -> Iterator[tuple[str, str]]:
        """(path, message) for each rule of `rtype` that a resource body breaks."""
        spec = self.resources.get(rtype)
        if spec is None:
            return
        for path, allowed in spec.get("enums", {}).items():
            for where, value in _values_at(body, path.split(".")):
                bad = [v for v in _literals(value) if v not in allowed]
                for item in bad:
                    yield where, (f"argument {path.rsplit('.', 1)[-1]!r} is \"{item}\": "
                                  f"azurerm accepts {', '.join(allowed)}")
        for kind, verb in _RELATIONS.items():
            for path, others in spec.get(kind, {}).items():
                yield from _relation_problems(body, kind, verb, path, others)


def _literals(value: Any) -> Iterator[str]:
    if isinstance(value, str) and value.startswith('"') and "${" not in value:
        yield unquote(value)
    elif isinstance(value, list):
        for item in value:
            yield from _literals(item)


def _instances(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """Instances of a nested block, written plainly or as dynamic content."""
    found: list[dict[str, Any]] = []
    value: Any = body.get(name)
    if is_block_list(value):
        found.extend(value)
    dynamic: Any = body.get("dynamic")
    if is_labelled_block_list(dynamic):
        for entry in dynamic:
            for label, dyn in body_items(entry):
                content = dyn.get("content")
                if unquote(label) == name and is_block_list(content):
                    found.extend(content)
    return found


def _values_at(body: dict[str, Any], parts: list[str], where: str = "") -> Iterator[
        tuple[str, Any]]:
    head, rest = parts[0], parts[1:]
    if not rest:
        if head in body and not is_block_list(body[head]):
            yield where.lstrip("."), body[head]
        return
    for index, inner in enumerate(_instances(body, head)):
        yield from _values_at(inner, rest, f"{where}.{head}[{index}]")


def _present(body: dict[str, Any], name: str) -> bool:
    if _instances(body, name):
        return True
    return name in body and body[name] is not None


def _parents(body: dict[str, Any], parts: list[str], where: str = "") -> Iterator[
        tuple[str, dict[str, Any]]]:
    if not parts:
        yield where.lstrip("."), body
        return
    for index, inner in enumerate(_instances(body, parts[0])):
        yield from _parents(inner, parts[1:], f"{where}.{parts[0]}[{index}]")


def _relation_problems(
    body: dict[str, Any], kind: str, verb: str, path: str, others: list[str]
) -> Iterator[tuple[str, str]]:
    parent, _, name = path.rpartition(".")
    siblings = [o.rpartition(".")[2] for o in others if o.rpartition(".")[0] == parent]
    if len(siblings) != len(others):
        return  # a relation across blocks: not judged here
    for where, block in _parents(body, parent.split(".") if parent else []):
        here = _present(block, name)
        present = [s for s in siblings if s != name and _present(block, s)]
        group = sorted({name, *siblings})
        if kind == "conflicts_with" and here and present:
            yield where, f"{name!r} {verb} {', '.join(repr(p) for p in present)}: set one"
        elif kind == "required_with" and here:
            missing = [s for s in siblings if not _present(block, s)]
            if missing:
                yield where, f"{name!r} {verb} {', '.join(repr(m) for m in missing)}"
        elif kind == "exactly_one_of" and name == group[0]:
            count = sum(_present(block, g) for g in group)
            if count != 1:
                yield where, (f"{verb} {', '.join(repr(g) for g in group)} "
                              f"({count} set)")
        elif kind == "at_least_one_of" and name == group[0]:
            if not any(_present(block, g) for g in group):
                yield where, f"{verb} {', '.join(repr(g) for g in group)}"


@functools.cache
def shipped_rules() -> ProviderRules:
    """The rules file that ships with the package, read once."""
    return ProviderRules.load()


def check_provider_rules(mod: ModuleDir, rules: ProviderRules, add: Add) -> None:
    """Every azurerm resource of a module directory against its provider rules."""
    for (rtype, _name), blk in mod.resources.items():
        for where, message in rules.problems(rtype, blk.body):
            address = f"{blk.address}.{where}" if where else blk.address
            add(blk.file, address, "provider-rule",
                f"{message} ({rules.source_file(rtype)})")
