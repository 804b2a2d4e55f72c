"""The embedded index: one SQLite file with FTS5 (BM25) and float32 vectors."""

from __future__ import annotations

from pathlib import Path

from chatref.retrieval.types import Passage, Vectors


class SqliteIndex:
    @classmethod
    def open(cls, path: Path, *, embedder_name: str, dimension: int) -> SqliteIndex:
        raise NotImplementedError

    async def keyword_search(self, query: str, limit: int) -> list[Passage]:
        raise NotImplementedError

    async def vector_search(self, vector: Vectors, limit: int) -> list[Passage]:
        raise NotImplementedError

    async def count_chunks(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError
