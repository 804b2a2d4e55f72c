"""Fixtures for the Terraform tests: the azurerm schema and a tiny module writer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from chatref.infra_validate import Schema
from tests.conftest import REPO_ROOT

INFRA = REPO_ROOT / "infra"
SCHEMA_PATH = INFRA / "schema" / "azurerm-4.79.0-subset.json.gz"


@pytest.fixture(scope="session")
def schema() -> Schema:
    if not SCHEMA_PATH.is_file():
        pytest.fail(f"azurerm schema subset missing at {SCHEMA_PATH}")
    return Schema.load(SCHEMA_PATH)


WriteTf = Callable[[str, str], Path]


@pytest.fixture
def write_tf(tmp_path: Path) -> WriteTf:
    """Write `text` to tmp_path/<relative>; returns the file path."""

    def write(relative: str, text: str) -> Path:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write
