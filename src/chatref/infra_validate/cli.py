"""Walking a tree of module directories, and the command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

from chatref.infra_validate.fmt import fmt_problems
from chatref.infra_validate.hcl import (
    load_module_dir,
)
from chatref.infra_validate.model import (
    DEFAULT_SCHEMA,
    REPO_ROOT,
    Finding,
    ModuleDir,
    Schema,
)
from chatref.infra_validate.module_checks import validate_module_dir, validate_tfvars
from chatref.infra_validate.other_providers import shipped_subsets


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

    Their references are still checked; their arguments are not, and the CLI says so. Types in
    the hand-written subsets (``infra/schema/other-providers.json``) are checked.
    """
    covered = shipped_subsets().resources
    found: dict[str, set[str]] = {}
    for directory in module_dirs(root):
        mod = load_module_dir(directory.resolve())
        for rtype, _name in (*mod.resources, *mod.data):
            provider = rtype.split("_", 1)[0]
            if provider != "azurerm" and rtype not in covered:
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
        for provider, names in unchecked_types(path).items():
            unchecked.setdefault(provider, set()).update(names)
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
        errors = [f for f in findings if not f.is_warning]
        warnings = len(findings) - len(errors)
        status = "ok" if not errors else f"{len(errors)} problem(s)"
        if warnings:
            status += f", {warnings} warning(s)"
        print(f"{checked} module director{'y' if checked == 1 else 'ies'} checked against "
              f"azurerm {schema.version}: {status}", file=sys.stderr)
    return 1 if any(not f.is_warning for f in findings) else 0
