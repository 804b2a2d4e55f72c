"""The retrieval seam: passages, the embedder and the passage index Protocols.

A ``PassageIndex`` stores chunks with their vectors and answers keyword and vector queries; the
``Retriever`` service (retrieval/retriever.py) fuses the two. The embedded default is a SQLite file
(retrieval/sqlite_index.py); Azure AI Search is the production implementation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

SearchMode = Literal["hybrid", "keyword", "vector"]
Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Passage:
    """One retrieved chunk of a document, with where it came from."""

    chunk_id: str
    doc_id: str
    source: str  # the file's path (or blob URL) as ingested
    title: str
    page: int | None  # 1-based PDF page, else None
    section: str | None  # heading path for Markdown/HTML, else None
    text: str
    score: float = 0.0
    scores: dict[str, float] = field(default_factory=dict)  # per-mode raw scores, for debugging


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    async def embed(self, texts: Sequence[str]) -> Vectors: ...

    async def aclose(self) -> None: ...


class PassageIndex(Protocol):
    """What the retriever needs from an index: ranked candidates by keyword and by vector."""

    async def keyword_search(self, query: str, limit: int) -> list[Passage]: ...

    async def vector_search(self, vector: Vectors, limit: int) -> list[Passage]: ...

    async def count_chunks(self) -> int: ...
