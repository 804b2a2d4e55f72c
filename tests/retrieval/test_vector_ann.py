"""The HNSW graph behind the SQLite index's vector search: its answers, its file, its catch-up."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from chatref.retrieval.ann import VectorAnn
from chatref.retrieval.embedder import WordLlamaEmbedder
from chatref.retrieval.sqlite_index import ChunkRecord, DocumentRecord, SqliteIndex, m001_initial
from chatref.sqlitedb import Migrations

TOPICS = ["cats and kittens", "engines and gearboxes", "rivers and lakes", "tax and invoices",
          "volcanoes erupting", "chess openings", "bread baking", "satellite orbits",
          "violin lessons", "vaccines and immunity"]


def sentences(n: int) -> list[str]:
    words = ["alpha", "bright", "cold", "deep", "early", "fast", "green", "heavy", "inner", "jolly"]
    return [f"{TOPICS[i % len(TOPICS)]}: note {i} about {words[i % 7]} {words[(i * 3) % 10]}"
            f" {TOPICS[(i * 7) % len(TOPICS)]}" for i in range(n)]


def open_index(path: Path, embedder: WordLlamaEmbedder, **kwargs: int) -> SqliteIndex:
    return SqliteIndex.open(path, embedder_name=embedder.name, dimension=embedder.dimension,
                            **kwargs)


async def add(index: SqliteIndex, embedder: WordLlamaEmbedder, key: str, texts: list[str]) -> None:
    chunks = [ChunkRecord(i, f"Title {key}", None, None, t) for i, t in enumerate(texts)]
    vectors = await embedder.embed(texts)
    index.replace_document(DocumentRecord(key, key, key, f"Title {key}", "h"), chunks, vectors)


async def test_the_graph_finds_the_same_top_passages_as_an_exact_scan(
    tmp_path: Path, embedder: WordLlamaEmbedder
) -> None:
    texts = sentences(400)
    index = open_index(tmp_path / "index.sqlite", embedder, exact_search_below=0)  # the graph
    try:
        for n in range(0, len(texts), 20):
            await add(index, embedder, f"d{n}", texts[n:n + 20])
        matrix = await embedder.embed(texts)
        for query in ("kitten", "gearbox repair", "a lake in the mountains", "orbit of a moon",
                      "immunity after vaccination", "sourdough"):
            vector = (await embedder.embed([query]))[0]
            exact = np.argsort(-(matrix @ vector))[:5]
            hits = await index.vector_search(vector, 5)
            assert [p.text for p in hits] == [texts[i] for i in exact]
            assert hits[0].score == pytest.approx(float(matrix[exact[0]] @ vector), abs=2e-3)
    finally:
        index.close()


async def test_a_missing_or_spoilt_graph_file_is_rebuilt(
    tmp_path: Path, embedder: WordLlamaEmbedder
) -> None:
    path = tmp_path / "index.sqlite"
    index = open_index(path, embedder, exact_search_below=0)  # a graph even for two chunks
    await add(index, embedder, "cats", ["cats purr and chase mice"])
    await add(index, embedder, "cars", ["engines, tyres and gearboxes of cars"])
    saved = index.save_vectors()
    index.close()
    assert saved is not None
    assert VectorAnn.files(path) == [(int(saved.name.split("-")[-1].split(".")[0]), saved)]
    query = (await embedder.embed(["kitten chasing a mouse"]))[0]
    for spoil in (lambda f: f.write_bytes(b"not a graph" * 50), lambda f: f.write_bytes(b""),
                  lambda f: f.unlink()):
        (_, file), = VectorAnn.files(path)
        spoil(file)
        reopened = open_index(path, embedder, exact_search_below=0)
        try:
            assert [p.doc_id for p in await reopened.vector_search(query, 2)] == ["cats", "cars"]
        finally:
            reopened.close()
        (_, rebuilt), = VectorAnn.files(path)
        loaded = VectorAnn(embedder.dimension)
        loaded.load(rebuilt)  # a readable graph again
        assert len(loaded) == 2


def remove_index(path: Path) -> None:
    """Delete the SQLite file only, as a user rebuilding an index might: the files saved beside
    it stay."""
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


async def test_a_graph_left_beside_a_recreated_index_is_not_taken_for_its_own(
    tmp_path: Path, embedder: WordLlamaEmbedder
) -> None:
    path = tmp_path / "index.sqlite"
    index = open_index(path, embedder, exact_search_below=0)
    await add(index, embedder, "cats", ["cats purr and chase mice"])
    await add(index, embedder, "cars", ["engines, tyres and gearboxes of cars"])
    index.save_vectors()
    index.close()
    [(old_seq, _)] = VectorAnn.files(path)
    remove_index(path)
    # A new index with other documents: its log reaches the old file's position, so only the
    # file's owner tells them apart (the old graph would map chunk 1 to "cats" here).
    index = open_index(path, embedder, exact_search_below=0)
    try:
        await add(index, embedder, "volcano", ["a volcano erupting at night"])
        await add(index, embedder, "chess", ["chess openings for beginners"])
        assert index.stats()["chunks"] == 2 and index._log_position(index._conn) == old_seq
        query = (await embedder.embed(["volcano erupting"]))[0]
        volcano = (await embedder.embed(["a volcano erupting at night"]))[0]
        [hit] = await index.vector_search(query, 1)
        assert hit.doc_id == "volcano"
        assert hit.score == pytest.approx(float(volcano @ query), abs=2e-3)
        index.save_vectors()
        [(_, file)] = VectorAnn.files(path)
        with pytest.raises(ValueError, match="another index"):
            VectorAnn(embedder.dimension).load(file, owners=("someone else",))
    finally:
        index.close()


async def test_a_reader_follows_replacements_deletions_and_a_compacted_log(
    tmp_path: Path, embedder: WordLlamaEmbedder
) -> None:
    path = tmp_path / "index.sqlite"
    writer = open_index(path, embedder, exact_search_below=0)
    reader = open_index(path, embedder, exact_search_below=0)
    try:
        pelican = (await embedder.embed(["pelican"]))[0]
        volcano = (await embedder.embed(["volcano"]))[0]
        await add(writer, embedder, "birds", ["a pelican on a bicycle"])
        await add(writer, embedder, "other", ["chess openings for beginners"])
        assert (await reader.vector_search(pelican, 1))[0].doc_id == "birds"
        # Replaced: the chunk ids come back with another text (SQLite reuses the highest rowid).
        await add(writer, embedder, "other", ["a volcano erupting at night"])
        assert [p.text for p in await reader.vector_search(volcano, 1)] == [
            "a volcano erupting at night"]
        writer.remove_documents(["birds"])
        # Its vector left the graph too: the nearest one is now the other document's.
        assert [p.doc_id for p in await reader.vector_search(pelican, 1)] == ["other"]
        # The writer saves its graph and drops the log the reader has not applied yet.
        await add(writer, embedder, "birds", ["pelicans fishing in a harbour"])
        writer.save_vectors()
        assert sqlite3.connect(path).execute("SELECT count(*) FROM vector_log").fetchone() == (0,)
        hits = await reader.vector_search(pelican, 5)
        assert [p.text for p in hits][:1] == ["pelicans fishing in a harbour"]
        assert len(hits) == 2
    finally:
        writer.close()
        reader.close()


async def test_an_index_from_before_the_graph_is_migrated(
    tmp_path: Path, embedder: WordLlamaEmbedder
) -> None:
    path = tmp_path / "index.sqlite"
    old = Migrations("migrations")
    old(m001_initial)
    conn = sqlite3.connect(path, isolation_level=None)
    old.apply(conn)
    vector = (await embedder.embed(["the heron waits by the river"]))[0]
    for statement, args in (
        ("INSERT INTO meta (key, value) VALUES (?, ?), (?, ?)",
         ("embedder", embedder.name, "dimension", str(embedder.dimension))),
        ("INSERT INTO documents VALUES ('d', '/d.md', 'd.md', 'Birds', 'h', 1, 'then')", ()),
        ("INSERT INTO chunks (doc_id, ordinal, title, text, vector) VALUES (?, 0, ?, ?, ?)",
         ("d", "Birds", "the heron waits by the river", vector.astype(np.float32).tobytes())),
    ):
        conn.execute(statement, args)
    conn.close()
    index = open_index(path, embedder)
    try:
        hits = await index.vector_search((await embedder.embed(["heron"]))[0], 3)
        assert [p.doc_id for p in hits] == ["d"]
        await add(index, embedder, "e", ["a kingfisher dives"])
        hits = await index.vector_search((await embedder.embed(["kingfisher"]))[0], 3)
        assert [p.doc_id for p in hits] == ["e", "d"]
    finally:
        index.close()
    names = [r[0] for r in sqlite3.connect(path).execute("SELECT name FROM migrations")]
    assert names == ["m001_initial", "m002_vector_log", "m003_drop_fts", "m004_owner"]
