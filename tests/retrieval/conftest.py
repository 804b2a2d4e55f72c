from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chatref.retrieval.embedder import WordLlamaEmbedder
from chatref.retrieval.sqlite_index import SqliteIndex


@pytest.fixture(scope="session")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> WordLlamaEmbedder:
    return WordLlamaEmbedder(cache_dir=tmp_path_factory.mktemp("wordllama"))


@pytest.fixture
def index(tmp_path: Path, embedder: WordLlamaEmbedder) -> Iterator[SqliteIndex]:
    opened = SqliteIndex.open(tmp_path / "index.sqlite", embedder_name=embedder.name,
                              dimension=embedder.dimension)
    yield opened
    opened.close()


from tests.fakes.search_server import fake_search, fake_search_server  # noqa: E402, F401
