"""The layout rules of `terraform fmt` that matter in review (a heuristic, not the real one)."""

from __future__ import annotations

import re
from pathlib import Path

from chatref.infra_validate.model import (
    Finding,
    LineEmit,
)

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


def _check_comment_columns(group: list[tuple[int, re.Match[str]]], emit: LineEmit) -> None:
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
