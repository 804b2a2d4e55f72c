"""Retrieval evaluation on BEIR-format collections (corpus.jsonl, queries.jsonl, qrels.tsv).

Chunks are scored by the retriever; a document scores as its best chunk. nDCG@10 uses linear
gains with a log2 discount, as BEIR's pytrec_eval does; recall@100 counts relevant documents
(gain > 0) found in the top 100.

For example (an illustration, not run as a doctest)::

    dataset = load_beir(Path("../shared/datasets/scifact"), split="test")
    result = await evaluate(retriever, dataset, mode="hybrid")
    result.ndcg_at_10
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from chatref.errors import InputError
from chatref.ingest.pipeline import TextDocument
from chatref.retrieval.retriever import Retriever
from chatref.retrieval.types import SearchMode


@dataclass(frozen=True)
class BeirDataset:
    name: str
    directory: Path
    split: str
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]

    def corpus(self) -> Iterator[TextDocument]:
        with (self.directory / "corpus.jsonl").open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    yield TextDocument(
                        key=f"beir:{self.name}/{row['_id']}",
                        title=str(row.get("title") or ""), text=str(row.get("text") or ""),
                    )
                except (json.JSONDecodeError, KeyError) as exc:
                    raise InputError(f"{self.directory / 'corpus.jsonl'} line {number}: "
                                     f"not a BEIR corpus row ({exc})") from exc

    def corpus_size(self) -> int:
        with (self.directory / "corpus.jsonl").open(encoding="utf-8") as handle:
            return sum(1 for line in handle if line.strip())

    def doc_id(self, key: str) -> str:
        return key.removeprefix(f"beir:{self.name}/")


def load_beir(directory: Path, *, split: str = "test") -> BeirDataset:
    """Load queries and judgements; ``split`` "test" reads queries.jsonl/qrels.tsv, any other
    split reads queries-{split}.jsonl/qrels-{split}.tsv."""
    suffix = "" if split == "test" else f"-{split}"
    needed = [directory / "corpus.jsonl", directory / f"queries{suffix}.jsonl",
              directory / f"qrels{suffix}.tsv"]
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        raise InputError(f"{directory} is not a BEIR dataset with a {split!r} split: "
                         f"missing {', '.join(missing)}")
    qrels: dict[str, dict[str, int]] = {}
    with needed[2].open(encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if len(row) < 3 or row[0] == "query-id":
                continue
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    queries: dict[str, str] = {}
    with needed[1].open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                if str(row["_id"]) in qrels:
                    queries[str(row["_id"])] = str(row["text"])
    return BeirDataset(directory.resolve().name, directory, split, queries, qrels)


def ndcg_at(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    dcg = sum(relevant.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], relevant: dict[str, int], k: int = 100) -> float:
    wanted = {doc for doc, gain in relevant.items() if gain > 0}
    return len(wanted.intersection(ranked[:k])) / len(wanted) if wanted else 0.0


@dataclass(frozen=True)
class EvalResult:
    mode: SearchMode
    queries: int
    ndcg_at_10: float
    recall_at_100: float
    latency_p50_ms: float
    latency_p95_ms: float


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


async def rank_documents(
    retriever: Retriever, dataset: BeirDataset, query: str, mode: SearchMode, depth: int = 100
) -> list[str]:
    passages = await retriever.search(query, top_k=depth * 3, mode=mode)
    ranked: dict[str, None] = {}
    for passage in passages:  # already best-first: the first chunk of a doc is its best
        ranked.setdefault(dataset.doc_id(passage.doc_id), None)
    return list(ranked)[:depth]


async def evaluate(
    retriever: Retriever, dataset: BeirDataset, *, mode: SearchMode, depth: int = 100,
    progress: Callable[[int, int], None] | None = None,
) -> EvalResult:
    ndcgs, recalls, latencies = [], [], []
    for done, (query_id, text) in enumerate(dataset.queries.items()):
        started = time.perf_counter()
        ranked = await rank_documents(retriever, dataset, text, mode, depth)
        latencies.append((time.perf_counter() - started) * 1000)
        ndcgs.append(ndcg_at(ranked, dataset.qrels[query_id]))
        recalls.append(recall_at(ranked, dataset.qrels[query_id]))
        if progress:
            progress(done + 1, len(dataset.queries))
    count = len(ndcgs)
    return EvalResult(
        mode=mode, queries=count,
        ndcg_at_10=sum(ndcgs) / count if count else 0.0,
        recall_at_100=sum(recalls) / count if count else 0.0,
        latency_p50_ms=percentile(latencies, 0.5), latency_p95_ms=percentile(latencies, 0.95),
    )
