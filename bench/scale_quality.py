"""Retrieval quality at scale: SciFact test nDCG@10 on an index of SciFact copied N times.

    .venv/bin/python bench/scale_quality.py --shared ../shared \
        --index bench/.work/scale-100k.sqlite [--modes keyword hybrid]

The index is one that ``bench/retrieval_scale.py --size 100k`` (the copies corpus) built: every
abstract is there 11 times under ``<key>#<copy>``, so each term's postings have their 100k size
while the judgements still apply. A copy counts as its abstract (the first copy ranked stands
for it), and each query asks for 330 passages so that 30 abstracts survive. The figures in
docs/benchmarks.md taken with ``--postings-budget N`` are FTS5's keyword half (main at d82d140,
where that option existed); keyword search outside FTS5 has no budget.
Prints one JSON object: per mode, nDCG@10 and recall@20.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path

from chatref.retrieval.embedder import WordLlamaEmbedder
from chatref.retrieval.evaluation import load_beir, ndcg_at, recall_at
from chatref.retrieval.retriever import Retriever
from chatref.retrieval.sqlite_index import SqliteIndex
from chatref.retrieval.types import SearchMode


async def measure(shared: Path, index_path: Path,
                  modes: list[SearchMode]) -> dict[str, dict[str, float]]:
    dataset = load_beir(shared / "datasets" / "scifact")
    with tempfile.TemporaryDirectory() as cache:
        embedder = WordLlamaEmbedder(cache_dir=Path(cache))
        index = SqliteIndex.open(index_path, embedder_name=embedder.name,
                                 dimension=embedder.dimension)
        retriever = Retriever(index, embedder)
        results = {}
        for mode in modes:
            ndcgs, recalls = [], []
            for query_id, text in dataset.queries.items():
                ranked: dict[str, None] = {}
                for passage in await retriever.search(text, top_k=330, mode=mode):
                    ranked.setdefault(dataset.doc_id(passage.doc_id).split("#")[0], None)
                ndcgs.append(ndcg_at(list(ranked), dataset.qrels[query_id]))
                recalls.append(recall_at(list(ranked), dataset.qrels[query_id], 20))
            results[mode] = {"ndcg_at_10": round(sum(ndcgs) / len(ndcgs), 4),
                             "recall_at_20": round(sum(recalls) / len(recalls), 4)}
        index.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--modes", nargs="+", default=["keyword", "hybrid"],
                        choices=["keyword", "vector", "hybrid"])
    args = parser.parse_args()
    results = asyncio.run(measure(args.shared, args.index, args.modes))
    print(json.dumps({"index": str(args.index), **results}))


if __name__ == "__main__":
    main()
