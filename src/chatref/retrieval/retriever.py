"""The retriever service: keyword, vector or hybrid search over a ``PassageIndex``."""

from __future__ import annotations

import asyncio
from typing import Literal

from chatref.errors import InputError
from chatref.retrieval.diversity import PER_DOCUMENT, diversify
from chatref.retrieval.fusion import (
    DEFAULT_CLAUSE_WEIGHT,
    DEFAULT_DOCUMENT_WEIGHT,
    DEFAULT_HEADING_WEIGHT,
    DEFAULT_OUTLINE_WEIGHT,
    DEFAULT_TOKEN_WEIGHT,
    DEFAULT_VECTOR_WEIGHT,
    TOKEN_HEAD,
    blend,
    boost_documents,
    boost_headings,
    reciprocal_rank_fusion,
    rerank_by_tokens,
    weighted_fusion,
)
from chatref.retrieval.text import main_clause
from chatref.retrieval.types import (
    Embedder,
    HybridSearch,
    Passage,
    PassageIndex,
    SearchMode,
    TokenMatcher,
)

SEARCH_MODES: tuple[SearchMode, ...] = ("hybrid", "keyword", "vector")


class Retriever:
    """Finds the passages that best answer a query.

    The keyword arguments are the tuned defaults; benchmarks and ``chatref eval`` pass others to
    reproduce the comparisons in docs/benchmarks.md.

    For example (an illustration, not run as a doctest)::

        retriever = Retriever(index, embedder)
        [p.title for p in await retriever.search("rotate keys", top_k=3)]
    """

    def __init__(
        self,
        index: PassageIndex,
        embedder: Embedder,
        *,
        vector_weight: float = DEFAULT_VECTOR_WEIGHT,
        candidates: int = 100,
        fusion: Literal["weighted", "rrf"] = "weighted",
        heading_weight: float = DEFAULT_HEADING_WEIGHT,
        clause_weight: float = DEFAULT_CLAUSE_WEIGHT,
        document_weight: float = DEFAULT_DOCUMENT_WEIGHT,
        outline_weight: float = DEFAULT_OUTLINE_WEIGHT,
        per_document: int = PER_DOCUMENT,
        token_weight: float = DEFAULT_TOKEN_WEIGHT,
        token_head: int = TOKEN_HEAD,
    ) -> None:
        self._index = index
        # An index whose service fuses keyword and vector itself gets one hybrid request.
        self._service_hybrid = index if isinstance(index, HybridSearch) else None
        self._embedder = embedder
        self._vector_weight = vector_weight
        self._candidates = candidates
        # "rrf" is kept to reproduce the comparison in docs/benchmarks.md; "weighted" is better.
        self._fusion = fusion
        self._heading_weight = heading_weight
        self._clause_weight = clause_weight
        self._document_weight = document_weight
        self._outline_weight = outline_weight
        self._per_document = per_document
        # Late interaction re-scores the first fused candidates, if the embedder can.
        self._token_matcher = embedder if isinstance(embedder, TokenMatcher) else None
        self._token_weight = token_weight
        self._token_head = token_head

    async def search(
        self, query: str, *, top_k: int = 5, mode: SearchMode = "hybrid"
    ) -> list[Passage]:
        if mode not in SEARCH_MODES:
            raise InputError(f"unknown search mode {mode!r}; use one of {', '.join(SEARCH_MODES)}")
        if top_k < 1:
            raise InputError(f"top_k must be at least 1, not {top_k}")
        if not query.strip():
            return []
        return diversify(await self._ranked(query, top_k, mode), top_k,
                         per_document=self._per_document)

    async def _ranked(self, query: str, top_k: int, mode: SearchMode) -> list[Passage]:
        """More than ``top_k`` candidates, best first (``diversify`` picks from them)."""
        pool = max(self._candidates, top_k)
        if mode == "keyword":
            return await self._index.keyword_search(query, pool)
        query_vector = (await self._embedder.embed([query]))[0]
        if mode == "vector":
            return await self._index.vector_search(query_vector, pool)
        if self._service_hybrid is not None:
            return await self._service_hybrid.hybrid_search(query, query_vector, top_k)
        keyword, vector = await asyncio.gather(  # the two halves run in parallel
            self._keyword(query, pool),
            self._index.vector_search(query_vector, pool),
        )
        if self._fusion == "rrf":
            return reciprocal_rank_fusion(keyword, vector)
        fused = weighted_fusion(keyword, vector, vector_weight=self._vector_weight)
        if self._token_matcher is not None and self._token_weight > 0:
            head = fused[:self._token_head]  # the texts as ingest embeds them (embedding_text)
            matches = self._token_matcher.match_tokens(
                query, [f"{p.title}\n{p.section or ''}\n{p.text}" for p in head])
            fused = rerank_by_tokens(fused, matches.tolist(), weight=self._token_weight)
        fused = boost_headings(query, fused, weight=self._heading_weight)
        return boost_documents(query, fused, document_weight=self._document_weight,
                               outline_weight=self._outline_weight)

    async def _keyword(self, query: str, pool: int) -> list[Passage]:
        """The keyword half of a hybrid search; a question with a condition ("... if the primary
        is throttled") is also searched without it, and the two rankings blended."""
        main = main_clause(query) if self._clause_weight < 1 else None
        if main is None:
            return await self._index.keyword_search(query, pool)
        whole, clause = await asyncio.gather(self._index.keyword_search(query, pool),
                                             self._index.keyword_search(main, pool))
        return blend(whole, clause, weight=self._clause_weight)
