"""The validator's data: findings, parsed blocks and directories, the provider schema."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hcl2.utils import SerializationOptions

# The repository this package sits in (src/chatref/infra_validate/ -> the root): the validator is
# a tool for the repository's own Terraform, and the schema subset lives beside that Terraform.
REPO_ROOT = Path(__file__).resolve().parents[3]
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
HCL_OPTIONS = SerializationOptions(with_comments=False, preserve_heredocs=False)


@dataclass(frozen=True)
class Finding:
    """One problem: where it is and what is wrong."""

    file: str
    address: str
    code: str
    message: str

    @property
    def is_warning(self) -> bool:
        """Warnings (codes ending in ``-warning``) are printed but do not fail the check."""
        return self.code.endswith("-warning")

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


# One finding inside a block body: address, code, message.
Emit = Callable[[str, str, str], None]
# One finding: file, address, code, message.
Add = Callable[[Path, str, str, str], None]
# One layout finding: line number, message.
LineEmit = Callable[[int, str], None]
