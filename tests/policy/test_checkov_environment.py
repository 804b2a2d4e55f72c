"""checkov runs with only the environment it needs, never the app's keys (policy/engine.py).

The checkov here is a real executable standing in for it: it writes the environment it was
given beside itself and prints the summary checkov prints for a folder with no resources."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from chatref.policy.engine import run_checkov

SCRIPT = """#!/bin/sh
env > "$(dirname "$0")/seen-environment"
echo '{"summary": {"passed": 0, "failed": 0}}'
"""


def _fake_checkov(folder: Path) -> Path:
    folder.mkdir()
    checkov = folder / "checkov"
    checkov.write_text(SCRIPT)
    checkov.chmod(checkov.stat().st_mode | stat.S_IXUSR)
    return checkov


def _seen(checkov: Path) -> dict[str, str]:
    lines = (checkov.parent / "seen-environment").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def test_checkov_gets_path_home_and_proxies_but_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "sk-do-not-pass")
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "AccountKey=do-not-pass")
    monkeypatch.setenv("SOME_TOKEN", "do-not-pass")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    infra = tmp_path / "infra"
    infra.mkdir()
    (infra / "main.tf").write_text('resource "azurerm_resource_group" "rg" {}\n')
    checkov = _fake_checkov(tmp_path / "bin")
    assert run_checkov(infra, plan=False, checkov=checkov) == []
    seen = _seen(checkov)
    assert "do-not-pass" not in json.dumps(seen)
    assert seen["HTTPS_PROXY"] == "http://proxy.internal:3128"
    assert seen["HOME"] == str(tmp_path / "home")
    assert "PATH" in seen
    assert seen["RENDER_EDGES_DUPLICATE_PERCENT"] == "100"


def test_an_explicit_environment_is_all_checkov_gets(tmp_path: Path) -> None:
    infra = tmp_path / "infra"
    infra.mkdir()
    (infra / "main.tf").write_text("")
    checkov = _fake_checkov(tmp_path / "bin")
    run_checkov(infra, plan=False, checkov=checkov, environment={"PATH": "/usr/bin:/bin"})
    seen = _seen(checkov)
    assert seen["PATH"] == "/usr/bin:/bin"
    assert "HOME" not in seen
