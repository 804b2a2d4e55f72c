"""The lock files agree with what they lock: a pin changed without `make lock` fails here."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements"
_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;\\]+)")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(lines: list[str]) -> dict[str, str]:
    return {_normal(m[1]): m[2] for line in lines if (m := _PIN.match(line.strip()))}


def _locked(name: str) -> tuple[dict[str, str], str]:
    text = (REQUIREMENTS / name).read_text()
    return _pins(text.splitlines()), text


@pytest.mark.parametrize(("lock", "groups"), [("app.txt", ["app"]), ("dev.txt", ["app", "dev"])])
def test_every_pin_in_pyproject_is_locked_at_that_version(lock: str, groups: list[str]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted: dict[str, str] = {}
    for group in groups:
        wanted.update(_pins(project["dependencies"] if group == "app" else extras[group]))
    locked, _ = _locked(lock)
    assert {n: locked.get(n) for n in wanted} == wanted, f"run `make lock`: {lock} is stale"


def test_the_checkov_lock_matches_its_input() -> None:
    wanted = _pins((REQUIREMENTS / "checkov.in").read_text().splitlines())
    locked, _ = _locked("checkov.txt")
    assert wanted and {n: locked.get(n) for n in wanted} == wanted


@pytest.mark.parametrize("lock", ["app.txt", "dev.txt", "checkov.txt"])
def test_every_locked_package_carries_a_hash(lock: str) -> None:
    locked, text = _locked(lock)
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
    pinned = [b for b in blocks if _PIN.match(b)]
    assert len(pinned) == len(locked) > 10
    assert [b.split()[0] for b in pinned if "--hash=sha256:" not in b] == []
