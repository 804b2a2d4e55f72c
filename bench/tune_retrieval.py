"""Tune hybrid retrieval on SciFact *train* (never test): BM25 column weights, fusion pool depth
and vector weight. Prints a grid; the chosen values go into retrieval/fusion.py and
retrieval/sqlite_index.py.

    .venv/bin/python bench/tune_retrieval.py ../shared/datasets/scifact
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from chatref.app import build_services
from chatref.ingest.pipeline import ingest_texts
from chatref.retrieval import sqlite_index
from chatref.retrieval.evaluation import evaluate, load_beir
from chatref.settings import Settings


async def main(dataset_dir: Path) -> None:
    dataset = load_beir(dataset_dir, split="train")
    settings = Settings()
    services = build_services(
        settings, index_path=settings.chatref_data_dir / "eval" / f"{dataset.name}.sqlite"
    )
    await ingest_texts(dataset.corpus(), services.index, services.embedder)
    retriever = services.retriever
    print("title_w pool  w     nDCG@10  R@100")
    for title_weight in (0.5, 1.0, 2.0):
        sqlite_index.BM25_WEIGHTS = (title_weight, 1.0, 1.0)
        for pool in (50, 100, 300):
            retriever.candidates = pool
            for weight in (0.3, 0.4, 0.5):
                retriever.vector_weight = weight
                result = await evaluate(retriever, dataset, mode="hybrid", depth=pool // 3)
                print(f"{title_weight:7} {pool:4} {weight:4} {result.ndcg_at_10:.4f} "
                      f"{result.recall_at_100:.4f}", flush=True)
    await services.aclose()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
