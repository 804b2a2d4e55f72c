"""Recall of the vector graph on a corpus with exact duplicates: copies as one node, or not.

    .venv/bin/python bench/ann_duplicates.py --shared ../shared --out bench/.work \\
        --size 100000 --duplicates 0.2 --ef 128,256,512

Embeds ``mixed_corpus(..., duplicates=...)`` (bench/retrieval_scale.py) with WordLlama (title
and text, as ingestion does), then builds ``VectorAnn`` (identical vectors stored once) and a bare
usearch ``Index`` with the same parameters (every duplicate a node) from the same vectors, and
prints recall@10 against an exact scan (plain and tie-aware: a result counts when its exact score
is within 1e-4 of the exact tenth) and search time, for each search depth.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from retrieval_scale import mixed_corpus
from usearch.index import Index

from chatref.retrieval.ann import CONNECTIVITY, EXPANSION_ADD, VectorAnn
from chatref.retrieval.embedder import WordLlamaEmbedder
from chatref.retrieval.evaluation import load_beir


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--out", type=Path, default=Path("bench/.work"))
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--duplicates", type=float, default=0.2)
    parser.add_argument("--ef", default="128,256,512")
    args = parser.parse_args()
    embedder = WordLlamaEmbedder(args.out / "wl")
    texts = [f"{d.title}\n\n{d.text}"
             for d in mixed_corpus(args.shared, args.size, duplicates=args.duplicates)]
    vectors = np.concatenate([embedder.embed_sync(texts[i:i + 4096])
                              for i in range(0, len(texts), 4096)]).astype(np.float32)
    claims = list(load_beir(args.shared / "datasets" / "scifact").queries.values())
    queries = embedder.embed_sync(claims).astype(np.float32)
    exact = queries @ vectors.T
    tenth = np.sort(exact, axis=1)[:, -10]
    truth = np.argsort(-exact, axis=1)[:, :10]

    def measure(name: str, search: Callable[[np.ndarray], np.ndarray]) -> None:
        plain, tie_aware, took = [], [], []
        for i, query in enumerate(queries):
            started = time.perf_counter()
            found = search(query)
            took.append((time.perf_counter() - started) * 1000)
            plain.append(len(set(found.tolist()) & set(truth[i].tolist())) / 10)
            tie_aware.append(float(np.sum(exact[i][found] >= tenth[i] - 1e-4)) / 10)
        print(f"  {name}: recall@10 {np.mean(plain):.4f} (tie-aware {np.mean(tie_aware):.4f}),"
              f" p50 {np.median(took):.2f} ms", flush=True)

    depths = [int(v) for v in args.ef.split(",")]
    ids = np.arange(len(vectors), dtype=np.int64)
    ann = VectorAnn(vectors.shape[1], exact_search_below=0)
    started = time.perf_counter()
    ann.add(ids, vectors)
    print(f"copies as one node: {len(vectors)} chunks, built in"
          f" {time.perf_counter() - started:.1f} s", flush=True)
    for depth in depths:
        ann.expansion_search = depth
        measure(f"depth {depth}", lambda v: ann.search(v, 10)[0])
    bare = Index(ndim=vectors.shape[1], metric="ip", dtype="f16", connectivity=CONNECTIVITY,
                 expansion_add=EXPANSION_ADD)
    started = time.perf_counter()
    bare.add(ids.astype(np.uint64), vectors)
    print(f"every duplicate a node: built in {time.perf_counter() - started:.1f} s", flush=True)
    for depth in depths:
        bare.expansion_search = depth  # type: ignore[misc]  # it has a setter
        measure(f"depth {depth}", lambda v: np.asarray(bare.search(v, 10, threads=1).keys,
                                                       dtype=np.int64))


if __name__ == "__main__":
    main()
