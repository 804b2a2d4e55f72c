"""The keyword half's term selection: document frequencies as FTS5 sees them, the postings
budget, and their cache across writes from this and other processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chatref.retrieval.embedder import WordLlamaEmbedder
from chatref.retrieval.sqlite_index import SqliteIndex
from chatref.retrieval.types import ChunkRecord, DocumentRecord
from tests.retrieval.test_index import add


def reopen(index: SqliteIndex, embedder: WordLlamaEmbedder, budget: int) -> SqliteIndex:
    return SqliteIndex.open(index.path, embedder_name=embedder.name,
                            dimension=embedder.dimension, keyword_postings_budget=budget)


async def test_document_frequencies_are_those_of_the_stemmed_words_fts5_matches(
    index: SqliteIndex, embedder: WordLlamaEmbedder
) -> None:
    await add(index, embedder, "a", ["the patient recovered", "patients were treated"])
    await add(index, embedder, "b", ["a café near the station", "failover to the second region"])
    index._refresh_df_cache()
    # "patients" is searched as its stem: both chunks count, as both match.
    assert index._document_frequency("patients") == 2
    assert index._document_frequency("patient") == 2
    assert index._document_frequency("cafe") == 1  # diacritics removed on both sides
    assert index._document_frequency("failover") == 1
    assert index._query_terms("how do I fail over?") == ["fail"]  # below MIN_COMPOUND_DF
    assert index._document_frequency("absent") == 0


async def test_document_frequencies_follow_adds_and_deletes(
    index: SqliteIndex, embedder: WordLlamaEmbedder
) -> None:
    await add(index, embedder, "a", ["pelican notes"])
    assert [p.doc_id for p in await index.keyword_search("pelican", 5)] == ["a"]
    assert index._document_frequency("pelican") == 1
    await add(index, embedder, "b", ["pelican sightings", "another pelican"])
    await index.keyword_search("pelican", 5)
    assert index._document_frequency("pelican") == 3
    assert index.remove_documents(["a"]) == 1
    await index.keyword_search("pelican", 5)
    assert index._document_frequency("pelican") == 2


WRITER = """
import sys
from pathlib import Path
import numpy as np
from chatref.retrieval.sqlite_index import SqliteIndex
from chatref.retrieval.types import ChunkRecord, DocumentRecord
from chatref.retrieval.types import ChunkRecord, DocumentRecord
index = SqliteIndex.open(Path(sys.argv[1]), embedder_name=sys.argv[2], dimension=int(sys.argv[3]))
texts = ["pelican %d" % n for n in range(4)]
vectors = np.ones((len(texts), index.dimension), dtype=np.float32)
chunks = [ChunkRecord(n, "t", None, None, text) for n, text in enumerate(texts)]
index.replace_document(DocumentRecord("other", "other", "other", "t", "h"), chunks, vectors)
index.close()
"""


async def test_a_write_by_another_process_refreshes_the_cached_frequencies(
    index: SqliteIndex, embedder: WordLlamaEmbedder
) -> None:
    await add(index, embedder, "a", ["pelican notes"])
    await index.keyword_search("pelican", 5)
    assert index._document_frequency("pelican") == 1
    subprocess.run([sys.executable, "-c", WRITER, str(index.path), embedder.name,  # noqa: S603
                    str(embedder.dimension)], check=True, timeout=120)
    hits = await index.keyword_search("pelican", 10)
    assert index._document_frequency("pelican") == 5
    assert {p.doc_id for p in hits} == {"a", "other"}


async def test_the_rarest_terms_within_the_budget_are_kept(
    index: SqliteIndex, embedder: WordLlamaEmbedder
) -> None:
    for n in range(30):
        await add(index, embedder, f"c{n}", [f"platform service deployment region note {n}"])
    await add(index, embedder, "rare", ["platform service deployment region failover"])
    terms = ["platform", "service", "deployment", "region", "failover"]
    tight = reopen(index, embedder, 40)  # failover (1) and one common term (31) fit
    try:
        tight._refresh_df_cache()
        assert tight._selective_terms(terms) == ["platform", "failover"]
        hits = await tight.keyword_search(" ".join(terms), 50)
        assert hits[0].doc_id == "rare"
    finally:
        tight.close()
    for budget in (1000, 0):  # 0: every term, whatever the budget would say
        roomy = reopen(index, embedder, budget)
        try:
            roomy._refresh_df_cache()
            assert roomy._selective_terms(terms) == terms
        finally:
            roomy.close()


@pytest.mark.parametrize("budget", [8, 40])
async def test_when_every_term_is_over_the_budget_the_rarest_is_searched_within_it(
    index: SqliteIndex, embedder: WordLlamaEmbedder, budget: int
) -> None:
    # "common" is in all 60 chunks, "frequent" in the 30 even ones: both are over a budget of 8
    # (counted only up to 9), and the estimate from sampled id ranges tells them apart.
    await add(index, embedder, "d", [
        f"common frequent text {n}" if n % 2 == 0 else f"common text {n}" for n in range(60)])
    tight = reopen(index, embedder, budget)
    try:
        tight._refresh_df_cache()
        if budget == 8:
            assert tight._document_frequency("common") == 9  # "more than 8"
            assert tight._selective_terms(["common", "frequent"]) == ["frequent"]
            hits = await tight.keyword_search("common frequent", 100)
            assert len(hits) == 8  # only the budget's worth of rows is scored
            assert all("frequent" in p.text for p in hits)
        else:
            assert tight._document_frequency("frequent") == 30
            assert tight._selective_terms(["common", "frequent"]) == ["frequent"]
            assert len(await tight.keyword_search("common frequent", 100)) == 30
    finally:
        tight.close()


def test_estimated_frequency_scales_sampled_counts(tmp_path: Path) -> None:
    index = SqliteIndex.open(tmp_path / "i.sqlite", embedder_name="e", dimension=4)
    try:
        texts = [("alpha beta" if n % 4 == 0 else "alpha") for n in range(400)]
        chunks = [ChunkRecord(n, "t", None, None, t) for n, t in enumerate(texts)]
        index.replace_document(DocumentRecord("d", "d", "d", "t", "h"), chunks,
                               np.ones((400, 4), dtype=np.float32))
        tight = SqliteIndex.open(index.path, embedder_name="e", dimension=4,
                                 keyword_postings_budget=40)
        try:
            assert tight._estimated_frequency("alpha") == pytest.approx(400, rel=0.05)
            assert tight._estimated_frequency("beta") == pytest.approx(100, rel=0.2)
        finally:
            tight.close()
    finally:
        index.close()
