"""The scale curve of the embedded index: 10k, 100k and 1M chunks.

    .venv/bin/python bench/retrieval_scale.py --shared ../shared --out bench/.work --size 1m \
        [--corpus mixed] [--busy-core] [--rounds 3] [--ef 256] [--recall-ef 128,512] \
        [--skip-recall] [--exact-below 60000]

For one size (10k, 50k, 100k or 1m): builds the index if bench/.work has none (through
``ingest_texts``, so the build time is the ingestion time, postings and HNSW graph included;
``--build-only`` stops there), then in this fresh process measures the index's memory (resident
set growth from opening it to its first searches), its size on disk, search latency per mode
(``Retriever.search``, top 5, SciFact's 300 test claims, ``--rounds`` times each) and the
vector half's recall@10 against an exact float32 scan of every stored vector, with the time of
``SqliteIndex.nearest_chunks`` alone (``--recall-ef``: also at those graph search depths;
``--exact-below``: scan exactly below that many vectors instead of the default 20,000).
``--busy-core`` keeps one core busy with a spinning process while the latencies are measured
(use it only on an otherwise quiet machine). Prints one JSON object, with the load average at
the start and the end.

Corpora: ``copies`` (the default) is SciFact's abstracts (9,082 chunks a copy) repeated under new
document keys with the copy number appended to every text, so each abstract has 11 or 111
near-identical vectors: the worst case for a proximity graph, and plain recall@10 is partly a
lottery among ties, so it is also given tie-aware (a returned chunk counts when its exact score
is within 1e-4 of the exact tenth) and as the ratio of exact score sums. ``mixed`` has no
near-copies (``mixed_corpus``); ``--duplicates 0.2`` adds exact duplicates to it.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psutil

from chatref.ingest.pipeline import TextDocument, ingest_texts
from chatref.retrieval.ann import EXACT_SEARCH_BELOW, EXPANSION_SEARCH, VectorAnn
from chatref.retrieval.embedder import WordLlamaEmbedder
from chatref.retrieval.evaluation import load_beir, percentile
from chatref.retrieval.retriever import Retriever
from chatref.retrieval.sqlite_index import SqliteIndex
from chatref.retrieval.types import SearchMode

SIZES = {"10k": 1, "50k": 5, "100k": 11, "1m": 111}  # copies of SciFact's 9,082 chunks
MIXED_SIZES = {"10k": 10_000, "50k": 50_000, "100k": 100_000, "1m": 1_000_000}  # one chunk each


def corpus(shared: Path, copies: int) -> Iterator[TextDocument]:
    """SciFact's abstracts ``copies`` times, each text suffixed with its copy number."""
    base = list(load_beir(shared / "datasets" / "scifact").corpus())
    for n in range(copies):
        for doc in base:
            yield TextDocument(key=f"{doc.key}#{n}", title=doc.title,
                               text=f"{doc.text} (copy {n})")


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(])")


def mixed_corpus(shared: Path, size: int, *, duplicates: float = 0.0, seed: int = 14
                 ) -> Iterator[TextDocument]:
    """``size`` one-chunk documents, none a near-copy of another: each is a run of two to four
    consecutive sentences of a random SciFact abstract (under its title) with one sentence of
    another random abstract put in at a random place. Chunks cluster by topic as a real
    collection's do (about ``size`` / 5,183 share an abstract), but no two have the same vector.

    ``duplicates``: this fraction of the documents repeat an earlier one's text exactly under
    a new key, half of them one of 20 "boilerplate" texts (each repeated thousands of times at
    1M), half a random earlier document (the same file in several folders).
    """
    base = list(load_beir(shared / "datasets" / "scifact").corpus())
    sentences = [_SENTENCE.split(doc.text.strip()) for doc in base]
    rng = random.Random(seed)
    made: list[tuple[str, str]] = []
    for n in range(size):
        if made and rng.random() < duplicates:
            title, text = made[rng.randrange(min(20, len(made)))] if rng.random() < 0.5 \
                else made[rng.randrange(len(made))]
            yield TextDocument(key=f"mix{n}", title=title, text=text)
            continue
        a = rng.randrange(len(base))
        own = sentences[a]
        width = rng.randint(2, 4)
        start = rng.randrange(max(1, len(own) - width + 1))
        picked = own[start:start + width]
        other = sentences[rng.randrange(len(base))]
        picked.insert(rng.randint(0, len(picked)), other[rng.randrange(len(other))])
        while len(picked) > 1 and sum(len(s) + 1 for s in picked) > 1100:
            picked.pop()
        title, text = base[a].title, " ".join(picked)
        if len(made) < 1_000_000:
            made.append((title, text))
        yield TextDocument(key=f"mix{n}", title=title, text=text)


def files_mb(path: Path) -> dict[str, float]:
    sqlite_bytes = sum(p.stat().st_size for p in path.parent.glob(f"{path.name}*")
                       if not p.name.endswith(".usearch"))
    graph_bytes = sum(f.stat().st_size for _, f in VectorAnn.files(path))
    return {"sqlite_mb": round(sqlite_bytes / 1e6, 1), "graph_mb": round(graph_bytes / 1e6, 1)}


async def build(path: Path, embedder: WordLlamaEmbedder, documents: Iterator[TextDocument]
                ) -> dict[str, object]:
    index = SqliteIndex.open(path, embedder_name=embedder.name, dimension=embedder.dimension)
    try:
        report = await ingest_texts(documents, index, embedder)
    finally:
        index.close()
    return {"chunks": report.chunks_written, "elapsed_s": round(report.elapsed_s, 1),
            "chunks_per_s": round(report.chunks_written / report.elapsed_s, 1),
            "stages_s": {k: round(v, 1) for k, v in report.stages_s.items()},
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def exact_top(path: Path, queries: np.ndarray, k: int = 10, block: int = 100_000
              ) -> list[list[tuple[float, int]]]:
    """Each query's exact top ``k`` (score, chunk id) over every stored float32 vector."""
    conn = sqlite3.connect(path)
    best: list[list[tuple[float, int]]] = [[] for _ in queries]
    cursor = conn.execute("SELECT id, vector FROM chunks")
    while rows := cursor.fetchmany(block):
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
        scores = queries @ matrix.reshape(len(rows), -1).T
        for q, row in enumerate(scores):
            top = np.argpartition(-row, min(k, len(row) - 1))[:k]
            best[q] = heapq.nlargest(k, best[q] + [(float(row[i]), int(ids[i])) for i in top])
    conn.close()
    return best


def recall(index: SqliteIndex, queries: np.ndarray, exact: list[list[tuple[float, int]]]
           ) -> dict[str, float]:
    """recall@10 of the graph against the exact top 10, plain and tie-aware: a returned chunk
    also counts when its exact float32 score is within 1e-4 of the exact tenth (the copies of
    one abstract tie to about that), and the ratio of the exact scores' sums."""
    conn = sqlite3.connect(index.path)
    plain, tie_aware, ratio, took = [], [], [], []
    for vector, truth in zip(queries, exact, strict=True):
        started = time.perf_counter()
        ids, _ = index.nearest_chunks(vector, 10)
        took.append((time.perf_counter() - started) * 1000)
        marks = ",".join("?" * len(ids))
        rows = conn.execute(f"SELECT vector FROM chunks WHERE id IN ({marks})",  # noqa: S608
                            ids.tolist()).fetchall()
        scores = [float(np.frombuffer(r[0], dtype=np.float32) @ vector) for r in rows]
        wanted = {i for _, i in truth}
        plain.append(len(wanted & set(ids.tolist())) / len(truth))
        tie_aware.append(sum(1 for s in scores if s >= truth[-1][0] - 1e-4) / len(truth))
        ratio.append(sum(scores) / sum(s for s, _ in truth))
    conn.close()
    return {"recall_at_10": round(statistics.mean(plain), 4),
            "recall_at_10_tie_aware": round(statistics.mean(tie_aware), 4),
            "score_sum_ratio": round(statistics.mean(ratio), 5),
            "nearest_p50_ms": round(statistics.median(took), 2),
            "nearest_p95_ms": round(percentile(took, 0.95), 2)}


async def latency(index: SqliteIndex, embedder: WordLlamaEmbedder, queries: list[str],
                  rounds: int) -> dict[str, dict[str, float]]:
    retriever = Retriever(index, embedder)
    out: dict[str, dict[str, float]] = {}
    modes: tuple[SearchMode, ...] = ("keyword", "vector", "hybrid")
    for mode in modes:
        samples = []
        for _ in range(rounds):
            for query in queries:
                started = time.perf_counter()
                await retriever.search(query, top_k=5, mode=mode)
                samples.append((time.perf_counter() - started) * 1000)
        out[mode] = {"p50_ms": round(statistics.median(samples), 2),
                     "p95_ms": round(percentile(samples, 0.95), 2)}
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--out", type=Path, default=Path("bench/.work"))
    parser.add_argument("--size", choices=sorted(SIZES), required=True)
    parser.add_argument("--corpus", choices=("copies", "mixed"), default="copies",
                        help="SciFact copied (worst case for the graph) or mixed sentences.")
    parser.add_argument("--duplicates", type=float, default=0.0,
                        help="mixed corpus: this fraction of documents repeat another exactly")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ef", type=int, default=EXPANSION_SEARCH, help="HNSW expansion_search")
    parser.add_argument("--recall-ef", type=lambda v: [int(x) for x in v.split(",")],
                        default=[], help="Also measure recall at these graph search depths.")
    parser.add_argument("--build-only", action="store_true",
                        help="Build the index if missing, measure nothing.")
    parser.add_argument("--busy-core", action="store_true",
                        help="Keep one core busy with a spinning process during the latencies.")
    parser.add_argument("--skip-recall", action="store_true",
                        help="Latencies only (paired before/after runs of the keyword half).")
    parser.add_argument("--exact-below", type=int, default=EXACT_SEARCH_BELOW,
                        help="Scan every vector exactly below this many (the index's "
                             "exact_search_below), to compare the scan with the graph.")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    embedder = WordLlamaEmbedder(args.out / "wl")
    if args.corpus == "copies":
        path = args.out / f"scale-{args.size}.sqlite"
        documents = corpus(args.shared, SIZES[args.size])
    else:
        dup = f"-dup{args.duplicates:g}" if args.duplicates else ""
        path = args.out / f"scale-mixed{dup}-{args.size}.sqlite"
        documents = mixed_corpus(args.shared, MIXED_SIZES[args.size], duplicates=args.duplicates)
    result: dict[str, object] = {"size": args.size, "corpus": args.corpus, "ef": args.ef,
                                 "exact_below": args.exact_below,
                                 "load_average_start": [round(x, 2) for x in os.getloadavg()]}
    if not path.exists():
        result["build"] = await build(path, embedder, documents)
        if args.build_only:
            print(json.dumps(result, indent=1))
            return
        # Measure in a fresh process: this one holds the build's memory.
        child = subprocess.run([sys.executable, *sys.argv], capture_output=True, text=True,
                               check=True)
        measured = json.loads(child.stdout)
        measured["build"] = result["build"]
        print(json.dumps(measured, indent=1))
        return
    dataset = load_beir(args.shared / "datasets" / "scifact")
    queries = list(dataset.queries.values())
    vectors = await embedder.embed(queries)
    process = psutil.Process()
    before = process.memory_info().rss
    index = SqliteIndex.open(path, embedder_name=embedder.name, dimension=embedder.dimension,
                             expansion_search=args.ef, exact_search_below=args.exact_below)
    opened = time.perf_counter()
    await Retriever(index, embedder).search("warm up", top_k=5)  # loads the graph
    result["first_search_s"] = round(time.perf_counter() - opened, 2)
    result["index_memory_mb"] = round((process.memory_info().rss - before) / 1e6, 1)
    result["chunks"] = index.stats()["chunks"]
    result["files"] = files_mb(path)
    spinner = None
    if args.busy_core:
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])  # noqa: S603
    try:
        result["latency"] = await latency(index, embedder, queries, args.rounds)
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()
    if not args.skip_recall:
        exact = exact_top(path, vectors)
        result["vector_recall"] = recall(index, vectors, exact)
        for depth in args.recall_ef:
            index.set_search_depth(depth)
            result[f"vector_recall_ef{depth}"] = recall(index, vectors, exact)
    index.close()
    result["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
