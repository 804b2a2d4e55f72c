"""Resources of providers other than azurerm, against hand-written schema subsets.

chatref uses two resources outside azurerm: ``azapi_resource`` (the conversations table,
created through the management plane) and ``time_sleep`` (waiting for role assignments to
propagate). No generated schema of those providers is in the repository, so
``infra/schema/other-providers.json`` holds, for each, the attributes and blocks its Go schema
definition declares, read from the provider's source at a tag and commit named in the file,
plus the validators the schema JSON cannot show (``rules``):

- ``patterns``: a literal value must match the provider's regular expression (azapi's
  ``<resource-type>@<api-version>``, time's ``30s``-style durations);
- ``at_least_one_of``: groups of arguments of which one must be set;
- ``enums``: allowed values of an argument, ``block.argument`` for a nested one.

The bodies are checked with the same code as azurerm's (unknown or computed-only arguments,
required ones, types of literals), under the finding codes the rest of the validator uses.

>>> subsets = OtherProviders.load()
>>> sorted(subsets.resources)
['azapi_resource', 'time_sleep']
>>> subsets.resources["time_sleep"].provider
'time'
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from chatref.infra_validate.hcl import unquote
from chatref.infra_validate.model import REPO_ROOT, Add, ModuleDir
from chatref.infra_validate.schema_checks import check_body

DEFAULT_SUBSETS = REPO_ROOT / "infra" / "schema" / "other-providers.json"


@dataclass(frozen=True)
class ResourceSpec:
    """One resource type's schema block and rules, and the provider (and source) it is from."""

    provider: str
    block: dict[str, Any]
    rules: dict[str, Any]
    provenance: str


class OtherProviders:
    """The hand-written subsets by resource type."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.resources: dict[str, ResourceSpec] = {}
        for name, provider in raw["providers"].items():
            origin = provider["provenance"]
            where = f"{origin['repository']}@{origin['tag']} ({origin['commit'][:12]})"
            for rtype, spec in provider["resource_schemas"].items():
                self.resources[rtype] = ResourceSpec(name, spec["block"], spec.get("rules", {}),
                                                     where)

    @classmethod
    def load(cls, path: Path = DEFAULT_SUBSETS) -> OtherProviders:
        return cls(json.loads(path.read_text(encoding="utf-8")))


@cache
def shipped_subsets() -> OtherProviders:
    """The repository's subsets (read once)."""
    return OtherProviders.load()


def _literal(value: Any) -> str | None:
    if isinstance(value, str) and value.startswith('"') and "${" not in value:
        return unquote(value)
    return None


def _values(body: dict[str, Any], path: str) -> list[Any]:
    """The values at ``a`` or ``block.a`` in a parsed body (every instance of the block)."""
    head, _, rest = path.partition(".")
    if not rest:
        return [body[head]] if head in body else []
    blocks = body.get(head)
    return [b[rest] for b in blocks or [] if isinstance(b, dict) and rest in b] \
        if isinstance(blocks, list) else []


def check_other_providers(mod: ModuleDir, subsets: OtherProviders, add: Add) -> None:
    """Every azapi_resource and time_sleep (the types in the subsets) against its schema."""
    for (rtype, _name), blk in mod.resources.items():
        spec = subsets.resources.get(rtype)
        if spec is None:
            continue

        def emit(address: str, code: str, message: str, _file: Path = blk.file) -> None:
            add(_file, address, code, message)

        check_body(blk.body, spec.block, blk.address, emit, top_level=True)
        for attr, rule in spec.rules.get("patterns", {}).items():
            for value in _values(blk.body, attr):
                text = _literal(value)
                if text is not None and not re.match(rule["regex"], text):
                    emit(blk.address, "value",
                         f"{attr} = {text!r} {rule['message']} ({spec.provenance})")
        for attr, allowed in spec.rules.get("enums", {}).items():
            for value in _values(blk.body, attr):
                text = _literal(value)
                if text is not None and text not in allowed:
                    emit(blk.address, "value",
                         f"{attr} = {text!r} is not one of {' | '.join(allowed)} "
                         f"({spec.provenance})")
        for group in spec.rules.get("at_least_one_of", []):
            if not any(name in blk.body for name in group):
                emit(blk.address, "required",
                     f"set at least one of {', '.join(group)} ({spec.provenance})")
