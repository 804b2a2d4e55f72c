from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from chatref.errors import EmbedderMismatchError, IndexError_
from chatref.retrieval.embedder import WordLlamaEmbedder
from chatref.retrieval.sqlite_index import ChunkRecord, DocumentRecord, SqliteIndex


async def add(index: SqliteIndex, embedder: WordLlamaEmbedder, key: str, texts: list[str]) -> None:
    chunks = [ChunkRecord(i, f"Title {key}", None, None, t) for i, t in enumerate(texts)]
    vectors = await embedder.embed(texts)
    index.replace_document(DocumentRecord(key, key, key, f"Title {key}", "h"), chunks, vectors)


def test_opening_with_another_embedder_names_both(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    SqliteIndex.open(path, embedder_name="wordllama/l2_supercat", dimension=256).close()
    with pytest.raises(EmbedderMismatchError) as caught:
        SqliteIndex.open(path, embedder_name="azure-openai/text-embedding-3-small",
                         dimension=1536)
    message = caught.value.message
    assert "wordllama/l2_supercat (dimension 256)" in message
    assert "azure-openai/text-embedding-3-small (dimension 1536)" in message


def test_migrations_are_recorded_once(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    for _ in range(2):
        SqliteIndex.open(path, embedder_name="e", dimension=4).close()
    names = sqlite3.connect(path).execute("SELECT name FROM migrations").fetchall()
    assert names == [("m001_initial",), ("m002_vector_log",), ("m003_drop_fts",),
                     ("m004_owner",)]


async def test_readers_work_while_a_writer_holds_a_transaction(
    index: SqliteIndex, embedder: WordLlamaEmbedder
) -> None:
    await add(index, embedder, "a", ["the quick brown fox jumps"])
    writer = sqlite3.connect(index.path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM chunks")  # uncommitted: readers must still see the old state
    reader = SqliteIndex.open(index.path, embedder_name=embedder.name,
                              dimension=embedder.dimension)
    try:
        assert [p.doc_id for p in await reader.keyword_search("fox", 5)] == ["a"]
        vector = (await embedder.embed(["quick fox"]))[0]
        assert [p.doc_id for p in await reader.vector_search(vector, 5)] == ["a"]
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        reader.close()


async def test_a_reader_sees_documents_committed_by_another_connection(
    index: SqliteIndex, embedder: WordLlamaEmbedder
) -> None:
    reader = SqliteIndex.open(index.path, embedder_name=embedder.name,
                              dimension=embedder.dimension)
    try:
        vector = (await embedder.embed(["pelican"]))[0]
        assert await reader.vector_search(vector, 5) == []
        await add(index, embedder, "b", ["a pelican on a bicycle"])
        assert [p.doc_id for p in await reader.vector_search(vector, 5)] == ["b"]
    finally:
        reader.close()


@pytest.mark.parametrize(
    "query", ['"unbalanced', "NEAR(fox jumps)", "fox*", "a AND OR NOT", "col:fox", "^fox", "-fox"]
)
async def test_fts_syntax_in_user_text_is_treated_as_words(
    index: SqliteIndex, embedder: WordLlamaEmbedder, query: str
) -> None:
    await add(index, embedder, "a", ["the quick brown fox jumps"])
    results = await index.keyword_search(query, 5)
    assert all(p.doc_id == "a" for p in results)


async def test_vector_search_ranks_by_cosine(
    index: SqliteIndex, embedder: WordLlamaEmbedder
) -> None:
    await add(index, embedder, "cats", ["cats purr and chase mice"])
    await add(index, embedder, "cars", ["engines, tyres and gearboxes of cars"])
    vector = (await embedder.embed(["kitten chasing a mouse"]))[0]
    hits = await index.vector_search(vector, 2)
    assert [p.doc_id for p in hits] == ["cats", "cars"]
    assert hits[0].score > hits[1].score
    assert 0.0 < hits[0].score <= 1.0001  # unit vectors: cosine


def test_a_file_that_is_not_an_index_is_named_in_the_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"this is a text file, not a SQLite database" * 100)
    with pytest.raises(IndexError_, match=r"cannot open index .*notes\.sqlite"):
        SqliteIndex.open(path, embedder_name="e", dimension=4)
