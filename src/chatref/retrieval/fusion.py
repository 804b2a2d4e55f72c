"""Fusing keyword and vector rankings.

Measured on SciFact (docs/benchmarks.md): reciprocal-rank fusion of BM25 with WordLlama vectors
ranks *below* BM25 alone, because the weaker vector list gets an equal vote. A weighted sum of
min-max-normalised scores lets the stronger signal lead; its weight is tuned on the train split.
"""

from __future__ import annotations

from collections.abc import Sequence

from chatref.retrieval.text import compound_candidates, query_terms
from chatref.retrieval.types import Passage

# Vector weight of the weighted fusion, chosen on SciFact *train* (bench/tune_retrieval.py).
DEFAULT_VECTOR_WEIGHT = 0.3
# Late interaction (rerank_by_tokens): weight of the token match, and how many of the fused
# candidates it re-scores. Off: the best setting on SciFact *train* (0.2 of the first 20, with
# vector weight 0.35: 0.7323 against 0.7256) lifted SciFact test from 0.7057 to 0.7093 but cost
# Cranfield 0.0035 and the bundled-docs extractive answers' key phrases (recall 0.750 to 0.694)
# (docs/benchmarks.md, "Tuning on SciFact train, never test", 2026-12-04).
DEFAULT_TOKEN_WEIGHT = 0.0
TOKEN_HEAD = 20


def _rescored(passage: Passage, score: float, scores: dict[str, float]) -> Passage:
    """``passage`` with a new score: ``dataclasses.replace`` without its per-call field
    introspection (five times slower; a hybrid search rescores some 500 candidates)."""
    p = passage
    return Passage(p.chunk_id, p.doc_id, p.source, p.title, p.page, p.section, p.text,
                   score, scores)


def _normalised(passages: Sequence[Passage]) -> dict[str, float]:
    if not passages:
        return {}
    scores = [p.score for p in passages]
    low, high = min(scores), max(scores)
    span = high - low
    if span <= 0:
        return {p.chunk_id: 1.0 for p in passages}
    return {p.chunk_id: (p.score - low) / span for p in passages}


def weighted_fusion(
    keyword: Sequence[Passage], vector: Sequence[Passage], *, vector_weight: float
) -> list[Passage]:
    """Rank by ``(1 - w) * keyword + w * vector`` of min-max-normalised scores.

    A passage missing from one list scores 0 there (it was below that list's cut-off).
    """
    kw, vec = _normalised(keyword), _normalised(vector)
    by_id = {p.chunk_id: p for p in (*vector, *keyword)}
    fused = []
    for chunk_id, passage in by_id.items():
        k, v = kw.get(chunk_id, 0.0), vec.get(chunk_id, 0.0)
        score = (1.0 - vector_weight) * k + vector_weight * v
        fused.append(_rescored(passage, score, {"keyword": k, "vector": v}))
    fused.sort(key=lambda p: p.score, reverse=True)
    return fused


def rerank_by_tokens(ranked: Sequence[Passage], matches: Sequence[float], *,
                     weight: float) -> list[Passage]:
    """Re-score the first ``len(matches)`` passages of ``ranked`` (best first) as
    ``(1 - w) * score + w * match``, the matches min-max-normalised among them; the passages
    after them are scaled by ``1 - w``, so they stay behind (their scores are below the head's).

    ``matches`` are the embedder's token-level matches of the query with each head passage
    (``TokenMatcher.match_tokens``): a third signal beside the two fused lists, worth computing
    for a few candidates only.

    >>> ranked = [Passage(c, c, "s", "t", None, None, "x", s) for c, s in
    ...           [("a", 1.0), ("b", 0.9), ("c", 0.5)]]
    >>> [(p.chunk_id, round(p.score, 2)) for p in rerank_by_tokens(ranked, [0.2, 0.6], weight=0.5)]
    [('b', 0.95), ('a', 0.5), ('c', 0.25)]
    """
    head = len(matches)
    if weight <= 0 or head == 0:
        return list(ranked)
    low, high = min(matches), max(matches)
    span = high - low
    reranked = []
    for i, passage in enumerate(ranked):
        if i < head:
            match = (matches[i] - low) / span if span > 0 else 1.0
            score = (1.0 - weight) * passage.score + weight * match
            reranked.append(_rescored(passage, score, {**passage.scores, "tokens": match}))
        else:
            reranked.append(_rescored(passage, (1.0 - weight) * passage.score, passage.scores))
    reranked.sort(key=lambda p: p.score, reverse=True)
    return reranked


def reciprocal_rank_fusion(*rankings: Sequence[Passage], k: int = 60) -> list[Passage]:
    """Classic RRF: sum of 1 / (k + rank). Kept for comparison in the benchmarks."""
    scores: dict[str, float] = {}
    by_id: dict[str, Passage] = {}
    for ranking in rankings:
        for rank, passage in enumerate(ranking, start=1):
            scores[passage.chunk_id] = scores.get(passage.chunk_id, 0.0) + 1.0 / (k + rank)
            by_id.setdefault(passage.chunk_id, passage)
    fused = [_rescored(by_id[c], s, by_id[c].scores) for c, s in scores.items()]
    fused.sort(key=lambda p: p.score, reverse=True)
    return fused


# Weight of the heading match in the hybrid score; chosen on the bundled docs' question set
# (tests/chat/bundled_questions.json; docs/benchmarks.md). BEIR collections have no headings,
# so it cannot move SciFact or Cranfield.
DEFAULT_HEADING_WEIGHT = 0.3
_STEM = 6


def _stems(text: str) -> set[str]:
    return {t[:_STEM] for t in query_terms(text)}


def boost_headings(query: str, ranked: Sequence[Passage], *, weight: float) -> list[Passage]:
    """Add ``weight`` times the share of the query's words found in a passage's heading path.

    A question about failing over to a second region is answered by the section headed
    "Model resilience: retries, failover ... > Example: two regions", not by a sample run that
    happens to mention regions, OpenAI and failing over in its body; the fused body scores of
    the two are close, the headings are not.
    """
    words = _stems(query)
    if weight <= 0 or not words:
        return list(ranked)
    wanted = words | {c[:_STEM] for c in compound_candidates(query)}  # "fail over": "failov"
    boosted = []
    for passage in ranked:
        share = min(1.0, len(wanted & _stems(passage.section or "")) / len(words))
        boosted.append(_rescored(passage, passage.score + weight * share,
                                 {**passage.scores, "heading": share}))
    boosted.sort(key=lambda p: p.score, reverse=True)
    return boosted


def blend(primary: Sequence[Passage], secondary: Sequence[Passage], *,
          weight: float) -> list[Passage]:
    """Two rankings of one kind (two keyword searches) as one: ``weight`` times the first's
    min-max-normalised score plus ``1 - weight`` times the second's."""
    a, b = _normalised(primary), _normalised(secondary)
    by_id = {p.chunk_id: p for p in (*secondary, *primary)}
    blended = [_rescored(p, weight * a.get(c, 0.0) + (1.0 - weight) * b.get(c, 0.0), p.scores)
               for c, p in by_id.items()]
    blended.sort(key=lambda p: p.score, reverse=True)
    return blended


# Document-level evidence in the hybrid score (boost_documents) and the main-clause keyword blend
# (text.main_clause), chosen on the bundled docs' "tune" questions over two snapshots of the docs
# (before and after another helper rewrote resilience.md and the failover drill, 2026-12-03):
# mean hit@1 0.875 against 0.844 without them; no effect on BEIR for the document signals
# (no sections), nor for the blend, which only questions get (docs/benchmarks.md).
DEFAULT_DOCUMENT_WEIGHT = 0.5
DEFAULT_OUTLINE_WEIGHT = 0.2
# Weight of the whole question's keyword ranking against its main clause's; 1: no blend.
DEFAULT_CLAUSE_WEIGHT = 0.3
_DOCUMENT_PASSAGES = 3


def boost_documents(query: str, ranked: Sequence[Passage], *, document_weight: float,
                    outline_weight: float) -> list[Passage]:
    """Lift the passages of the documents that the candidates say are *about* the question.

    Two signals, both computed from the candidates alone (so any index works):

    - ``document``: the sum of the best candidate scores of the document's three best
      *sections*, divided by three. A document several of whose sections answer parts of the
      question (docs/resilience.md for failing over between regions) outranks one with a
      single lucky passage (a sample run that happens to name a region, OpenAI and failing
      over). Passages without a section count as one section: a long abstract cut into chunks
      by length (SciFact) is not evidence from several places, and favouring it cost 0.005
      nDCG@10 on SciFact train.
    - ``outline``: the share of the query's words found in the headings of the document's
      candidates (its title and section names), as ``boost_headings`` does for one passage.

    Collections without headings (BEIR) thus get every passage's score scaled by the same
    factor: their order does not change.
    """
    if not ranked or (document_weight <= 0 and outline_weight <= 0):
        return list(ranked)
    best: dict[str, dict[str | None, float]] = {}
    headings: dict[str, set[str]] = {}
    for passage in ranked:
        sections = best.setdefault(passage.doc_id, {})
        if len(sections) < _DOCUMENT_PASSAGES and passage.section not in sections:
            sections[passage.section] = passage.score  # ranked best first
        headings.setdefault(passage.doc_id, set()).update(_stems(passage.section or ""))
    words = _stems(query)
    wanted = words | {c[:_STEM] for c in compound_candidates(query)}
    boosted = []
    for passage in ranked:
        document = sum(best[passage.doc_id].values()) / _DOCUMENT_PASSAGES
        outline = min(1.0, len(wanted & headings[passage.doc_id]) / len(words)) if words else 0.0
        boosted.append(_rescored(
            passage, passage.score + document_weight * document + outline_weight * outline,
            {**passage.scores, "document": document, "outline": outline}))
    boosted.sort(key=lambda p: p.score, reverse=True)
    return boosted
