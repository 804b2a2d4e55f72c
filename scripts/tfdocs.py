"""Generate the inputs/outputs section of every Terraform module README from its .tf files.

Each ``infra/modules/<name>/README.md`` keeps its hand-written introduction; the part between
``<!-- BEGIN_TF_DOCS -->`` and ``<!-- END_TF_DOCS -->`` is rewritten from ``variables.tf`` and
``outputs.tf``. ``--check`` exits 1 when a README is out of date (CI and tests use it).

Usage::

    python scripts/tfdocs.py            # rewrite
    python scripts/tfdocs.py --check    # verify
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

REPO_ROOT = Path(__file__).resolve().parent.parent
MODULES = REPO_ROOT / "infra" / "modules"
BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
_OPTIONS = SerializationOptions(with_comments=False, preserve_heredocs=False)


def _text(value: Any) -> str:
    """An hcl2 value as the HCL a reader would write."""
    if isinstance(value, str):
        if value.startswith("${") and value.endswith("}"):
            return value[2:-1]
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    if isinstance(value, dict):
        items = [f"{k} = {_text(v)}" for k, v in value.items() if not k.startswith("__")]
        return "{ " + ", ".join(items) + " }"
    return str(value)


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _blocks(path: Path, kind: str) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for tf in sorted(path.glob("*.tf")):
        with tf.open(encoding="utf-8") as handle:
            doc = hcl2.load(handle, serialization_options=_OPTIONS)
        for entry in doc.get(kind, []):
            for name, body in entry.items():
                if not name.startswith("__"):
                    found.append((_unquote(name), body))
    return found


def render(module: Path) -> str:
    """The generated Markdown section of one module."""
    lines = [BEGIN, "## Inputs", "", "| Name | Type | Default | Required | Description |",
             "| --- | --- | --- | --- | --- |"]
    for name, body in _blocks(module, "variable"):
        required = "default" not in body
        default = "" if required else f"`{_cell(_text(body['default']))}`"
        lines.append(
            f"| `{name}` | `{_cell(_text(body.get('type', 'any')))}` | {default} | "
            f"{'yes' if required else 'no'} | {_cell(_unquote(str(body.get('description', ''))))} |"
        )
    lines += ["", "## Outputs", "", "| Name | Description |", "| --- | --- |"]
    for name, body in _blocks(module, "output"):
        lines.append(f"| `{name}` | {_cell(_unquote(str(body.get('description', ''))))} |")
    lines.append(END)
    return "\n".join(lines) + "\n"


def updated_readme(module: Path) -> str:
    readme = module / "README.md"
    current = readme.read_text(encoding="utf-8") if readme.exists() else f"# {module.name}\n\n"
    section = render(module)
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        return head + section + (("\n" + tail) if tail else "")
    return current.rstrip("\n") + "\n\n" + section


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate module README inputs/outputs.")
    parser.add_argument("--check", action="store_true", help="fail if a README is out of date")
    parser.add_argument("--modules", type=Path, default=MODULES)
    args = parser.parse_args(argv)
    stale: list[str] = []
    for module in sorted(p for p in args.modules.iterdir() if (p / "variables.tf").exists()):
        readme = module / "README.md"
        wanted = updated_readme(module)
        current = readme.read_text(encoding="utf-8") if readme.exists() else ""
        if wanted != current:
            stale.append(str(readme))
            if not args.check:
                readme.write_text(wanted, encoding="utf-8")
    if args.check and stale:
        for path in stale:
            print(f"out of date: {path} (run `make docs`)", file=sys.stderr)
        return 1
    if not args.check:
        print(f"{len(stale)} README(s) updated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
