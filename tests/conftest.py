"""Shared fixtures. The autouse fixture isolates every test from the developer's environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from chatref.retrieval.embedder import WordLlamaEmbedder
    from chatref.retrieval.sqlite_index import SqliteIndex

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


@pytest.fixture(scope="session")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> WordLlamaEmbedder:
    """The embedded default embedder (weights ship in its wheel), loaded once per session."""
    from chatref.retrieval.embedder import WordLlamaEmbedder

    return WordLlamaEmbedder(cache_dir=tmp_path_factory.mktemp("wordllama"))


@pytest.fixture
def index(tmp_path: Path, embedder: WordLlamaEmbedder) -> Iterator[SqliteIndex]:
    """A fresh SQLite index in tmp_path, built for ``embedder``."""
    from chatref.retrieval.sqlite_index import SqliteIndex

    opened = SqliteIndex.open(tmp_path / "index.sqlite", embedder_name=embedder.name,
                              dimension=embedder.dimension)
    yield opened
    opened.close()
