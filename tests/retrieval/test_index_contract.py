"""One contract for every ``SearchIndex``: the SQLite file and Azure AI Search (against the fake).

Each test runs once per implementation (``index_factory``'s params); an implementation that
disagrees with another on any of these fails here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from chatref.errors import EmbedderMismatchError
from chatref.retrieval.embedder import WordLlamaEmbedder
from chatref.retrieval.retriever import Retriever
from chatref.retrieval.sqlite_index import SqliteIndex
from chatref.retrieval.types import ChunkRecord, DocumentRecord, SearchIndex

OpenIndex = Callable[[str, int], Awaitable[SearchIndex]]


@pytest.fixture(params=["sqlite", "azure"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def open_index(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[OpenIndex]:
    """``await open_index(embedder_name, dimension)``: the same index each call (reopened)."""
    if backend == "sqlite":
        async def open_sqlite(name: str, dimension: int) -> SearchIndex:
            return SqliteIndex.open(tmp_path / "index.sqlite", embedder_name=name,
                                    dimension=dimension)

        yield open_sqlite
        return
    from tests.retrieval.azure_contract import azure_opener

    with azure_opener(request) as opener:
        yield opener  # type: ignore[misc]


@pytest.fixture
async def index(open_index: OpenIndex, embedder: WordLlamaEmbedder) -> AsyncIterator[SearchIndex]:
    opened = await open_index(embedder.name, embedder.dimension)
    yield opened
    await opened.aclose()


async def write(index: SearchIndex, embedder: WordLlamaEmbedder, path: str, texts: list[str],
                *, digest: str = "h1", page: int | None = None,
                section: str | None = None) -> None:
    chunks = [ChunkRecord(i, f"Title {path}", page, section, t) for i, t in enumerate(texts)]
    record = DocumentRecord(doc_id=f"doc-{abs(hash(path)) % 10**8}", path=path,
                            source=f"cite:{path}", title=f"Title {path}", content_hash=digest)
    await index.write_document(record, chunks, await embedder.embed(texts))


async def test_the_index_names_its_embedder(index: SearchIndex,
                                            embedder: WordLlamaEmbedder) -> None:
    assert index.embedder_name == embedder.name
    assert index.dimension == embedder.dimension


async def test_written_documents_are_known_by_path_and_hash(
    index: SearchIndex, embedder: WordLlamaEmbedder
) -> None:
    assert await index.known_documents() == {}
    await write(index, embedder, "/docs/a.md", ["alpha text"], digest="h-a")
    await write(index, embedder, "https://acct.blob.core.windows.net/c/b.md", ["beta"],
                digest="md5:00ff")
    assert await index.known_documents() == {
        "/docs/a.md": "h-a", "https://acct.blob.core.windows.net/c/b.md": "md5:00ff",
    }
    assert await index.count_chunks() == 2


async def test_keyword_search_finds_the_words_and_carries_the_citation_fields(
    index: SearchIndex, embedder: WordLlamaEmbedder
) -> None:
    await write(index, embedder, "/docs/storage.md",
                ["zone redundant storage keeps three copies across availability zones"],
                page=3, section="Guide > Replication")
    await write(index, embedder, "/docs/cats.md", ["cats purr and chase mice"])
    hits = await index.keyword_search("availability zones", 5)
    assert [h.source for h in hits] == ["cite:/docs/storage.md"]
    hit = hits[0]
    assert (hit.title, hit.page, hit.section) == ("Title /docs/storage.md", 3,
                                                  "Guide > Replication")
    assert hit.text.startswith("zone redundant storage")
    assert hit.score > 0


async def test_vector_search_ranks_by_cosine(index: SearchIndex,
                                             embedder: WordLlamaEmbedder) -> None:
    await write(index, embedder, "/cats", ["cats purr and chase mice"])
    await write(index, embedder, "/cars", ["engines, tyres and gearboxes of cars"])
    vector = (await embedder.embed(["kitten chasing a mouse"]))[0]
    hits = await index.vector_search(vector, 2)
    assert [h.source for h in hits] == ["cite:/cats", "cite:/cars"]
    assert hits[0].score > hits[1].score


async def test_hybrid_search_through_the_retriever_finds_the_best_document(
    index: SearchIndex, embedder: WordLlamaEmbedder
) -> None:
    await write(index, embedder, "/replication", ["geo redundant replication copies data to a "
                                                   "paired region for disaster recovery"])
    await write(index, embedder, "/cats", ["cats purr and chase mice"])
    await write(index, embedder, "/cars", ["engines, tyres and gearboxes of cars"])
    retriever = Retriever(index, embedder)
    hits = await retriever.search("which replication survives a region disaster?", top_k=2)
    assert hits[0].source == "cite:/replication"
    assert len(hits) <= 2


async def test_replacing_a_document_replaces_all_its_chunks(
    index: SearchIndex, embedder: WordLlamaEmbedder
) -> None:
    await write(index, embedder, "/doc", ["old pelican text", "old heron text", "old stork"])
    await write(index, embedder, "/doc", ["new flamingo text"], digest="h2")
    assert await index.known_documents() == {"/doc": "h2"}
    assert await index.count_chunks() == 1
    assert await index.keyword_search("pelican heron stork", 5) == []
    assert [h.text for h in await index.keyword_search("flamingo", 5)] == ["new flamingo text"]


async def test_deleting_documents_removes_their_chunks_and_counts_only_existing_ones(
    index: SearchIndex, embedder: WordLlamaEmbedder
) -> None:
    await write(index, embedder, "/keep", ["keep this albatross"])
    await write(index, embedder, "/gone", ["remove this albatross", "and this albatross"])
    assert await index.delete_documents(["/gone", "/never-indexed"]) == 1
    assert await index.known_documents() == {"/keep": "h1"}
    assert [h.source for h in await index.keyword_search("albatross", 5)] == ["cite:/keep"]
    vector = (await embedder.embed(["albatross"]))[0]
    assert [h.source for h in await index.vector_search(vector, 5)] == ["cite:/keep"]
    await index.finish_ingest(0)


async def test_reopening_with_another_embedder_is_a_clear_error(
    open_index: OpenIndex, embedder: WordLlamaEmbedder
) -> None:
    first = await open_index(embedder.name, embedder.dimension)
    await write(first, embedder, "/a", ["alpha"])
    await first.aclose()
    with pytest.raises(EmbedderMismatchError) as caught:
        other = await open_index("azure-openai/text-embedding-3-small", 1536)
        try:
            await other.known_documents()  # a remote index may check on first use
        finally:
            await other.aclose()
    assert embedder.name in caught.value.message
    assert "text-embedding-3-small" in caught.value.message
