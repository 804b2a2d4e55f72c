"""Azure AI Search client: overhead per search beyond the service's own time, and ingestion
throughput with batching, against the fake service (tests/fakes/search_server.py) run as a
separate process on 127.0.0.1.

Overhead = the client's wall time for one ``AzureSearchIndex.hybrid_search`` minus the time the
fake spent serving that request inside its ASGI app (recorded per request, read back from
``/_fake/timings``). What remains is ours and the SDK's request building, JSON encoding of the
query vector, TLS and loopback HTTP on both sides, and response decoding into ``Passage``s: an
upper bound on the client's own cost. The same requests sent as raw JSON with httpx give the
floor that transport alone costs, so the SDK's share is the difference.

Under load the wall-clock overhead mostly measures waiting for a core, so the client process's
CPU time per search (``time.process_time``; the fake runs in another process) is reported too:
the cost the client itself adds, whatever else the machine is doing.

    .venv/bin/python bench/search_client.py --searches 2000 --docs 200 --ingest-chunks 4000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from azure.core.credentials import AzureKeyCredential

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chatref.retrieval.azure_search import PASSAGE_FIELDS, AzureSearchIndex  # noqa: E402
from chatref.retrieval.types import ChunkRecord, DocumentRecord  # noqa: E402
from tests.fakes.search_server import FAKE_SEARCH_KEY  # noqa: E402

DIM = 256
WORDS = ("storage replication zone region backup restore key rotation identity network "
         "firewall private endpoint policy budget alert monitor log query index search").split()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values), 3), "p90": round(percentile(values, 90), 3),
            "p99": round(percentile(values, 99), 3), "n": len(values)}


def text(rng: np.random.Generator, words: int) -> str:
    return " ".join(rng.choice(WORDS, size=words))


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    rows = rng.normal(size=(n, DIM)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


async def fill(index: AzureSearchIndex, docs: int, chunks_per_doc: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    await index.known_documents()  # as every ingest does first (new paths need no lookup)
    for n in range(docs):
        chunks = [ChunkRecord(i, f"Doc {n}", None, None, text(rng, 120))
                  for i in range(chunks_per_doc)]
        record = DocumentRecord(f"doc{seed}-{n}", f"/bench/{seed}/{n}.md", f"/bench/{n}.md",
                                f"Doc {n}", f"h{n}")
        await index.write_document(record, chunks, unit(rng, chunks_per_doc))
    await index.finish_ingest(docs * chunks_per_doc)
    return time.perf_counter() - started


async def timings(http: httpx.AsyncClient) -> list[list[Any]]:
    response = await http.get("/_fake/timings")
    return list(response.json())


async def run(args: argparse.Namespace, url: str, ca_file: str) -> dict[str, Any]:
    trust = ssl.create_default_context(cafile=ca_file)
    results: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=url, verify=trust, timeout=60) as admin:
        # --- ingestion throughput with batching ------------------------------------------------
        for label, actions in (("batched (1,000 actions / 16 MB)", 1000),
                               ("one request per document", args.chunks_per_doc)):
            index = AzureSearchIndex(url, f"ingest{actions}", AzureKeyCredential(FAKE_SEARCH_KEY),
                                     embedder_name="bench/random", dimension=DIM, ca_file=ca_file,
                                     max_batch_actions=actions)
            try:
                await index.ensure_schema()
                await timings(admin)
                docs = args.ingest_chunks // args.chunks_per_doc
                elapsed = await fill(index, docs, args.chunks_per_doc, seed=actions)
            finally:
                await index.aclose()
            served = [t for t in await timings(admin) if t[0] == "index"]
            results[f"ingest {label}"] = {
                "chunks": docs * args.chunks_per_doc, "requests": len(served),
                "chunks_per_s": round(docs * args.chunks_per_doc / elapsed, 1),
                "service_s": round(sum(t[1] for t in served) / 1000, 2),
                "elapsed_s": round(elapsed, 2)}

        # --- search overhead --------------------------------------------------------------------
        index = AzureSearchIndex(url, "search", AzureKeyCredential(FAKE_SEARCH_KEY),
                                 embedder_name="bench/random", dimension=DIM, ca_file=ca_file)
        rng = np.random.default_rng(7)
        try:
            await index.ensure_schema()
            await fill(index, args.docs, 1, seed=99)
            queries = [(text(rng, 6), unit(rng, 1)[0]) for _ in range(64)]
            for q, v in queries[:20]:  # warm-up: connections, TLS session, caches
                await index.hybrid_search(q, v, 5)
            await timings(admin)
            wall: list[float] = []
            cpu: list[float] = []
            for n in range(args.searches):
                q, v = queries[n % len(queries)]
                c0, t0 = time.process_time(), time.perf_counter()
                await index.hybrid_search(q, v, 5)
                wall.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
            served = [t[1] for t in await timings(admin) if t[0] == "search"]
        finally:
            await index.aclose()
        assert len(served) == len(wall), (len(served), len(wall))
        overhead = [w - s for w, s in zip(wall, served, strict=True)]
        results["search wall ms"] = summary(wall)
        results["search service ms (fake)"] = summary(served)
        results["search client overhead ms"] = summary(overhead)
        results["search client CPU ms"] = summary(cpu)

        # --- the transport floor: the same request bodies as raw JSON over httpx -----------------
        raw_wall: list[float] = []
        raw_cpu: list[float] = []
        headers = {"api-key": FAKE_SEARCH_KEY}
        path = "/indexes('search')/docs/search.post.search"
        for n in range(args.searches):
            q, v = queries[n % len(queries)]
            body = {"search": q, "select": ",".join(PASSAGE_FIELDS), "top": 5,
                    "filter": "ordinal ge 0", "vectorQueries": [
                        {"kind": "vector", "vector": [float(x) for x in v], "k": 50,
                         "fields": "vector"}]}
            c0, t0 = time.process_time(), time.perf_counter()
            response = await admin.post(path, params={"api-version": "2024-07-01"},
                                        content=json.dumps(body), headers=headers)
            response.json()
            raw_wall.append((time.perf_counter() - t0) * 1000)
            raw_cpu.append((time.process_time() - c0) * 1000)
        served_raw = [t[1] for t in await timings(admin) if t[0] == "search"]
        results["raw httpx overhead ms"] = summary(
            [w - s for w, s in zip(raw_wall, served_raw, strict=True)])
        results["raw httpx CPU ms"] = summary(raw_cpu)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", type=int, default=2000)
    parser.add_argument("--docs", type=int, default=200, help="chunks in the searched index")
    parser.add_argument("--ingest-chunks", type=int, default=4000)
    parser.add_argument("--chunks-per-doc", type=int, default=4)
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    fake = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "tests.fakes.search_server", "--port", "0"], cwd=root,
        stdout=subprocess.PIPE, text=True)
    try:
        assert fake.stdout is not None
        url, ca_file = fake.stdout.readline().split()
        results = asyncio.run(run(args, url, ca_file))
    finally:
        fake.terminate()
        fake.wait(timeout=10)
    results["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
