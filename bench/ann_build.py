"""Build vector graphs from an existing index's vectors with chosen parameters, and measure them.

    nice -n 10 .venv/bin/python bench/ann_build.py --shared ../shared \
        --index bench/.work/scale-mixed-1m.sqlite --config 16,64,f16 --config 32,128,f16 \
        [--threads 2] [--depths 256,512,1024,2048] [--rounds 3] [--busy-core] [--limit N]

No re-ingesting: the index's float32 vectors are read once, read-only (and kept beside it in
``--cache`` as ``<index name>.vectors.npy`` for the next run; the SQLite file is never written),
with the exact float32 top 10 of SciFact's 300 test claims (WordLlama, as ingestion embeds them).
For each ``--config connectivity,expansion_add,dtype`` (dtype as usearch names it: f16, bf16,
i8, f32) it builds a ``VectorAnn`` graph the way an ingest does (``add`` in batches of 50,000 on
``--threads`` threads, identical vectors kept once), then reports the build time, the graph's
memory (usearch's own count, and the process's resident set growth), the saved file's size, and
for each search depth recall@10 against the exact scan with ``VectorAnn.search``'s p50 / p95
(one thread, as queries run; ``--rounds`` times each claim; ``--busy-core`` keeps one core
spinning meanwhile; the CPU time of each search and of the build is given too, as waiting for
a core on a shared machine is in the wall-clock figures but not in those; ``--keep DIR`` saves
each graph there, and a later run with the same ``--keep`` measures the saved graph again
without building it). Prints one JSON line per configuration, with the load average at its start
and end.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

from chatref.retrieval.ann import VectorAnn
from chatref.retrieval.embedder import WordLlamaEmbedder
from chatref.retrieval.evaluation import load_beir, percentile

BATCH = 50_000  # rows per add, as SqliteIndex._add_rows reads them


def load_vectors(index: Path, cache: Path, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """The index's chunk ids and float32 vectors, read-only (cached as .npy beside ``cache``)."""
    ids_file = cache / f"{index.name}.ids.npy"
    vectors_file = cache / f"{index.name}.vectors.npy"
    if not vectors_file.exists() or vectors_file.stat().st_mtime < index.stat().st_mtime:
        conn = sqlite3.connect(f"file:{index}?mode=ro", uri=True)
        ids, blocks = [], []
        cursor = conn.execute("SELECT id, vector FROM chunks ORDER BY id")
        while rows := cursor.fetchmany(BATCH):
            ids.append(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))
            blocks.append(np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
                          .reshape(len(rows), -1))
        conn.close()
        np.save(ids_file, np.concatenate(ids))
        np.save(vectors_file, np.concatenate(blocks))
    ids = np.load(ids_file)
    vectors = np.load(vectors_file, mmap_mode="r")
    if limit:
        ids, vectors = ids[:limit], vectors[:limit]
    return ids, np.ascontiguousarray(vectors)


def exact_top(ids: np.ndarray, vectors: np.ndarray, queries: np.ndarray, k: int = 10
              ) -> list[set[int]]:
    """Each query's exact top ``k`` chunk ids by float32 inner product."""
    best_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(queries), k), dtype=np.int64)
    for start in range(0, len(ids), 100_000):
        scores = queries @ vectors[start:start + 100_000].T
        both = np.concatenate([best_scores, scores], axis=1)
        both_ids = np.concatenate(
            [best_ids, np.broadcast_to(ids[start:start + 100_000], scores.shape)], axis=1)
        top = np.argpartition(-both, k, axis=1)[:, :k]
        best_scores = np.take_along_axis(both, top, 1)
        best_ids = np.take_along_axis(both_ids, top, 1)
    return [set(row.tolist()) for row in best_ids]


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def measure(config: str, ids: np.ndarray, vectors: np.ndarray, queries: np.ndarray,
            exact: list[set[int]], args: argparse.Namespace) -> dict[str, object]:
    connectivity, expansion_add, dtype = config.split(",")
    result: dict[str, object] = {
        "connectivity": int(connectivity), "expansion_add": int(expansion_add), "dtype": dtype,
        "threads": args.threads, "vectors": len(ids), "load_average_start": load()}
    process = psutil.Process()
    gc.collect()
    before = process.memory_info().rss
    ann = VectorAnn(vectors.shape[1], exact_search_below=0, threads=args.threads,
                    connectivity=int(connectivity), expansion_add=int(expansion_add), dtype=dtype)
    started, cpu = time.perf_counter(), time.process_time()
    kept = args.keep / f"{args.index.name}-{connectivity}-{expansion_add}-{dtype}" \
        if args.keep else None
    if kept is not None and VectorAnn.files(kept):
        ann.load(VectorAnn.files(kept)[0][1])  # built by an earlier run: measure it again
        result["load_s"] = round(time.perf_counter() - started, 1)
    else:
        for at in range(0, len(ids), BATCH):
            ann.add(ids[at:at + BATCH], vectors[at:at + BATCH])
        result["build_s"] = round(time.perf_counter() - started, 1)
        result["build_cpu_s"] = round(time.process_time() - cpu, 1)  # every thread's
        if kept is not None:
            ann.save(kept, 1)
    result["load_average_built"] = load()
    gc.collect()
    result["rss_growth_mb"] = round((process.memory_info().rss - before) / 1e6, 1)
    graph = ann._graph()  # noqa: SLF001 - the bench reads the usearch index's own figures
    result["usearch_memory_mb"] = round(graph.memory_usage / 1e6, 1)
    if kept is not None:
        result["file_mb"] = round(VectorAnn.files(kept)[0][1].stat().st_size / 1e6, 1)
    else:
        with tempfile.TemporaryDirectory(dir=args.cache) as folder:
            saved = ann.save(Path(folder) / "bench.sqlite", 1)
            assert saved is not None
            result["file_mb"] = round(saved.stat().st_size / 1e6, 1)
    spinner = None
    if args.busy_core:
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])  # noqa: S603
    try:
        for depth in args.depths:
            ann.expansion_search = depth
            hits, took, work = [], [], []
            for round_ in range(args.rounds):
                for vector, truth in zip(queries, exact, strict=True):
                    t0, c0 = time.perf_counter(), time.thread_time()
                    found, _ = ann.search(vector, 10)
                    took.append((time.perf_counter() - t0) * 1000)
                    work.append((time.thread_time() - c0) * 1000)
                    if round_ == 0:
                        hits.append(len(truth & set(found.tolist())) / len(truth))
            result[f"depth_{depth}"] = {
                "recall_at_10": round(statistics.mean(hits), 4),
                "p50_ms": round(statistics.median(took), 2),
                "p95_ms": round(percentile(took, 0.95), 2),
                "cpu_p50_ms": round(statistics.median(work), 2),
                "cpu_p95_ms": round(percentile(work, 0.95), 2)}
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()
    result["load_average_end"] = load()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--index", type=Path, required=True, help="an existing SQLite index")
    parser.add_argument("--cache", type=Path, default=Path("bench/.work"))
    parser.add_argument("--config", action="append", required=True,
                        help="connectivity,expansion_add,dtype (repeatable)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--depths", type=lambda v: [int(x) for x in v.split(",")],
                        default=[128, 256, 512, 1024])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0, help="only the first N vectors")
    parser.add_argument("--busy-core", action="store_true")
    parser.add_argument("--keep", type=Path, help="save each graph in this folder; a later run "
                        "with the same folder measures the saved graph instead of building")
    args = parser.parse_args()
    ids, vectors = load_vectors(args.index, args.cache, args.limit)
    embedder = WordLlamaEmbedder(args.cache / "wl")
    claims = list(load_beir(args.shared / "datasets" / "scifact").queries.values())
    queries = np.asarray(asyncio.run(embedder.embed(claims)), dtype=np.float32)
    exact = exact_top(ids, vectors, queries)
    for config in args.config:
        print(json.dumps({"index": str(args.index), **measure(config, ids, vectors, queries,
                                                               exact, args)}), flush=True)
        gc.collect()


if __name__ == "__main__":
    main()
