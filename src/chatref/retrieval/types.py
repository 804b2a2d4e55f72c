"""The retrieval seam: passages, the embedder and the index Protocols.

Two Protocols split what chat needs of an index from what ingestion needs:

- ``PassageIndex`` (search): ranked candidates by keyword and by vector. The ``Retriever``
  (retrieval/retriever.py) fuses the two itself, unless the index is also a ``HybridSearch``,
  whose service fuses them in one request (Azure AI Search's reciprocal-rank fusion).
- ``DocumentWriter`` (write): the content hashes of the documents it holds, one document's
  chunks replaced atomically, documents removed, and which embedder its vectors come from.

``SearchIndex`` is both, plus ``aclose``: what the composition root (app.py) builds from
Settings. Implementations: one SQLite file (retrieval/sqlite_index.py, the embedded default) and
Azure AI Search (retrieval/azure_search.py). tests/retrieval/test_index_contract.py runs one
contract suite over every implementation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

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


@runtime_checkable
class TokenMatcher(Protocol):
    """An embedder that can also compare a query with texts token by token (late interaction).

    A static embedding such as WordLlama's is a sum of token vectors, so each token's vector is
    at hand: ``match_tokens`` gives, for each text, how well the query's tokens find a close
    token in it. A retriever given a token weight re-scores its best hybrid candidates with it
    (retrieval/fusion.py, ``rerank_by_tokens``; off by default); an embedder without it (Azure
    OpenAI) is simply not asked.
    """

    def match_tokens(self, query: str, texts: Sequence[str]) -> Vectors: ...


@dataclass(frozen=True)
class ChunkRecord:
    """A chunk ready to be written: its text and where it came from (vectors go alongside)."""

    ordinal: int
    title: str
    page: int | None
    section: str | None
    text: str


@dataclass(frozen=True)
class DocumentRecord:
    doc_id: str
    path: str  # absolute path or URL: the identity used for incremental updates and pruning
    source: str  # what users see and cite
    title: str
    # The version of the bytes whose chunks are stored, stamped with the pipeline's version
    # (ingest/pipeline.stored_version): "p2:sha256:<hex>" for a file, "p2:md5:<hex>" or
    # "p2:etag:<etag>" for a blob (ingest/blob_source).
    content_hash: str


class PassageIndex(Protocol):
    """What the retriever needs from an index: ranked candidates by keyword and by vector."""

    async def keyword_search(self, query: str, limit: int) -> list[Passage]: ...

    async def vector_search(self, vector: Vectors, limit: int) -> list[Passage]: ...

    async def count_chunks(self) -> int: ...


@runtime_checkable
class Warmable(Protocol):
    """An index that can load ahead of its first search what that search would (the embedded
    index: its saved vector graph and keyword postings, or build them from its rows)."""

    async def warm(self) -> None: ...


@runtime_checkable
class HybridSearch(Protocol):
    """An index whose service fuses keyword and vector results in one request.

    The retriever then sends that one request instead of two searches and its own fusion.
    """

    async def hybrid_search(self, query: str, vector: Vectors, limit: int) -> list[Passage]: ...


class DocumentWriter(Protocol):
    """What ingestion needs of an index: incremental, per-document writes.

    ``path`` is a document's identity (an absolute file path or a blob URL).

    For example (an illustration, not run as a doctest)::

        known = await index.known_documents()           # {path: content_hash}
        await index.write_document(record, chunks, vectors)  # replaces that path's chunks
        await index.delete_documents(["/docs/gone.md"])
    """

    @property
    def embedder_name(self) -> str:
        """The embedder whose vectors this index holds (checked when it is opened)."""
        ...

    @property
    def dimension(self) -> int: ...

    async def known_documents(self) -> dict[str, str]:
        """path -> content hash of every document in the index."""
        ...

    async def write_document(
        self, document: DocumentRecord, chunks: Sequence[ChunkRecord], vectors: Vectors
    ) -> None:
        """Insert or replace one document and all its chunks; readers see the old or the new
        version, never a mix of the two."""
        ...

    async def write_documents(
        self, batch: Sequence[tuple[DocumentRecord, Sequence[ChunkRecord], Vectors]]
    ) -> None:
        """``write_document`` for several documents (the SQLite index commits them together:
        one commit per document made writing five times slower)."""
        ...

    async def delete_documents(self, paths: Sequence[str]) -> int:
        """Remove these documents and their chunks; returns how many existed."""
        ...

    async def finish_ingest(self, chunks_written: int) -> None:
        """Called once after an ingest run (the SQLite index saves its vector graph and keyword
        postings)."""
        ...

    async def ensure_schema(self) -> str:
        """Create the index or bring its schema up to date; says what was done."""
        ...


class SearchIndex(PassageIndex, DocumentWriter, Protocol):
    """An index as the composition root hands it out: search, write, close."""

    @property
    def backend(self) -> dict[str, str]:
        """What /health/ready shows: kind and location, never a secret."""
        ...

    async def aclose(self) -> None: ...
