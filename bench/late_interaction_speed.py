"""What the late-interaction re-scoring costs a hybrid search (retrieval/fusion.py,
``rerank_by_tokens``; the embedder's ``match_tokens``).

    CHATREF_DATA_DIR=/tmp/eval .venv/bin/python bench/late_interaction_speed.py \\
        ../shared/datasets/scifact [--head 20 50] [--rounds 2]

Ingests the collection into ``$CHATREF_DATA_DIR/eval/NAME.sqlite`` if needed (as
``chatref eval retrieval`` does), then for each of its train claims takes the fused hybrid
candidates and times ``match_tokens`` on the first ``--head`` of them, ``--rounds`` times: the
first round meets words the embedder's word cache has not seen (a fresh process), the later
ones mostly not (a running server). Per call it records the thread's CPU time
(``time.thread_time``; on a shared machine what the call costs) and wall time. Prints one JSON
object with the load average at the start and the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from chatref.app import build_services  # noqa: E402
from chatref.ingest.pipeline import ingest_texts  # noqa: E402
from chatref.retrieval.embedder import WordLlamaEmbedder  # noqa: E402
from chatref.retrieval.evaluation import load_beir, percentile  # noqa: E402
from chatref.retrieval.fusion import DEFAULT_VECTOR_WEIGHT, weighted_fusion  # noqa: E402
from chatref.settings import Settings  # noqa: E402


def spread(samples: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(samples), 2),
            "p95": round(percentile(samples, 0.95), 2), "max": round(max(samples), 2)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--head", type=int, nargs="+", default=[20])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    dataset = load_beir(args.dataset, split="train")
    settings = Settings()
    services = build_services(
        settings, index_path=settings.chatref_data_dir / "eval" / f"{dataset.name}.sqlite")
    await ingest_texts(dataset.corpus(), services.index, services.embedder)
    result: dict[str, object] = {"load_average_start": [round(x, 2) for x in os.getloadavg()],
                                 "queries": len(dataset.queries)}
    heads: list[tuple[str, list[str]]] = []
    longest = max(args.head)
    for query in dataset.queries.values():
        vector = (await services.embedder.embed([query]))[0]
        fused = weighted_fusion(await services.index.keyword_search(query, 100),
                                await services.index.vector_search(vector, 100),
                                vector_weight=DEFAULT_VECTOR_WEIGHT)
        heads.append((query, [f"{p.title}\n{p.section or ''}\n{p.text}"
                              for p in fused[:longest]]))
    for head in args.head:
        embedder = WordLlamaEmbedder(cache_dir=settings.chatref_data_dir / ".wordllama")
        embedder.match_tokens("warm up", ["the table and tokenizer load here"])
        for round_ in range(1, args.rounds + 1):
            cpu, wall = [], []
            for query, texts in heads:
                started, started_cpu = time.perf_counter(), time.thread_time()
                embedder.match_tokens(query, texts[:head])
                cpu.append((time.thread_time() - started_cpu) * 1000)
                wall.append((time.perf_counter() - started) * 1000)
            result[f"head {head}, round {round_}"] = {"cpu_ms": spread(cpu),
                                                      "wall_ms": spread(wall)}
    result["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, indent=1))
    await services.aclose()


if __name__ == "__main__":
    asyncio.run(main())
