from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from chatref.errors import InputError
from chatref.ingest.pipeline import ingest_paths
from chatref.retrieval.diversity import diversify, shingles, without_near_duplicates
from chatref.retrieval.embedder import WordLlamaEmbedder
from chatref.retrieval.fusion import (
    boost_documents,
    boost_headings,
    reciprocal_rank_fusion,
    rerank_by_tokens,
    weighted_fusion,
)
from chatref.retrieval.retriever import Retriever
from chatref.retrieval.sqlite_index import SqliteIndex
from chatref.retrieval.text import main_clause
from chatref.retrieval.types import Passage, Vectors
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


def test_token_matches_reorder_the_head_and_the_rest_stays_behind() -> None:
    ranked = [passage("a", 1.0), passage("b", 0.9), passage("c", 0.8), passage("d", 0.79)]
    reranked = rerank_by_tokens(ranked, [0.3, 0.9, 0.3], weight=0.5)
    assert [p.chunk_id for p in reranked] == ["b", "a", "c", "d"]
    assert [p.scores.get("tokens") for p in reranked] == [1.0, 0.0, 0.0, None]
    assert reranked[1].score == pytest.approx(0.5) and reranked[3].score == pytest.approx(0.395)
    # A tail passage never overtakes the head, whatever the matches.
    low = rerank_by_tokens(ranked, [0.3, 0.3, 0.9], weight=0.9)
    assert low[-1].chunk_id == "d"
    assert rerank_by_tokens(ranked, [0.1, 0.2], weight=0.0) == ranked
    assert rerank_by_tokens(ranked, [], weight=0.5) == ranked


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
    assert set(hits[0].scores) == {"keyword", "vector", "heading", "document", "outline"}
    assert hits[0].page == 2


async def test_blank_and_stopword_queries_return_nothing(retriever: Retriever) -> None:
    assert await retriever.search("   ") == []
    assert await retriever.search("what is the", mode="keyword") == []


async def test_bad_arguments_are_input_errors(retriever: Retriever) -> None:
    with pytest.raises(InputError, match="unknown search mode 'fuzzy'"):
        await retriever.search("x", mode="fuzzy")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="top_k"):
        await retriever.search("x", top_k=0)


def test_a_near_duplicate_of_a_better_passage_is_dropped_and_the_next_one_moves_up() -> None:
    shared = "chatref policy check runs our guardrails over a Terraform directory " * 3
    ranked = [Passage("a", "d1", "README.md", "t", None, None, shared, 3.0),
              Passage("b", "d2", "docs/policy.md", "t", None, None, shared + " (CI)", 2.0),
              Passage("c", "d3", "docs/api.md", "t", None, None, "Something else entirely", 1.0)]
    assert [p.chunk_id for p in without_near_duplicates(ranked, 2)] == ["a", "c"]


@pytest.mark.parametrize("text", [
    "Keys_rotate, monthly: 12.5% (copy 3)\tand\x1cthen", "Café naïve ÄÖ ß", "İstanbul ǅ x y",
    "one", "", "a\x85b c d",
])
def test_shingles_split_ascii_and_other_text_into_the_same_words(text: str) -> None:
    words = re.findall(r"\w+", text.lower())
    expected = ({tuple(words[i:i + 3]) for i in range(len(words) - 2)} if len(words) >= 3
                else ({tuple(words)} if words else set()))
    assert shingles(text) == expected


def test_a_heading_that_names_the_question_lifts_its_passage() -> None:
    body = [Passage("body", "d1", "README.md", "t", None, "chatref > Sample run", "x", 0.9),
            Passage("head", "d2", "docs/resilience.md", "t", None,
                    "Model resilience: retries, failover > Two regions", "x", 0.7)]
    ranked = boost_headings("How do I fail over to a second region?", body, weight=0.6)
    assert [p.chunk_id for p in ranked] == ["head", "body"]  # "fail over" ~ "failover"
    assert boost_headings("x y", body, weight=0.0) == body


async def test_a_question_saying_fail_over_finds_a_document_saying_failover(
    tmp_path: Path, index: SqliteIndex, embedder: WordLlamaEmbedder
) -> None:
    (tmp_path / "docs").mkdir()
    for region in ("france", "sweden", "norway"):  # a compound is used once 3 chunks have it
        (tmp_path / "docs" / f"dr-{region}.md").write_text(
            f"# DR {region}\n\nFailover moves chats to {region}.\n")
    (tmp_path / "docs" / "other.md").write_text("# Other\n\nThe exam had a fail grade.\n")
    (tmp_path / "docs" / "glitch.md").write_text("# Glitch\n\nThe exam had a failgrade.\n")
    await ingest_paths([tmp_path / "docs"], index, embedder)
    hits = await index.keyword_search("how do I fail over", 5)
    found = {h.source.split("/")[-1] for h in hits}
    assert {"dr-france.md", "dr-sweden.md", "dr-norway.md"} <= found  # "fail" alone finds none
    assert index._keywords.query_stems("fail over") == ["fail", "failov"]  # Snowball stems
    assert index._keywords.query_stems("fail grade") == ["fail", "grade"]  # one chunk: a glitch


def sectioned(chunk_id: str, doc: str, section: str | None, score: float) -> Passage:
    return Passage(chunk_id, doc, f"{doc}.md", doc, None, section, f"text of {chunk_id}", score)


def test_a_document_answering_in_several_sections_outranks_one_lucky_passage() -> None:
    ranked = [sectioned("lucky", "readme", "chatref > Sample run", 0.80),
              *(sectioned(f"r{i}", "resilience", f"Resilience > Part {i}", 0.70)
                for i in range(3))]
    boosted = boost_documents("x", ranked, document_weight=0.5, outline_weight=0.0)
    assert boosted[0].chunk_id == "r0"
    assert boosted[0].scores["document"] == pytest.approx(0.70)
    assert boost_documents("x", ranked, document_weight=0.0, outline_weight=0.0) == ranked


def test_chunks_without_sections_count_as_one_place_so_their_order_holds() -> None:
    ranked = [sectioned("a0", "a", None, 0.9), sectioned("b0", "b", None, 0.8),
              sectioned("b1", "b", None, 0.79), sectioned("b2", "b", None, 0.78)]
    boosted = boost_documents("x", ranked, document_weight=0.5, outline_weight=0.0)
    assert [p.chunk_id for p in boosted] == ["a0", "b0", "b1", "b2"]


def test_a_document_whose_headings_name_the_question_is_lifted_as_a_whole() -> None:
    ranked = [sectioned("other", "runbook", "Runbook: latency > Check", 0.5),
              sectioned("body", "guide", "Model resilience: failover > Limits", 0.45)]
    boosted = boost_documents("How do I fail over?", ranked, document_weight=0.0,
                              outline_weight=0.2)
    assert boosted[0].chunk_id == "body" and boosted[0].scores["outline"] == 1.0


def test_no_more_than_two_passages_of_one_document_lead_and_the_rest_follow() -> None:
    ranked = [sectioned(f"a{i}", "a", f"A > {i}", 1.0 - i / 10) for i in range(4)]
    ranked.append(sectioned("b0", "b", "B", 0.1))
    assert [p.chunk_id for p in diversify(ranked, 3)] == ["a0", "a1", "b0"]
    assert [p.chunk_id for p in diversify(ranked, 5)] == ["a0", "a1", "b0", "a2", "a3"]
    assert [p.chunk_id for p in diversify(ranked, 3, per_document=0)] == ["a0", "a1", "a2"]


@pytest.mark.parametrize(("question", "main"), [
    ("How do I fail over to the second region if the primary is throttled?",
     "How do I fail over to the second region"),
    ("When the index is stale, how do I rebuild the index?", "how do I rebuild the index"),
    ("What happens to a chat when every model endpoint is down?", "What happens to a chat"),
    ("Which file formats can be ingested?", None),
    ("What if it fails?", None),  # nothing left to search without the condition
    ("restore a backup if the vault is throttled", None),  # keywords, not a question
])
def test_the_main_clause_leaves_the_condition_out(question: str, main: str | None) -> None:
    assert main_clause(question) == main


async def test_a_conditional_question_searches_its_main_clause_too(
    tmp_path: Path, index: SqliteIndex, embedder: WordLlamaEmbedder
) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "restore.md").write_text(
        "# Restore\n\nRestore a backup: restore the backup with the restore command.\n")
    for n in range(4):  # "restore" and "backup" are common words here
        (tmp_path / "docs" / f"notes{n}.md").write_text(
            f"# Notes {n}\n\nA backup is kept; a restore is rare.\n")
    (tmp_path / "docs" / "throttle.md").write_text(  # the condition's rare words, often
        "# Throttling\n\nThe vault is throttled. Throttled vault requests wait; a throttled"
        " vault backs off.\n")
    await ingest_paths([tmp_path / "docs"], index, embedder)
    question = "How do I restore a backup if the vault is throttled?"
    plain = await Retriever(index, embedder, clause_weight=1.0, document_weight=0.0,
                            outline_weight=0.0).search(question, top_k=1)
    clause = await Retriever(index, embedder, document_weight=0.0,
                             outline_weight=0.0).search(question, top_k=1)
    assert plain[0].source.endswith("throttle.md")
    assert clause[0].source.endswith("restore.md")


class _EmbedderWithoutTokens:
    """An embedder that only embeds, as Azure OpenAI's does: no token matches to ask for."""

    def __init__(self, inner: WordLlamaEmbedder) -> None:
        self._inner = inner
        self.name, self.dimension = inner.name, inner.dimension

    async def embed(self, texts: Sequence[str]) -> Vectors:
        return await self._inner.embed(texts)

    async def aclose(self) -> None:
        """Nothing to release."""


async def test_the_first_hybrid_candidates_are_rescored_by_their_token_matches(
    tmp_path: Path, index: SqliteIndex, embedder: WordLlamaEmbedder
) -> None:
    documents.write_all_good(tmp_path / "docs")
    await ingest_paths([tmp_path / "docs"], index, embedder)
    query = "Which replication keeps copies across zones?"
    only = dict(heading_weight=0.0, document_weight=0.0, outline_weight=0.0, per_document=0)
    hits = await Retriever(index, embedder, token_weight=1.0, token_head=3, **only).search(
        query, top_k=5)
    head = [p for p in hits if "tokens" in p.scores]
    assert len(head) == 3 and hits[:3] == head  # the re-scored ones lead
    assert [p.scores["tokens"] for p in head] == sorted(
        (p.scores["tokens"] for p in head), reverse=True)
    expected = embedder.match_tokens(query, [f"{p.title}\n{p.section or ''}\n{p.text}"
                                             for p in head])
    low, high = float(expected.min()), float(expected.max())
    assert [p.scores["tokens"] for p in head] == pytest.approx(
        [(float(m) - low) / (high - low) for m in expected], abs=1e-6)
    plain = await Retriever(index, embedder, token_weight=0.0, **only).search(query, top_k=5)
    assert not any("tokens" in p.scores for p in plain)
    without = await Retriever(index, _EmbedderWithoutTokens(embedder), token_weight=1.0,
                              **only).search(query, top_k=5)
    assert [p.chunk_id for p in without] == [p.chunk_id for p in plain]
