from __future__ import annotations

from pathlib import Path

import pytest

from chatref.errors import InputError
from chatref.ingest.pipeline import ingest_paths
from chatref.retrieval.embedder import WordLlamaEmbedder
from chatref.retrieval.fusion import reciprocal_rank_fusion, weighted_fusion
from chatref.retrieval.retriever import Retriever
from chatref.retrieval.sqlite_index import SqliteIndex
from chatref.retrieval.types import Passage
from tests.ingest import documents


def passage(chunk_id: str, score: float) -> Passage:
    return Passage(chunk_id, chunk_id, "s", "t", None, None, "x", score)


def test_weighted_fusion_lets_the_stronger_list_lead() -> None:
    keyword = [passage("a", 10.0), passage("b", 5.0), passage("c", 0.0)]
    vector = [passage("c", 0.9), passage("b", 0.8), passage("a", 0.1)]
    fused = weighted_fusion(keyword, vector, vector_weight=0.3)
    assert [p.chunk_id for p in fused] == ["a", "b", "c"]
    assert fused[0].scores == {"keyword": 1.0, "vector": 0.0}
    fused = weighted_fusion(keyword, vector, vector_weight=0.8)
    assert fused[0].chunk_id == "c"


def test_weighted_fusion_counts_a_missing_list_as_zero() -> None:
    fused = weighted_fusion([passage("a", 3.0), passage("b", 1.0)], [passage("z", 0.5)],
                            vector_weight=0.5)
    assert {p.chunk_id: p.score for p in fused} == {"a": 0.5, "z": 0.5, "b": 0.0}


def test_reciprocal_rank_fusion_ignores_scores() -> None:
    fused = reciprocal_rank_fusion([passage("a", 99.0), passage("b", 1.0)],
                                   [passage("b", 0.1), passage("c", 0.0)])
    assert fused[0].chunk_id == "b"


@pytest.fixture
async def retriever(tmp_path: Path, index: SqliteIndex, embedder: WordLlamaEmbedder) -> Retriever:
    documents.write_all_good(tmp_path / "docs")
    await ingest_paths([tmp_path / "docs"], index, embedder)
    return Retriever(index, embedder)


@pytest.mark.parametrize("mode", ["keyword", "vector", "hybrid"])
async def test_each_mode_finds_the_document(retriever: Retriever, mode: str) -> None:
    hits = await retriever.search("Which replication keeps copies across zones?", top_k=3,
                                  mode=mode)  # type: ignore[arg-type]
    assert hits[0].source.endswith("storage.md")
    assert hits[0].section == "Storage Guide > Replication"
    assert len(hits) <= 3


async def test_hybrid_passages_carry_both_component_scores(retriever: Retriever) -> None:
    hits = await retriever.search("recovery point objective", top_k=2)
    assert set(hits[0].scores) == {"keyword", "vector"}
    assert hits[0].page == 2


async def test_blank_and_stopword_queries_return_nothing(retriever: Retriever) -> None:
    assert await retriever.search("   ") == []
    assert await retriever.search("what is the", mode="keyword") == []


async def test_bad_arguments_are_input_errors(retriever: Retriever) -> None:
    with pytest.raises(InputError, match="unknown search mode 'fuzzy'"):
        await retriever.search("x", mode="fuzzy")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="top_k"):
        await retriever.search("x", top_k=0)
