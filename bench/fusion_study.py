"""Side studies of the hybrid fusion on a BEIR collection's *train* split (never test), each a
re-ranking of the same cached candidates (keyword and vector, 100 each), at document level
without the retriever's boosts and near-duplicate removal (its baseline is 0.7254 on SciFact
train where bench/tune_retrieval.py, which runs the retriever, gives 0.7256):

    CHATREF_DATA_DIR=/tmp/eval .venv/bin/python bench/fusion_study.py ../shared/datasets/scifact

- ``oracle``: nDCG@10 for fixed vector weights, and the per-query best of them (a bound on what a
  query-adaptive weight could reach, not a method);
- ``adaptive``: a vector weight that depends on the query, ``0.3 + slope * (x - mean(x))``
  clipped to [0, 0.8], for x one of: keyword's 10th / 1st score (kr10), its 100th / 1st
  (kr100), the query's content words (terms), keyword's gap between its first two scores (kgap);
- ``sentences``: the first 20 fused candidates re-scored with their best sentence's (or
  title's) WordLlama cosine with the query, min-max normalised, at weights 0.1-0.4;
- ``tokens``: the same re-scoring with the embedder's token matches (``match_tokens``, the
  retriever's late interaction) of the whole query or of its content words only;
- ``stack``: the adaptive weight (keyword's 10th / 1st score) and the token match together.

The test split is refused (tune_retrieval.refuse_test_split).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.tune_retrieval import refuse_test_split  # noqa: E402
from chatref.app import build_services  # noqa: E402
from chatref.ingest.pipeline import ingest_texts  # noqa: E402
from chatref.retrieval.embedder import WordLlamaEmbedder  # noqa: E402
from chatref.retrieval.evaluation import BeirDataset, load_beir, ndcg_at  # noqa: E402
from chatref.retrieval.text import query_terms  # noqa: E402
from chatref.settings import Settings  # noqa: E402

Scored = list[tuple[str, float]]  # (chunk id, score), best first
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])")


class Query:
    def __init__(self, text: str, keyword: Scored, vector: Scored) -> None:
        self.text, self.keyword, self.vector = text, keyword, vector

    def fused(self, weight: float) -> dict[str, float]:
        k, v = _normalised(self.keyword), _normalised(self.vector)
        return {c: (1 - weight) * k.get(c, 0.0) + weight * v.get(c, 0.0) for c in {**k, **v}}


def _normalised(scored: Scored) -> dict[str, float]:
    low, high = min(s for _, s in scored), max(s for _, s in scored)
    return {c: (s - low) / (high - low) if high > low else 1.0 for c, s in scored}


def _min_max(values: Sequence[float]) -> list[float]:
    low, high = min(values), max(values)
    return [(v - low) / (high - low) if high > low else 1.0 for v in values]


def reranked(scores: dict[str, float], head: int, signal: Callable[[list[str]], Sequence[float]],
             weight: float) -> dict[str, float]:
    """The first ``head`` candidates re-scored with ``signal`` (min-max normalised) at
    ``weight``; the rest stay behind them."""
    first = sorted(scores, key=scores.__getitem__, reverse=True)[:head]
    out = {c: (1 - weight) * s for c, s in scores.items()}
    for chunk, match in zip(first, _min_max(signal(first)), strict=True):
        out[chunk] = 10 + (1 - weight) * scores[chunk] + weight * match
    return out


class Study:
    def __init__(self, dataset: BeirDataset, queries: dict[str, Query],
                 passages: dict[str, tuple[str, str, str]]) -> None:
        self.dataset, self.queries, self.passages = dataset, queries, passages

    def ndcgs(self, score: Callable[[Query], dict[str, float]]) -> dict[str, float]:
        result = {}
        for query_id, query in self.queries.items():
            scores = score(query)
            ranked: dict[str, None] = {}
            for chunk in sorted(scores, key=scores.__getitem__, reverse=True):
                ranked.setdefault(self.passages[chunk][0], None)
            result[query_id] = ndcg_at(list(ranked), self.dataset.qrels[query_id])
        return result

    def mean(self, score: Callable[[Query], dict[str, float]]) -> float:
        return statistics.fmean(self.ndcgs(score).values())


def oracle(study: Study) -> None:
    weights = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8]
    table = {w: study.ndcgs(lambda q, w=w: q.fused(w)) for w in weights}
    print("oracle: fixed weights", {w: round(statistics.fmean(t.values()), 4)
                                    for w, t in table.items()})
    best = statistics.fmean(max(t[q] for t in table.values()) for q in study.queries)
    print(f"oracle: per-query best weight {best:.4f}", flush=True)


def adaptive(study: Study) -> None:
    def features(q: Query) -> dict[str, float]:
        s = [score for _, score in q.keyword]
        return {"kr10": s[min(9, len(s) - 1)] / s[0], "kr100": s[-1] / s[0],
                "terms": float(len(query_terms(q.text))), "kgap": (s[0] - s[1]) / s[0]}
    found = {id(q): features(q) for q in study.queries.values()}
    for name in ("kr10", "kr100", "terms", "kgap"):
        values = [f[name] for f in found.values()]
        mean, spread = statistics.fmean(values), statistics.pstdev(values)
        z = {key: (f[name] - mean) / spread for key, f in found.items()}  # standardised x
        row = []
        for slope in (-0.2, -0.1, -0.05, 0.05, 0.1, 0.15, 0.2):  # per standard deviation of x
            def score(q: Query, slope: float = slope, z: dict[int, float] = z) -> dict[str, float]:
                return q.fused(min(0.8, max(0.0, 0.3 + slope * z[id(q)])))
            row.append(f"{slope:+}: {study.mean(score):.4f}")
        print(f"adaptive {name}: " + ", ".join(row), flush=True)


def sentences(study: Study, embedder: WordLlamaEmbedder) -> None:
    vectors = {}
    for chunk, (_, title, text) in study.passages.items():
        parts = [s for s in _SENTENCE.split(text) if s.strip()] + ([title] if title else [])
        vectors[chunk] = embedder.embed_sync(parts or [""])
    query_vectors = {id(q): embedder.embed_sync([q.text])[0] for q in study.queries.values()}
    for weight in (0.1, 0.2, 0.3, 0.4):
        def score(q: Query, weight: float = weight) -> dict[str, float]:
            v = query_vectors[id(q)]
            return reranked(q.fused(0.3), 20,
                            lambda first: [float((vectors[c] @ v).max()) for c in first], weight)
        print(f"sentences: weight {weight} {study.mean(score):.4f}", flush=True)


def tokens(study: Study, embedder: WordLlamaEmbedder) -> None:
    def texts(first: list[str]) -> list[str]:
        return [f"{study.passages[c][1]}\n\n{study.passages[c][2]}" for c in first]
    for name, query_text in (("whole query", lambda q: q.text),
                             ("content words", lambda q: " ".join(query_terms(q.text)))):
        for vector_weight in (0.3, 0.35):
            row = []
            for weight in (0.15, 0.2, 0.25):
                def score(q: Query, vw: float = vector_weight, weight: float = weight,
                          text: Callable[[Query], str] = query_text) -> dict[str, float]:
                    return reranked(q.fused(vw), 20, lambda first: embedder.match_tokens(
                        text(q), texts(first)).tolist(), weight)
                row.append(f"{weight}: {study.mean(score):.4f}")
            print(f"tokens, {name}, vector weight {vector_weight}: " + ", ".join(row),
                  flush=True)


def stack(study: Study, embedder: WordLlamaEmbedder) -> None:
    def ratio(q: Query) -> float:
        s = [score for _, score in q.keyword]
        return s[min(9, len(s) - 1)] / s[0]
    values = {id(q): ratio(q) for q in study.queries.values()}
    mean, spread = statistics.fmean(values.values()), statistics.pstdev(values.values())
    for base in (0.3, 0.35):
        for slope in (0.0, 0.05, 0.1):
            row = []
            for weight in (0.0, 0.15, 0.2):
                def score(q: Query, base: float = base, slope: float = slope,
                          weight: float = weight) -> dict[str, float]:
                    vw = min(0.8, max(0.0, base + slope * (values[id(q)] - mean) / spread))
                    fused = q.fused(vw)
                    if weight == 0:
                        return fused
                    return reranked(fused, 20, lambda first: embedder.match_tokens(q.text, [
                        f"{study.passages[c][1]}\n\n{study.passages[c][2]}" for c in first
                    ]).tolist(), weight)
                row.append(f"{weight}: {study.mean(score):.4f}")
            print(f"stack, vector weight {base} + {slope} x z(kr10), token weight " +
                  ", ".join(row), flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--split", default="train")
    parser.add_argument("--study", nargs="+", default=["oracle", "adaptive", "sentences",
                                                       "tokens"])
    args = parser.parse_args()
    refuse_test_split(args.split)
    dataset = load_beir(args.dataset, split=args.split)
    settings = Settings()
    services = build_services(
        settings, index_path=settings.chatref_data_dir / "eval" / f"{dataset.name}.sqlite")
    await ingest_texts(dataset.corpus(), services.index, services.embedder)
    queries, passages = {}, {}
    for query_id, text in dataset.queries.items():
        vector = (await services.embedder.embed([text]))[0]
        keyword = await services.index.keyword_search(text, 100)
        found = await services.index.vector_search(vector, 100)
        for p in (*keyword, *found):
            passages[p.chunk_id] = (dataset.doc_id(p.doc_id), p.title, p.text)
        queries[query_id] = Query(text, [(p.chunk_id, p.score) for p in keyword],
                                  [(p.chunk_id, p.score) for p in found])
    study = Study(dataset, queries, passages)
    print(f"{dataset.name} split={args.split} ({len(queries)} queries); "
          f"baseline (vector weight 0.3) {study.mean(lambda q: q.fused(0.3)):.4f}", flush=True)
    embedder = WordLlamaEmbedder(cache_dir=settings.chatref_data_dir / ".wordllama")
    runs: dict[str, Callable[[], None]] = {
        "oracle": lambda: oracle(study), "adaptive": lambda: adaptive(study),
        "sentences": lambda: sentences(study, embedder), "tokens": lambda: tokens(study, embedder),
        "stack": lambda: stack(study, embedder)}
    for name in args.study:
        runs[name]()
    await services.aclose()


if __name__ == "__main__":
    asyncio.run(main())
