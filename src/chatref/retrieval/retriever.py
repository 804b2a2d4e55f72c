"""The retriever service: keyword, vector or hybrid search over a ``PassageIndex``."""

from __future__ import annotations

from chatref.retrieval.types import Embedder, Passage, PassageIndex, SearchMode


class Retriever:
    """Finds the passages that best answer a query."""

    def __init__(self, index: PassageIndex, embedder: Embedder) -> None:
        self._index = index
        self._embedder = embedder

    async def search(
        self, query: str, *, top_k: int = 5, mode: SearchMode = "hybrid"
    ) -> list[Passage]:
        raise NotImplementedError
