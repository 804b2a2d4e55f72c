"""The keyword half alone: BM25 over the in-memory postings (retrieval/keyword.py) of an index.

    .venv/bin/python bench/keyword_speed.py --shared ../shared \
        --index bench/.work/scale-mixed-1m.sqlite [--build] [--rounds 2] [--limit 100]

Opens the index (migrating it if it still has FTS5: copy an index before pointing this at it),
loads its saved postings or builds them from the chunks table (``--build``: always build, timed in
wall-clock and this thread's CPU, and nothing saved), then runs SciFact's 300 test claims
``--rounds`` times, asking for ``--limit`` chunks (the retriever's fusion pool is 100). Per search
it records wall time and the thread's CPU time (``time.thread_time``: on a shared machine it is
what the search costs, while wall time also counts waiting for a core), for the scoring alone
(``KeywordPostings.search``) and for the whole ``SqliteIndex.keyword_search_sync`` (catch-up check
and the passages read from SQLite), and the work done: postings scored whole and candidates looked
up (MaxScore). Prints one JSON object with the load average at the start and the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import psutil

from chatref.retrieval.evaluation import load_beir, percentile
from chatref.retrieval.sqlite_index import SqliteIndex


def spread(samples: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(samples), 2), "p95": round(percentile(samples, 0.95), 2),
            "max": round(max(samples), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--build", action="store_true", help="build the postings from the rows")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--limit", type=int, default=100)
    args = parser.parse_args()
    result: dict[str, object] = {"index": str(args.index),
                                 "load_average_start": [round(x, 2) for x in os.getloadavg()]}
    queries = list(load_beir(args.shared / "datasets" / "scifact").queries.values())
    process = psutil.Process()
    before = process.memory_info().rss
    index = SqliteIndex.open(args.index, embedder_name="wordllama/l2_supercat", dimension=256)
    started, cpu_started = time.perf_counter(), time.thread_time()
    postings = index._keywords  # noqa: SLF001 - a benchmark of the index's own postings
    if args.build:
        conn = index._conn  # noqa: SLF001 - one read snapshot, as _catch_up_keywords takes
        conn.execute("BEGIN")
        try:
            postings.build(conn.execute("SELECT id, title, section, text FROM chunks ORDER BY id"))
        finally:
            conn.execute("COMMIT")
        result["build_s"] = round(time.perf_counter() - started, 1)
        result["build_cpu_s"] = round(time.thread_time() - cpu_started, 2)
    else:
        index.keyword_search_sync("warm up", 1)  # loads (or builds and saves) the postings
        result["load_s"] = round(time.perf_counter() - started, 1)
    result["chunks"] = len(postings)
    result["postings"] = postings.postings
    result["arrays_mb"] = round(postings.nbytes() / 1e6, 1)
    result["memory_mb"] = round((process.memory_info().rss - before) / 1e6, 1)
    scoring_wall, scoring_cpu, whole_wall, whole_cpu = [], [], [], []
    work_whole, work_lookups = [], []
    for _ in range(args.rounds):
        for query in queries:
            wall, cpu = time.perf_counter(), time.thread_time()
            postings.search(query, args.limit)
            scoring_wall.append((time.perf_counter() - wall) * 1000)
            scoring_cpu.append((time.thread_time() - cpu) * 1000)
            work_whole.append(postings.last_work[0])
            work_lookups.append(postings.last_work[1])
            wall, cpu = time.perf_counter(), time.thread_time()
            index.keyword_search_sync(query, args.limit)
            whole_wall.append((time.perf_counter() - wall) * 1000)
            whole_cpu.append((time.thread_time() - cpu) * 1000)
    result["scoring_ms"] = {"wall": spread(scoring_wall), "cpu": spread(scoring_cpu)}
    result["keyword_search_ms"] = {"wall": spread(whole_wall), "cpu": spread(whole_cpu)}
    result["postings_scored_whole"] = spread([float(n) for n in work_whole])
    result["candidates_looked_up"] = spread([float(n) for n in work_lookups])
    index.close()
    result["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
