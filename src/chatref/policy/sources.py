"""Read a root module's source for what checkov's graph cannot tell us.

A central ``module "private_endpoint" { for_each = local.private_endpoints }`` connects to its
services only through module outputs, which checkov renders unreliably when several modules
share output names (``id``). The module block's own text, and the locals it uses, name the
modules it points at: ``module.key_vault.id``. ``terraform fmt`` layout is assumed: top-level
blocks close with ``}`` in column 0.
"""

from __future__ import annotations

import re
from pathlib import Path

_MODULE_REF = re.compile(r"\bmodule\.([A-Za-z0-9_-]+)")
_LOCAL_REF = re.compile(r"\blocal\.([A-Za-z0-9_-]+)")
_MODULE_BLOCK = re.compile(r'^module\s+"([A-Za-z0-9_-]+)"\s*\{')


def _local_text(folder: Path, name: str) -> str:
    """The source text of ``local.<name>``: its line in a locals block up to the next local."""
    head = re.compile(rf"^(\s*){re.escape(name)}\s*=")
    for tf_file in sorted(folder.glob("*.tf")):
        try:
            lines = tf_file.read_text().splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        in_locals = False
        for index, line in enumerate(lines):
            if re.match(r"^locals\s*\{", line):
                in_locals = True
                continue
            if in_locals and line.startswith("}"):
                in_locals = False
                continue
            match = head.match(line) if in_locals else None
            if match is None:
                continue
            indent, body = match.group(1), [line]
            for following in lines[index + 1 :]:
                next_local = re.match(rf"^{indent}[A-Za-z0-9_-]+\s*=", following)
                if following.startswith("}") or next_local:
                    break
                body.append(following)
            return "\n".join(body)
    return ""


def _module_blocks(folder: Path) -> dict[str, str]:
    """The source text of every top-level ``module "name" { ... }`` block in ``folder``."""
    blocks: dict[str, str] = {}
    for tf_file in sorted(folder.glob("*.tf")):
        try:
            lines = tf_file.read_text().splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        start: int | None = None
        for index, line in enumerate(lines):
            head = _MODULE_BLOCK.match(line)
            if head and start is None:
                start, name = index, head.group(1)
            elif start is not None and line.rstrip() == "}":
                blocks[name] = "\n".join(lines[start : index + 1])
                start = None
    return blocks


def module_texts(folder: Path) -> dict[str, str]:
    """For each module call in the root module ``folder``: its block's text followed by the
    text of every local it uses, directly or through other locals."""
    texts: dict[str, str] = {}
    for name, text in _module_blocks(folder).items():
        parts = [text]
        pending, seen = list(_LOCAL_REF.findall(text)), set()
        while pending:
            local_name = pending.pop()
            if local_name in seen:
                continue
            seen.add(local_name)
            local = _local_text(folder, local_name)
            parts.append(local)
            pending += _LOCAL_REF.findall(local)
        texts[name] = "\n".join(parts)
    return texts


def module_references(folder: Path) -> dict[str, set[str]]:
    """For each module call in the root module ``folder``: the modules its arguments refer
    to, directly or through locals."""
    return {
        name: set(_MODULE_REF.findall(text)) - {name}
        for name, text in module_texts(folder).items()
    }
