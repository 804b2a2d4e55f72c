"""Tune hybrid retrieval on SciFact *train* (never test): BM25 title weight, keyword
postings budget, fusion pool depth and vector weight. Prints one line per setting;
the chosen values go into retrieval/fusion.py and retrieval/sqlite_index.py.

    .venv/bin/python bench/tune_retrieval.py ../shared/datasets/scifact \\
        --title 1 2 3 --budget 0 20000 --pool 100 300 --weight 0.3 0.4
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
from pathlib import Path

from chatref.app import build_services
from chatref.ingest.pipeline import ingest_texts
from chatref.retrieval.evaluation import evaluate, load_beir
from chatref.retrieval.retriever import Retriever
from chatref.retrieval.sqlite_index import SqliteIndex
from chatref.settings import Settings


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--split", default="train")
    parser.add_argument("--title", type=float, nargs="+", default=[1.0, 2.0])
    parser.add_argument("--budget", dest="df", type=int, nargs="+", default=[0, 20000])
    parser.add_argument("--pool", type=int, nargs="+", default=[100, 300])
    parser.add_argument("--weight", type=float, nargs="+", default=[0.3, 0.4])
    args = parser.parse_args()
    dataset = load_beir(args.dataset, split=args.split)
    settings = Settings()
    index_path = settings.chatref_data_dir / "eval" / f"{dataset.name}.sqlite"
    services = build_services(settings, index_path=index_path)
    await ingest_texts(dataset.corpus(), services.index, services.embedder)
    embedder = services.embedder
    print(f"split={args.split}\ntitle_w budget pool w     nDCG@10 R@100")
    for title, df, pool, weight in itertools.product(args.title, args.df, args.pool, args.weight):
        index = SqliteIndex.open(index_path, embedder_name=embedder.name,
                                 dimension=embedder.dimension, keyword_postings_budget=int(df),
                                 bm25_weights=(title, 1.0, 1.0))
        retriever = Retriever(index, embedder, candidates=pool, vector_weight=weight)
        result = await evaluate(retriever, dataset, mode="hybrid", depth=pool // 3)
        index.close()
        print(f"{title:7} {df:5} {pool:4} {weight:4} {result.ndcg_at_10:.4f}  "
              f"{result.recall_at_100:.4f}", flush=True)
    await services.aclose()


if __name__ == "__main__":
    asyncio.run(main())
