"""Extract the azurerm provider rules that its JSON schema cannot show, from the provider source.

``terraform providers schema -json`` says which arguments exist and whether they are required; it
does not say which values a string accepts, which arguments exclude or need each other, or which
ones replace the resource when changed. The provider's Go source does (``validation.StringInSlice``,
``ConflictsWith``, ``ExactlyOneOf``, ``AtLeastOneOf``, ``RequiredWith``, ``ForceNew``). This script
reads them, for the resource types of the repository's schema subset, from a git clone of
hashicorp/terraform-provider-azurerm at a tag, and writes them as data with each type's source
file (about five minutes: it follows SDK constants through ``git grep``)::

    python scripts/azurerm_provider_rules.py /path/to/terraform-provider-azurerm.git v4.79.0

It reads the source text, not a compiled schema: a value list built by code it cannot follow (a
helper other than ``StringInSlice`` over literals, SDK constants or ``PossibleValuesFor...()``) is
left out, so the rules are a floor, never a guess. ``commonschema.Location()`` and
``ResourceGroupName()`` are ForceNew in the provider; they are recorded as such.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
SUBSET = REPO_ROOT / "infra" / "schema" / "azurerm-4.79.0-subset.json.gz"
OUT = REPO_ROOT / "src" / "chatref" / "infra_validate" / "azurerm-4.79.0-rules.json"

_KEY_OPEN = re.compile(r'^\s*"(?P<key>[a-z0-9_]+)":\s*\{\s*$')
# A 4.x-only redefinition, inside `if !features.FivePointOh() {`:
# `resource.Schema["x"] = &pluginsdk.Schema{`; in 4.x the provider serves this one.
_KEY_OVERRIDE = re.compile(
    r'^\s*\w+(?:\.Schema)?\["(?P<key>[a-z0-9_]+)"\]\s*=\s*&pluginsdk\.Schema\{\s*$')
_KEY_COMMON = re.compile(r'^\s*"(?P<key>[a-z0-9_]+)":\s*commonschema\.(?P<fn>\w+)\(')
_LIST_ATTR = re.compile(
    r"(?P<kind>ConflictsWith|ExactlyOneOf|AtLeastOneOf|RequiredWith):\s*\[\]string\{(?P<body>[^}]*)\}",
    re.S)
_IN_SLICE = re.compile(r"validation\.StringInSlice\(\s*(?P<arg>\[\]string\{(?P<body>[^}]*)\}|"
                       r"(?P<pkg>\w+)\.PossibleValuesFor(?P<type>\w+)\(\))", re.S)
_FORCE_NEW_COMMON = {"Location", "ResourceGroupName", "ResourceGroupNameDiffSuppress"}


class Source:
    """Files of one tag of the provider repository, read through git."""

    def __init__(self, git_dir: Path, tag: str) -> None:
        self.git_dir, self.tag = git_dir, tag
        self._files = self._git("ls-tree", "-r", "--name-only", tag).splitlines()

    def _git(self, *args: str) -> str:
        command = ["git", "--git-dir", str(self.git_dir), *args]
        return subprocess.run(command, check=True, capture_output=True,  # noqa: S603
                              text=True).stdout

    def show(self, path: str) -> str:
        return self._git("show", f"{self.tag}:{path}")

    def grep(self, pattern: str, *paths: str) -> list[tuple[str, str]]:
        try:
            out = self._git("grep", "-n", "-E", pattern, self.tag, "--", *paths)
        except subprocess.CalledProcessError:
            return []
        hits = []
        for line in out.splitlines():
            _tag, path, _number, text = line.split(":", 3)
            hits.append((path, text))
        return hits

    def commit(self) -> str:
        return self._git("rev-list", "-n", "1", self.tag).strip()


def resource_files(source: Source, types: set[str]) -> dict[str, str]:
    """Go file defining each resource type: registration maps first, then typed resources."""
    found: dict[str, str] = {}
    functions: dict[str, str] = {}
    for path, text in source.grep(r'^\s*"azurerm_[a-z0-9_]+":\s+resource\w+\(\),',
                                  "internal/services"):
        if not path.endswith("registration.go"):
            continue
        match = re.search(r'"(azurerm_[a-z0-9_]+)":\s+(resource\w+)\(\)', text)
        if match and match.group(1) in types:
            functions[match.group(1)] = match.group(2)
    for rtype, function in functions.items():
        for path, _text in source.grep(rf"^func {function}\(\) \*pluginsdk\.Resource",
                                       "internal/services"):
            found.setdefault(rtype, path)
    for path, text in source.grep(r'return "azurerm_[a-z0-9_]+"$', "internal/services"):
        name = re.search(r'"(azurerm_[a-z0-9_]+)"', text)
        if name and name.group(1) in types and not path.endswith(("_test.go",)) \
                and "data_source" not in path:
            found.setdefault(name.group(1), path)
    return found


def _strings_of(body: str, source: Source, imports: dict[str, str]) -> list[str] | None:
    """Literal strings and string(pkg.Const) items of a []string{...} body, or None."""
    values: list[str] = []
    for item in (part.strip() for part in body.split(",")):
        if not item or item.startswith("//"):
            continue
        literal = re.fullmatch(r'"([^"]*)"', item)
        constant = re.fullmatch(r"string\((\w+)\.(\w+)\)", item)
        if literal:
            values.append(literal.group(1))
        elif constant and constant.group(1) in imports:
            value = _constant(source, imports[constant.group(1)], constant.group(2))
            if value is None:
                return None
            values.append(value)
        else:
            return None
    return values


_CONSTANTS: dict[tuple[str, str], str | None] = {}


def _constant(source: Source, package_dir: str, name: str) -> str | None:
    if (package_dir, name) not in _CONSTANTS:
        _CONSTANTS[package_dir, name] = _find_constant(source, package_dir, name)
    return _CONSTANTS[package_dir, name]


def _find_constant(source: Source, package_dir: str, name: str) -> str | None:
    for _path, text in source.grep(rf"^\s*{name}\s+\w+\s*=\s*\"", package_dir):
        match = re.search(r'=\s*"([^"]*)"', text)
        if match:
            return match.group(1)
    return None


def _possible_values(source: Source, package_dir: str, type_name: str) -> list[str] | None:
    hits = source.grep(rf"^func PossibleValuesFor{type_name}\(\)", package_dir)
    if not hits:
        return None
    text = source.show(hits[0][0])
    body = text.split(f"func PossibleValuesFor{type_name}()", 1)[1].split("}", 1)[0]
    names = re.findall(r"string\((\w+)\)", body)
    values = [_constant(source, package_dir, n) for n in names]
    return None if any(v is None for v in values) else [v for v in values if v is not None]


def _imports(text: str) -> dict[str, str]:
    """Package alias -> vendored directory, for go-azure-sdk imports."""
    found: dict[str, str] = {}
    for alias, path in re.findall(r'^\s*(?:(\w+)\s+)?"(github\.com/hashicorp/go-azure-sdk/[^"]+)"',
                                  text, re.M):
        found[alias or path.rsplit("/", 1)[1]] = f"vendor/{path}"
    return found


def _clean(path: str) -> str:
    return re.sub(r"\.0(?=\.|$)", "", path)


def rules_of(source: Source, path: str) -> dict[str, Any]:
    """Enumerations, argument relations and ForceNew arguments of one resource file."""
    text = source.show(path)
    imports = _imports(text)
    bodies, force_new = _key_bodies(text.splitlines())
    enums: dict[str, list[str]] = {}
    relations: dict[str, dict[str, list[str]]] = {}
    for key_path, body_lines in bodies.items():
        own = "\n".join(body_lines)  # nested keys' lines went to their own bodies
        if re.search(r"^\s*ForceNew:\s+true", own, re.M):
            force_new.append(key_path)
        match = _IN_SLICE.search(own)
        if match:
            if match.group("body") is not None:
                values = _strings_of(match.group("body"), source, imports)
            else:
                package = imports.get(match.group("pkg"))
                values = _possible_values(source, package, match.group("type")) if package else None
            if values:
                enums[key_path] = values
        for rel in _LIST_ATTR.finditer(own):
            names = re.findall(r'"([^"]+)"', rel.group("body"))
            if names:
                relations.setdefault(rel.group("kind"), {})[key_path] = [_clean(n) for n in names]
    enums, relations, force_new = _apply_overrides(enums, relations, force_new)
    return {"file": path, "enums": enums, "force_new": sorted(set(force_new)), **{
        {"ConflictsWith": "conflicts_with", "ExactlyOneOf": "exactly_one_of",
         "AtLeastOneOf": "at_least_one_of", "RequiredWith": "required_with"}[k]: v
        for k, v in sorted(relations.items())}}


def _key_bodies(lines: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Each schema key's own lines, by dotted path ("!" marks a 4.x redefinition), and the
    arguments made ForceNew by a ``commonschema`` helper."""
    stack: list[tuple[str, int]] = []  # (key, brace depth at which its literal opened)
    depth = 0
    bodies: dict[str, list[str]] = {}
    force_new: list[str] = []
    v4_only = False  # inside the latest `if !features.FivePointOh()` seen
    for line in lines:
        common = _KEY_COMMON.match(line)
        if common and common.group("fn") in _FORCE_NEW_COMMON:
            force_new.append(".".join([k for k, _ in stack] + [common.group("key")]))
        if "FivePointOh()" in line:
            v4_only = "!features.FivePointOh()" in line
        opened = _KEY_OPEN.match(line)
        override = _KEY_OVERRIDE.match(line) if v4_only else None
        if override:
            stack.append(("!" + override.group("key"), depth))
            bodies.setdefault(".".join(k for k, _ in stack), [])
        elif opened:
            stack.append((opened.group("key"), depth))
            bodies.setdefault(".".join(k for k, _ in stack), [])
        elif stack:
            # only the key's own literal, not nested Elem schemas (they have keys of their own)
            key_path = ".".join(k for k, _ in stack)
            bodies[key_path].append(line)
        depth += line.count("{") - line.count("}")
        while stack and depth <= stack[-1][1]:
            stack.pop()
    return bodies, force_new


def _apply_overrides(
    enums: dict[str, list[str]], relations: dict[str, dict[str, list[str]]],
    force_new: list[str],
) -> tuple[dict[str, list[str]], dict[str, dict[str, list[str]]], list[str]]:
    """4.x redefinitions (paths marked "!") replace the base definitions of the same argument."""
    roots = {p[1:].split(".", 1)[0] for p in (*enums, *force_new,
                                              *(k for t in relations.values() for k in t))
             if p.startswith("!")}

    def replaced(path: str) -> bool:
        return path.split(".", 1)[0] in roots

    def keep(table: dict[str, Any]) -> dict[str, Any]:
        out = {p: v for p, v in table.items() if not p.startswith("!") and not replaced(p)}
        out.update({p[1:]: v for p, v in table.items() if p.startswith("!")})
        return out

    new_force = [p for p in force_new if not p.startswith("!") and not replaced(p)]
    new_force += [p[1:] for p in force_new if p.startswith("!")]
    return keep(enums), {k: keep(t) for k, t in relations.items()}, new_force


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("git_dir", type=Path,
                        help="a clone of hashicorp/terraform-provider-azurerm")
    parser.add_argument("tag", help="the provider version's tag, e.g. v4.79.0")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    with gzip.open(SUBSET, "rt", encoding="utf-8") as handle:
        types = set(json.load(handle)["resource_schemas"])
    source = Source(args.git_dir, args.tag)
    files = resource_files(source, types)
    resources = {rtype: rules_of(source, path) for rtype, path in sorted(files.items())}
    document = {
        "provider": "registry.terraform.io/hashicorp/azurerm",
        "version": args.tag.lstrip("v"),
        "source": f"hashicorp/terraform-provider-azurerm, tag {args.tag} "
                  f"(commit {source.commit()}); written by scripts/azurerm_provider_rules.py",
        "not_found": sorted(types - files.keys()),
        "resources": resources,
    }
    args.out.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{args.out}: rules for {len(resources)} resource types "
          f"({len(document['not_found'])} not found)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
