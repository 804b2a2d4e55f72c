"""Search latency at 10k and 100k chunks, ingest throughput (text and PDF), peak ingest memory.

    .venv/bin/python bench/retrieval_perf.py --shared ../shared --out bench/.work \
        [--search-only | --ingest-only] [--large-txt 10000 --large-pdf 1000]
    .venv/bin/python bench/retrieval_perf.py --shared ../shared --out bench/.work --texts 11

The corpus is SciFact's abstracts (9k chunks); bigger indexes repeat it under new document keys,
with a copy number appended to every text, so posting lists and the vector matrix have the real
size. Queries are SciFact's 300 test claims. Each figure is the median of what it measures, and
each run prints the command-line to reproduce it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from chatref.ingest.pipeline import TextDocument, ingest_paths, ingest_texts
from chatref.retrieval.embedder import WordLlamaEmbedder
from chatref.retrieval.evaluation import load_beir, percentile
from chatref.retrieval.retriever import Retriever
from chatref.retrieval.sqlite_index import SqliteIndex


def corpus(shared: Path, copies: int) -> list[TextDocument]:
    dataset = load_beir(shared / "datasets" / "scifact")
    base = list(dataset.corpus())
    return [
        TextDocument(key=f"{doc.key}#{n}", title=doc.title, text=f"{doc.text} (copy {n})")
        for n in range(copies) for doc in base
    ]


async def build(path: Path, embedder: WordLlamaEmbedder, docs: list[TextDocument],
                target_chunks: int) -> SqliteIndex:
    index = SqliteIndex.open(path, embedder_name=embedder.name, dimension=embedder.dimension)
    if index.stats()["chunks"] < target_chunks:
        await ingest_texts(docs, index, embedder)
    return index


async def latency(
    index: SqliteIndex, embedder: WordLlamaEmbedder, queries: list[str], rounds: int = 3,
) -> dict[str, dict[str, float]]:
    retriever = Retriever(index, embedder)
    await retriever.search("warm up", top_k=5)  # loads the vector matrix
    out: dict[str, dict[str, float]] = {}
    for mode in ("keyword", "vector", "hybrid"):
        samples = []
        for _ in range(rounds):
            for query in queries:
                started = time.perf_counter()
                await retriever.search(query, top_k=5, mode=mode)  # type: ignore[arg-type]
                samples.append((time.perf_counter() - started) * 1000)
        out[mode] = {"p50_ms": round(statistics.median(samples), 2),
                     "p95_ms": round(percentile(samples, 0.95), 2)}
    return out


INGEST_CHILD = """
import asyncio, json, os, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from retrieval_perf import corpus, cpu_seconds
from chatref.ingest.pipeline import ingest_texts
from chatref.retrieval.embedder import WordLlamaEmbedder
from chatref.retrieval.sqlite_index import SqliteIndex
embedder = WordLlamaEmbedder(Path(sys.argv[2]))
embedder.embed_sync(["warm up"])
index = SqliteIndex.open(Path(sys.argv[1]), embedder_name=embedder.name, dimension=256)
docs = corpus(Path(sys.argv[3]), int(sys.argv[5]))
load, cpu = os.getloadavg()[0], cpu_seconds()
report = asyncio.run(ingest_texts(docs, index, embedder))
cpu = cpu_seconds() - cpu
index.close()
n = report.chunks_written
print(json.dumps({"chunks": n, "elapsed_s": round(report.elapsed_s, 1),
                  "chunks_per_s": round(n / report.elapsed_s),
                  "chunks_per_s_before_finish": round(
                      n / (report.elapsed_s - report.stages_s.get("finish", 0.0))),
                  "cpu_ms_per_chunk": round(cpu * 1000 / n, 3),
                  "stages_s": {k: round(v, 1) for k, v in report.stages_s.items()},
                  "load_average": [round(load, 2), round(os.getloadavg()[0], 2)],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def ingest_memory(work: Path, shared: Path, copies: int = 11) -> dict[str, float]:
    """Ingest SciFact ``copies`` times (11: ~100k chunks) through ``ingest_texts`` in a fresh
    process (its parse workers embed) into a fresh index: rate, CPU (the workers' too), stages
    and the process's peak resident memory."""
    path = work / f"texts-{copies}.sqlite"
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()
    result = subprocess.run(
        [sys.executable, "-c", INGEST_CHILD, str(path), str(work / "wl"), str(shared),
         str(Path(__file__).parent), str(copies)],
        capture_output=True, text=True, check=True,
    )
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def write_files(folder: Path, shared: Path, kind: str, count: int) -> None:
    """``count`` files of SciFact abstracts (copies beyond its 5,183), .txt or three-page PDFs."""
    from fpdf import FPDF

    if folder.exists():
        return
    partial = folder.with_name(folder.name + ".partial")
    partial.mkdir(parents=True, exist_ok=True)
    docs = corpus(shared, count // 5183 + 1)[:count]
    for n, doc in enumerate(docs):
        if kind == "txt":
            (partial / f"{n}.txt").write_text(f"{doc.title}\n\n{doc.text}\n", encoding="utf-8")
        else:
            pdf = FPDF()
            pdf.set_font("helvetica", size=11)
            for _ in range(3):
                pdf.add_page()
                pdf.multi_cell(0, 6, doc.text.encode("latin-1", "replace").decode("latin-1"))
            (partial / f"{n}.pdf").write_bytes(bytes(pdf.output()))
    partial.rename(folder)


async def file_throughput(work: Path, shared: Path, embedder: WordLlamaEmbedder,
                          kind: str, count: int) -> dict[str, Any]:
    """Chunks per second ingesting ``count`` real files: Markdown-free text files, or PDFs."""
    folder = work / f"files-{kind}" if count == DEFAULT_FILES[kind] else \
        work / f"files-{kind}-{count}"
    write_files(folder, shared, kind, count)
    index_path = work / f"files-{kind}.sqlite"
    for stale in index_path.parent.glob(index_path.name + "*"):  # the graph and postings too
        stale.unlink()
    index = SqliteIndex.open(index_path, embedder_name=embedder.name, dimension=256)
    cpu_before = cpu_seconds()
    report = await ingest_paths([folder], index, embedder)
    index.close()
    cpu = cpu_seconds() - cpu_before  # the parse workers' too: they have exited by now
    return {"files": len(report.outcomes), "chunks": report.chunks_written,
            "elapsed_s": round(report.elapsed_s, 2),
            "chunks_per_s": round(report.chunks_written / report.elapsed_s, 1),
            "cpu_ms_per_chunk": round(cpu * 1000 / report.chunks_written, 3),
            "stages_s": {k: round(v, 2) for k, v in report.stages_s.items()}}


DEFAULT_FILES = {"txt": 1000, "pdf": 300}


def cpu_seconds() -> float:
    """CPU time of this process and its exited children: on a shared machine the cost of an
    ingest, where its wall-clock rate is mostly the other processes' load."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def steady_state(small: dict[str, Any], large: dict[str, Any]) -> dict[str, float]:
    """The marginal rate between a small and a large ingest (start-up cancels out), and the
    start-up cost it implies for each ingest (the embedder is loaded before either)."""
    rate = (large["chunks"] - small["chunks"]) / (large["elapsed_s"] - small["elapsed_s"])
    return {"chunks_per_s": round(rate, 1),
            "startup_s": round(small["elapsed_s"] - small["chunks"] / rate, 2)}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--out", type=Path, default=Path("bench/.work"))
    parser.add_argument("--search-only", action="store_true",
                        help="Only the search latencies (indexes built by an earlier run).")
    parser.add_argument("--ingest-only", action="store_true",
                        help="Only the file ingestion throughput and its stages.")
    parser.add_argument("--large-txt", type=int, default=0, metavar="FILES",
                        help="Also ingest this many .txt files (e.g. 10000, ~18k chunks) for the "
                        "steady-state rate and start-up cost.")
    parser.add_argument("--large-pdf", type=int, default=0, metavar="FILES",
                        help="The same with this many three-page PDFs (e.g. 1000).")
    parser.add_argument("--texts", type=int, default=0, metavar="COPIES",
                        help="Only ingest SciFact this many times through ingest_texts (11: "
                        "~100k chunks, 111: ~1M) in a fresh process, into a fresh index.")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.texts:
        print(json.dumps(ingest_memory(args.out, args.shared, args.texts), indent=1))
        return
    embedder = WordLlamaEmbedder(args.out / "wl")
    queries = list(load_beir(args.shared / "datasets" / "scifact").queries.values())
    results: dict[str, object] = {}
    for label, copies, target in () if args.ingest_only else (("10k", 1, 9000),
                                                               ("100k", 11, 99000)):
        index = await build(args.out / f"perf-{label}.sqlite", embedder,
                            corpus(args.shared, copies), target)
        results[f"search_{label}"] = {"chunks": index.stats()["chunks"],
                                      **await latency(index, embedder, queries)}
        index.close()
        print(json.dumps(results, indent=1), flush=True)
    if args.search_only:
        return
    loading = time.perf_counter()
    embedder.embed_sync(["warm up"])  # not part of any ingest below: reported on its own
    results["embedder_load_s"] = round(time.perf_counter() - loading, 2)
    for kind, large in (("txt", args.large_txt), ("pdf", args.large_pdf)):
        small = await file_throughput(args.out, args.shared, embedder, kind, DEFAULT_FILES[kind])
        results[f"ingest_{kind}"] = small
        if large:
            results[f"ingest_{kind}_{large}"] = big = await file_throughput(
                args.out, args.shared, embedder, kind, large)
            results[f"ingest_{kind}_steady_state"] = steady_state(small, big)
        print(json.dumps(results, indent=1), flush=True)
    results["load_average"] = [round(x, 2) for x in os.getloadavg()]
    if args.ingest_only:
        print(json.dumps(results, indent=1))
        return
    results["ingest_100k_memory"] = ingest_memory(args.out, args.shared)
    results["bench_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
