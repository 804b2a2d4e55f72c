"""Finding the files to ingest under the given roots, safely in untrusted folders.

- A symlink whose target leaves every given root is not followed (reported as skipped, with the
  way to include it) unless ``follow_symlinks``; inside the roots a link is harmless, since its
  target is ingested under its real path once.
- A symlink loop, a dangling link or an unreadable entry is one failed file, never an aborted
  ingest.
- Folders reached through a followed link are walked once (no loop through a link to a parent).

>>> files, problems = discover([Path("docs")])
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from chatref.ingest.parsers import SUPPORTED_SUFFIXES


@dataclass(frozen=True)
class SourceFile:
    path: Path  # absolute, resolved: the document's identity
    source: str  # as the user named it (root + relative part): what citations show


@dataclass(frozen=True)
class Problem:
    source: str
    status: Literal["failed", "skipped"]
    reason: str


def _supported(name: str) -> bool:
    return not name.startswith(".") and Path(name).suffix.lower() in SUPPORTED_SUFFIXES


def _resolve(path: Path) -> Path | str:
    """The real path, or why there is none (a loop, a dangling link)."""
    try:
        return path.resolve(strict=True)
    except RuntimeError:  # Python < 3.13 raises this for a loop
        return "symlink loop"
    except FileNotFoundError:
        return "broken symlink (its target does not exist)" if path.is_symlink() else (
            "no such file or directory")
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            return "symlink loop"
        return f"unreadable: {exc.strerror or exc}"


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


class _Walk:
    def __init__(self, roots: Sequence[Path], follow_symlinks: bool) -> None:
        self.follow = follow_symlinks
        self.real_roots = [r for r in (_resolve(root) for root in roots) if isinstance(r, Path)]
        self.found: dict[Path, SourceFile] = {}
        self.problems: list[Problem] = []
        self.walked: set[Path] = set()

    def _outside(self, shown: Path, target: Path) -> bool:
        if self.follow or _inside(target, self.real_roots):
            return False
        self.problems.append(Problem(str(shown), "skipped", (
            f"symlink to {target}, outside the given folders: not followed "
            "(use --follow-symlinks to include it)")))
        return True

    def file(self, shown: Path) -> None:
        real = _resolve(shown)
        if isinstance(real, str):
            self.problems.append(Problem(str(shown), "failed", real))
            return
        if shown.is_symlink() and self._outside(shown, real):
            return
        self.found.setdefault(real, SourceFile(real, str(shown)))

    def folder(self, shown: Path) -> None:
        real = _resolve(shown)
        if isinstance(real, str):
            self.problems.append(Problem(str(shown), "failed", real))
            return
        if real in self.walked:
            return
        self.walked.add(real)
        try:
            entries = sorted(os.scandir(shown), key=lambda e: e.name)
        except OSError as exc:
            self.problems.append(Problem(str(shown), "failed", f"unreadable: {exc.strerror}"))
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(shown) / entry.name
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_link, is_dir = False, False
            if is_link:
                target = _resolve(path)
                if isinstance(target, str):
                    if _supported(entry.name):
                        self.problems.append(Problem(str(path), "failed", target))
                    continue
                if target.is_dir():
                    # Inside the roots, the target is walked under its own name already.
                    if self.follow:
                        self.folder(path)
                    elif not _inside(target, self.real_roots):
                        self._outside(path, target)
                    continue
                if _supported(entry.name):
                    self.file(path)
            elif is_dir:
                self.folder(path)
            elif _supported(entry.name):
                self.file(path)


def discover(
    roots: Sequence[Path], *, follow_symlinks: bool = False
) -> tuple[list[SourceFile], list[Problem]]:
    """Supported files under ``roots`` (recursively, hidden entries skipped), and the entries
    that could not be taken, each with its reason."""
    walk = _Walk(roots, follow_symlinks)
    for root in roots:
        if root.is_dir():
            walk.folder(root)
        elif root.is_file():
            if root.suffix.lower() not in SUPPORTED_SUFFIXES:
                walk.problems.append(Problem(str(root), "failed", (
                    f"unsupported file type {root.suffix or '(none)'!r}; "
                    f"supported: {', '.join(SUPPORTED_SUFFIXES)}")))
                continue
            real = root.resolve()
            walk.found.setdefault(real, SourceFile(real, str(root)))
        else:
            reason = _resolve(root)
            walk.problems.append(Problem(str(root), "failed", (
                reason if isinstance(reason, str) else "not a file or directory")))
    return list(walk.found.values()), walk.problems
