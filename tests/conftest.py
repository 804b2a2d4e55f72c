"""Shared fixtures. The autouse fixture isolates every test from the developer's environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

_OUR_PREFIXES = ("CHATREF_", "AZURE_", "OPENAI_", "APPLICATIONINSIGHTS_")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No chatref/Azure/OpenAI variable leaks in; data goes to tmp_path; no .env is read."""
    for name in list(os.environ):
        if name.startswith(_OUR_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("PORT", raising=False)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("CHATREF_DATA_DIR", str(data_dir))
    monkeypatch.chdir(tmp_path)
    yield data_dir


REPO_ROOT = Path(__file__).resolve().parent.parent
