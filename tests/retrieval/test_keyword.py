"""Keyword search: BM25 over in-memory postings (retrieval/keyword.py) and their life beside the
SQLite file (load, build, catch-up from the change log, save, spoilt files, migration from FTS5)."""

from __future__ import annotations

import math
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import Stemmer

from chatref.retrieval.embedder import WordLlamaEmbedder
from chatref.retrieval.keyword import KeywordPostings, ascii_words, fold, words
from chatref.retrieval.sqlite_index import (
    SAVE_KEYWORDS_FROM,
    SqliteIndex,
    m001_initial,
    m002_vector_log,
    m003_drop_fts,
)
from chatref.retrieval.types import ChunkRecord, DocumentRecord
from chatref.sqlitedb import Migrations
from tests.retrieval.test_index import add
from tests.retrieval.test_vector_ann import remove_index


def test_words_are_folded_like_fts5_unicode61() -> None:
    assert words("Café CRÈME brûlée") == ["cafe", "creme", "brulee"]
    assert words("naïve_coöperation, re-route!") == ["naive", "cooperation", "re", "route"]
    assert words("Ångström 10µm Ωmega") == ["angstrom", "10μm", "ωmega"]
    assert words("москва́ Straße") == ["москва", "straße"]
    assert words("\x00\x07tab\tnew\nline") == ["tab", "new", "line"]
    assert fold("ÉCOLE") == "ecole"


def test_the_ascii_fast_path_splits_exactly_as_words_does() -> None:
    every = "".join(map(chr, range(128)))
    rng = random.Random(7)
    texts = [every, *every, "snake_case CamelCase x86_64 ABC123def", ""]
    texts += ["".join(rng.choice(every) for _ in range(rng.randint(1, 60))) for _ in range(2000)]
    for text in texts:
        assert [w.decode() for w in ascii_words(text)] == words(text), repr(text)


def test_ascii_and_other_texts_share_one_vocabulary() -> None:
    postings = KeywordPostings()
    postings.add([(1, "Routing", None, "Rerouting the TRAFFIC"),  # ASCII: the fast path
                  (2, "Café", None, "rerouting the traffic, naïvely")])  # not ASCII
    assert postings.frequency("rerout") == 2 and postings.frequency("traffic") == 2
    assert [c for c, _ in postings.search("naive traffic", 5)] == [2, 1]
    assert [c for c, _ in postings.search("cafe", 5)] == [2]


def test_query_and_chunk_words_meet_at_the_same_stem() -> None:
    postings = KeywordPostings()
    postings.add([(1, "t", None, "The patients were treated"), (2, "t", None, "a café nearby"),
                  (3, "t", None, "Rotating keys"), (4, "t", None, "nothing relevant here")])
    for query, chunk in [("patient", 1), ("Patients", 1), ("treatment treat", 1),
                         ("cafe", 2), ("CAFÉS", 2), ("rotate key", 3), ("rotation", 3)]:
        assert [c for c, _ in postings.search(query, 5)] == [chunk], query
    assert postings.frequency("patient") == 1
    assert postings.search("the of and", 5) == []  # stopwords only


def bm25(query: list[str], docs: dict[int, tuple[list[str], list[str], list[str]]],
         weights: tuple[float, float, float], k1: float = 1.2, b: float = 0.75) -> dict[int, float]:
    """BM25 as FTS5's bm25() computes it, written out plainly (stems given)."""
    n = len(docs)
    length = {i: sum(len(f) for f in fields) for i, fields in docs.items()}
    average = sum(length.values()) / n
    out: dict[int, float] = {}
    for term in query:
        df = sum(1 for fields in docs.values() if any(term in f for f in fields))
        idf = max(math.log((n - df + 0.5) / (df + 0.5)), 1e-6)
        for i, fields in docs.items():
            tf = sum(w * f.count(term) for w, f in zip(weights, fields, strict=True))
            if tf:
                out[i] = out.get(i, 0.0) + idf * tf * (k1 + 1) / (
                    tf + k1 * (1 - b + b * length[i] / average))
    return out


def test_scores_are_bm25_with_column_weights_computed_by_hand() -> None:
    rows = [(1, "Heron", None, "the heron waits by the river for fish"),
            (2, "River", "Birds", "a kingfisher dives into the river"),
            (3, "Fish", None, "fish swim"),
            (4, "Boats", None, "boats on the water at dawn, many boats")]
    postings = KeywordPostings((3.0, 2.0, 1.0), k1=1.2, b=0.75)  # FTS5's k1 and b
    postings.add(rows)
    # By hand for "heron river" on chunk 1: N 4, lengths 9, 8, 3, 9 (title, section and text
    # together; stopwords count), average 7.25. "heron": df 1, idf ln(3.5/1.5); tf 3*1 + 1 = 4.
    # "river": df 2, idf ln(2.5/2.5) = 0 -> 1e-6; tf 1.
    norm = 1.2 * (1 - 0.75 + 0.75 * 9 / 7.25)
    heron = math.log(3.5 / 1.5) * 4 * 2.2 / (4 + norm)
    hits = dict(postings.search("heron river", 5))
    assert hits[1] == pytest.approx(heron + 1e-6 * 2.2 / (1 + norm), rel=1e-5)
    texts = {i: tuple(words(f or "") for f in (t, s, x)) for i, t, s, x in rows}
    expected = bm25(["heron", "river"], texts, (3.0, 2.0, 1.0))  # type: ignore[arg-type]
    assert hits == pytest.approx(expected, rel=1e-5)
    other = KeywordPostings((1.0, 1.0, 1.0), k1=0.5, b=0.2)
    other.add(rows)
    expected = bm25(["heron", "river"], texts, (1.0, 1.0, 1.0), k1=0.5, b=0.2)  # type: ignore[arg-type]
    assert dict(other.search("heron river", 5)) == pytest.approx(expected, rel=1e-5)
    assert set(hits) == {1, 2}


def synthetic(n: int, seed: int = 7) -> list[tuple[int, str, str | None, str]]:
    """``n`` chunks of Zipf-like words, some very common (so MaxScore's lookups are used)."""
    rng = random.Random(seed)
    vocabulary = [f"w{k}x" for k in range(400)]
    weights = [1 / (k + 1) for k in range(400)]
    return [(i, rng.choice(["alpha", "beta w1x", ""]), rng.choice([None, "gamma"]),
             " ".join(rng.choices(vocabulary, weights, k=rng.randint(3, 40))))
            for i in range(1, n + 1)]


def exhaustive(postings: KeywordPostings, rows: list[tuple[int, str, str | None, str]],
               query: str) -> dict[int, float]:
    stem = Stemmer.Stemmer(postings.stemmer).stemWords
    docs = {i: tuple(stem(words(f or "")) for f in (t, s, x)) for i, t, s, x in rows}
    return bm25(postings.query_stems(query), docs, postings.weights,  # type: ignore[arg-type]
                k1=postings.k1, b=postings.b)


def assert_top(hits: list[tuple[int, float]], expected: dict[int, float], limit: int) -> None:
    """``hits`` are the ``limit`` best of ``expected`` (chunks tied at the cut may differ)."""
    best = sorted(expected.values(), reverse=True)[:limit]
    assert [s for _, s in hits] == pytest.approx(best, rel=1e-4)
    assert [s for _, s in hits] == pytest.approx([expected[c] for c, _ in hits], rel=1e-4)


def test_the_top_chunks_are_exact_whatever_the_terms_frequencies() -> None:
    rows = synthetic(6000)
    postings = KeywordPostings()
    postings.build(iter(rows))
    for query in ["w0x w1x w2x w3x w250x", "w1x alpha gamma w399x", "w5x w7x", "w0x"]:
        expected = exhaustive(postings, rows, query)
        assert_top(postings.search(query, 20), expected, 20)


def test_changes_through_the_delta_and_merge_keep_the_ranking_exact() -> None:
    rows = synthetic(3000)
    postings = KeywordPostings()
    postings.build(iter(rows))
    rng = random.Random(3)
    live = {r[0]: r for r in rows}
    removed = rng.sample(sorted(live), 400)
    postings.remove(removed)
    for chunk in removed:
        del live[chunk]
    changed = [(i, "beta", None, "w3x w3x w9x replaced") for i in rng.sample(sorted(live), 50)]
    added = [(i, "alpha", "gamma", "w1x w398x new") for i in range(3001, 3101)]
    added += [(removed[0], "alpha", None, "w398x reused id")]  # an id used again
    postings.add(changed + added)
    live.update({r[0]: r for r in changed + added})
    assert len(postings) == len(live)
    for merged in (False, True):
        if merged:
            postings.merge()
        for query in ["w398x w1x", "w3x replaced", "w0x w2x beta", "reused"]:
            expected = exhaustive(postings, list(live.values()), query)
            assert_top(postings.search(query, 30), expected, 30)
        assert not {c for c, _ in postings.search("w0x w1x w2x", 5000)} & set(removed[1:])


def test_saved_postings_load_back_and_a_spoilt_file_is_refused(tmp_path: Path) -> None:
    rows = synthetic(500)
    postings = KeywordPostings()
    postings.build(iter(rows))
    postings.remove([1, 2])
    postings.add([(501, "t", None, "w1x fresh")])
    saved = postings.save(tmp_path / "i.sqlite", 42)
    assert KeywordPostings.files(tmp_path / "i.sqlite") == [(42, saved)]
    again = KeywordPostings()
    again.load(saved)
    for query in ["w1x fresh", "w0x w5x alpha"]:
        assert again.search(query, 50) == postings.search(query, 50)
    assert len(again) == len(postings) == 499
    for spoilt in (b"", b"not a zip file", saved.read_bytes()[:1000]):
        saved.write_bytes(spoilt)
        with pytest.raises(ValueError, match="keyword postings"):
            KeywordPostings().load(saved)
    postings.add([(600, "t", None, "brand new words")])
    postings.remove([600])  # new terms whose only chunk went: the file still holds them
    postings.save(tmp_path / "i.sqlite", 43)  # replaces the older file
    again.load(tmp_path / "i.sqlite.keywords-43.npz")
    assert again.search("brand", 5) == [] and len(again) == 499
    assert [seq for seq, _ in KeywordPostings.files(tmp_path / "i.sqlite")] == [43]
    with pytest.raises(ValueError, match="consistent"):
        KeywordPostings(stemmer="porter").load(tmp_path / "i.sqlite.keywords-43.npz")


def fill(index: SqliteIndex, key: str, texts: list[str]) -> None:
    chunks = [ChunkRecord(i, f"Title {key}", None, None, t) for i, t in enumerate(texts)]
    vectors = np.ones((len(texts), index.dimension), dtype=np.float32)
    index.replace_document(DocumentRecord(key, key, key, f"Title {key}", "h"), chunks, vectors)


async def test_the_index_saves_its_postings_and_the_next_process_loads_them(
    tmp_path: Path
) -> None:
    path = tmp_path / "i.sqlite"
    index = SqliteIndex.open(path, embedder_name="e", dimension=4)
    try:
        fill(index, "bulk", [f"note number {n}" for n in range(SAVE_KEYWORDS_FROM)])
        fill(index, "bird", ["a pelican by the harbour"])
        index.save_vectors()
        [(seq, saved)] = KeywordPostings.files(path)
        # Proof that the next index loads the file rather than rebuilding: a file for the same
        # log position whose postings say something else.
        other = KeywordPostings()
        other.build(iter([(1, "t", None, "flamingo")]))
        other.save(path, seq, index._owner)  # saved for this index
        reader = SqliteIndex.open(path, embedder_name="e", dimension=4)
        try:
            assert [p.chunk_id for p in await reader.keyword_search("flamingo", 5)] \
                == ["bulk:0"]
            saved.write_bytes(b"spoilt")  # a spoilt file: rebuilt from the rows, then saved
            again = SqliteIndex.open(path, embedder_name="e", dimension=4)
            try:
                assert [p.doc_id for p in await again.keyword_search("pelican", 5)] == ["bird"]
                assert await again.keyword_search("flamingo", 5) == []
            finally:
                again.close()
            assert [s for s, _ in KeywordPostings.files(path)] == [seq]
        finally:
            reader.close()
    finally:
        index.close()


async def test_postings_left_beside_a_recreated_index_are_not_taken_for_its_own(
    tmp_path: Path
) -> None:
    path = tmp_path / "i.sqlite"
    texts = [f"note number {n}" for n in range(SAVE_KEYWORDS_FROM)]
    index = SqliteIndex.open(path, embedder_name="e", dimension=4)
    fill(index, "bulk", texts)
    index.save_vectors()
    index.close()
    [(old_seq, _)] = KeywordPostings.files(path)
    remove_index(path)
    index = SqliteIndex.open(path, embedder_name="e", dimension=4)
    try:
        # The same number of chunks, other words: the old file's position is reached again.
        fill(index, "birds", [f"pelican sighting {n}" for n in range(SAVE_KEYWORDS_FROM)])
        assert index._log_position(index._conn) == old_seq
        assert await index.keyword_search("note", 5) == []
        assert len(await index.keyword_search("pelican", 5)) == 5
        index.save_vectors()
        assert [seq for seq, _ in KeywordPostings.files(path)] == [old_seq]  # its own now
    finally:
        index.close()


def test_postings_saved_before_owners_still_load_beside_their_index(tmp_path: Path) -> None:
    path = tmp_path / "i.sqlite"
    old = Migrations("migrations")
    for step in (m001_initial, m002_vector_log, m003_drop_fts):
        old(step)
    conn = sqlite3.connect(path, isolation_level=None)
    old.apply(conn)
    conn.execute("INSERT INTO meta (key, value) VALUES ('embedder', 'e'), ('dimension', '4')")
    conn.execute("INSERT INTO documents VALUES ('d', '/d.md', 'd.md', 'Birds', 'h', 1, 'then')")
    conn.execute("INSERT INTO chunks (doc_id, ordinal, title, text, vector) VALUES (?, 0, ?, ?, ?)",
                 ("d", "Birds", "the heron waits", np.ones(4, dtype=np.float32).tobytes()))
    conn.close()
    # Saved by the code before owners (no owner in the file); what it says proves it is loaded.
    unnamed = KeywordPostings()
    unnamed.build(iter([(1, "t", None, "flamingo")]))
    unnamed.save(path, 1)
    index = SqliteIndex.open(path, embedder_name="e", dimension=4)
    try:
        assert [p.doc_id for p in index.keyword_search_sync("flamingo", 5)] == ["d"]
    finally:
        index.close()
    remove_index(path)  # a new index beside that same file does not load it
    index = SqliteIndex.open(path, embedder_name="e", dimension=4)
    try:
        fill(index, "d", ["the heron waits"])
        assert index.keyword_search_sync("flamingo", 5) == []
    finally:
        index.close()


WRITER = """
import sys
from pathlib import Path
import numpy as np
from chatref.retrieval.sqlite_index import SqliteIndex
from chatref.retrieval.types import ChunkRecord, DocumentRecord
index = SqliteIndex.open(Path(sys.argv[1]), embedder_name="e", dimension=4)
texts = ["pelican %d" % n for n in range(4)]
chunks = [ChunkRecord(n, "t", None, None, text) for n, text in enumerate(texts)]
index.replace_document(DocumentRecord("other", "other", "other", "t", "h"), chunks,
                       np.ones((4, 4), dtype=np.float32))
index.remove_documents(["a"])
index.close()
"""


async def test_a_write_by_another_process_is_seen_by_the_next_search(tmp_path: Path) -> None:
    index = SqliteIndex.open(tmp_path / "i.sqlite", embedder_name="e", dimension=4)
    try:
        fill(index, "a", ["pelican notes"])
        fill(index, "b", ["heron notes"])
        assert [p.doc_id for p in await index.keyword_search("pelican", 10)] == ["a"]
        subprocess.run([sys.executable, "-c", WRITER, str(index.path)],  # noqa: S603
                       check=True, timeout=120)
        hits = await index.keyword_search("pelican", 10)
        assert {p.doc_id for p in hits} == {"other"} and len(hits) == 4
        assert index._keywords.frequency("pelican") == 4
    finally:
        index.close()


async def test_a_removed_or_replaced_chunk_is_never_returned(
    index: SqliteIndex, embedder: WordLlamaEmbedder
) -> None:
    await add(index, embedder, "a", ["pelican notes", "pelican sightings"])
    await add(index, embedder, "b", ["another pelican"])
    assert {p.doc_id for p in await index.keyword_search("pelican", 10)} == {"a", "b"}
    assert index.remove_documents(["b"]) == 1
    assert {p.doc_id for p in await index.keyword_search("pelican", 10)} == {"a"}
    await add(index, embedder, "a", ["cormorant notes"])  # replaced: its old chunks go
    assert await index.keyword_search("pelican", 10) == []
    assert [p.text for p in await index.keyword_search("cormorant", 10)] == ["cormorant notes"]
    await add(index, embedder, "c", ["pelican again"])  # may reuse a removed chunk's id
    assert [p.text for p in await index.keyword_search("pelican", 10)] == ["pelican again"]


async def test_an_index_with_fts5_from_before_is_migrated(
    tmp_path: Path, embedder: WordLlamaEmbedder
) -> None:
    path = tmp_path / "index.sqlite"
    old = Migrations("migrations")
    old(m001_initial)
    old(m002_vector_log)
    conn = sqlite3.connect(path, isolation_level=None)
    old.apply(conn)
    vector = np.ones(embedder.dimension, dtype=np.float32).tobytes()
    conn.execute("INSERT INTO meta (key, value) VALUES (?, ?), (?, ?)",
                 ("embedder", embedder.name, "dimension", str(embedder.dimension)))
    conn.execute("INSERT INTO documents VALUES ('d', '/d.md', 'd.md', 'Birds', 'h', 1, 'then')")
    conn.execute("INSERT INTO chunks (doc_id, ordinal, title, text, vector) VALUES (?, 0, ?, ?, ?)",
                 ("d", "Birds", "the heron waits by the river", vector))
    assert conn.execute("SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH 'heron'").fetchall()
    conn.close()
    index = SqliteIndex.open(path, embedder_name=embedder.name, dimension=embedder.dimension)
    try:
        names = {r[0] for r in index._conn.execute("SELECT name FROM sqlite_master")}
        assert not {n for n in names if "fts" in n} and "chunks_ai" not in names
        assert [p.doc_id for p in await index.keyword_search("herons", 5)] == ["d"]
        await add(index, embedder, "e", ["a heron and a kingfisher"])
        assert [p.doc_id for p in await index.keyword_search("kingfisher heron", 5)] \
            == ["e", "d"]
    finally:
        index.close()


@pytest.mark.parametrize("query", [
    "", "   ", "?!.,;:'\"()[]{}", "\x00\x01\x1f\x7f", "the of and a", "NEAR(* ^\"",
    " ".join(f"word{n}" for n in range(10_000)),
    "pelican " * 10_000, "\u202e\ufeffpelican\u200b", "💥 🐦 pelican",
])
async def test_hostile_queries_answer_without_error(
    index: SqliteIndex, embedder: WordLlamaEmbedder, query: str
) -> None:
    await add(index, embedder, "a", ["pelican notes", "word17 word9999"])
    hits = await index.keyword_search(query, 5)
    if "pelican" in query:
        assert [p.text for p in hits] == ["pelican notes"]
    elif "word9999" in query:
        assert [p.text for p in hits] == ["word17 word9999"]
    else:
        assert hits == []


async def test_a_small_index_is_not_given_postings_nobody_here_searched(tmp_path: Path) -> None:
    # An ingest's finish saves large postings; a small index's are built from its rows by
    # whoever searches it, so the ingesting process does not build them only to discard them.
    path = tmp_path / "i.sqlite"
    writer = SqliteIndex.open(path, embedder_name="e", dimension=4)
    try:
        fill(writer, "a", ["pelican notes"])
        writer.save_vectors()
        assert len(writer._keywords) == 0 and KeywordPostings.files(path) == []
        assert sqlite3.connect(path).execute("SELECT count(*) FROM vector_log").fetchone() == (0,)
        assert [p.doc_id for p in await writer.keyword_search("pelican", 5)] == ["a"]
        fill(writer, "b", ["pelican sightings"])
        writer.save_vectors()  # searched here now: kept up to date
        assert len(writer._keywords) == 2
        assert {p.doc_id for p in await writer.keyword_search("pelican", 5)} == {"a", "b"}
    finally:
        writer.close()


async def test_a_reader_behind_the_log_floor_catches_up_after_a_save(tmp_path: Path) -> None:
    path = tmp_path / "i.sqlite"
    writer = SqliteIndex.open(path, embedder_name="e", dimension=4)
    reader = SqliteIndex.open(path, embedder_name="e", dimension=4)
    try:
        fill(writer, "a", ["pelican notes"])
        assert [p.doc_id for p in await reader.keyword_search("pelican", 5)] == ["a"]
        fill(writer, "b", ["pelican sightings"])
        writer.remove_documents(["a"])
        writer.save_vectors()  # drops the log entries the reader has not applied
        assert sqlite3.connect(path).execute("SELECT count(*) FROM vector_log").fetchone() == (0,)
        assert [p.doc_id for p in await reader.keyword_search("pelican", 5)] == ["b"]
        assert [p.doc_id for p in await writer.keyword_search("pelican", 5)] == ["b"]
    finally:
        writer.close()
        reader.close()
