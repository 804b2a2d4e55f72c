"""The approximate vector index beside the SQLite index: an HNSW graph (usearch), f16 vectors.

An exact scan of float32 vectors is memory bound: 1 GB and ~100 ms a query at a million
256-dimensional chunks on a 2-core machine. An HNSW graph visits a few thousand vectors a query
instead; its vectors are kept as float16 (half the memory; the ranking of float16 cosine scores
matched float32 on every SciFact query, docs/benchmarks.md), so its scores are the cosine
similarities the fusion needs, not a proxy. Below ``EXACT_SEARCH_BELOW`` vectors a search is an
exact scan instead (see there: the graph's recall is not yet good enough).

The graph is a cache of the SQLite file's vectors, saved next to it as
``<index>.vectors-<seq>.usearch``, where ``seq`` is the last entry of the index's change log that
it contains (sqlite_index.py). A missing, stale or unreadable file is rebuilt from the SQLite
rows; it never decides what is indexed.

>>> ann = VectorAnn(dimension=3)
>>> ann.add(np.array([7, 8]), np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32))
>>> ids, scores = ann.search(np.array([[0.6, 0.8, 0.0]], dtype=np.float32), 10)  # best first
>>> ids.tolist(), [round(float(score), 2) for score in scores]
([8, 7], [0.8, 0.6])
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import numpy as np
import numpy.typing as npt
from usearch.index import Index

from chatref.retrieval.types import Vectors

# HNSW parameters, chosen in bench/retrieval_perf.py (docs/benchmarks.md): recall@10 against an
# exact scan at or above 0.98 at a million chunks.
CONNECTIVITY = 16
EXPANSION_ADD = 64
EXPANSION_SEARCH = 128
# Below this many vectors a search is an exact scan of a float32 matrix of the graph's float16
# vectors, kept beside the graph (9 ms at 100k, 100 MB). The graph is still built (and saved by
# an ingest) below it, though no search walks it there: a known cost of this first version.
# Why: on SciFact copied 11 times (100k chunks, eleven near-identical vectors
# per abstract) the graph's recall@10 against an exact scan was 0.84 (tie-aware) whatever its
# search depth, below the 0.98 goal (docs/benchmarks.md). usearch's own ``exact=True`` did not
# scan a graph loaded from a file, so the scan is numpy's.
EXACT_SEARCH_BELOW = 150_000

Ids = npt.NDArray[np.int64]
_FILE = re.compile(r"\.vectors-(\d+)\.usearch$")


class VectorAnn:
    """Chunk ids -> unit vectors, searchable by inner product (cosine for unit vectors)."""

    def __init__(
        self, dimension: int, *, expansion_search: int = EXPANSION_SEARCH,
        exact_search_below: int = EXACT_SEARCH_BELOW, threads: int = 0,
    ) -> None:
        self.dimension = dimension
        self._expansion_search = expansion_search
        self._exact_below = exact_search_below
        self._threads = threads  # for adding (0: every core); searches use one thread
        self._index = self._new_index()
        self._exact: tuple[Ids, Vectors] | None = None  # (ids, float32 matrix), while small

    def _new_index(self) -> Index:
        return Index(
            ndim=self.dimension, metric="ip", dtype="f16", connectivity=CONNECTIVITY,
            expansion_add=EXPANSION_ADD, expansion_search=self._expansion_search,
        )

    def empty(self) -> VectorAnn:
        """A new, empty graph with the same settings."""
        return VectorAnn(self.dimension, expansion_search=self._expansion_search,
                         exact_search_below=self._exact_below, threads=self._threads)

    def __len__(self) -> int:
        return len(self._index)

    def add(self, ids: Ids, vectors: Vectors) -> None:
        """Add (or replace) these chunks' vectors."""
        if not len(ids):
            return
        self._exact = None
        present = np.asarray(self._index.contains(ids), dtype=bool)
        if present.any():
            self._index.remove(ids[present])
        self._index.add(ids.astype(np.uint64), np.ascontiguousarray(vectors, dtype=np.float32),
                        threads=self._threads)

    def remove(self, ids: Ids) -> None:
        self._exact = None
        if len(ids):
            present = np.asarray(self._index.contains(ids), dtype=bool)
            if present.any():
                self._index.remove(ids[present])

    def search(self, query: Vectors, limit: int) -> tuple[Ids, npt.NDArray[np.float32]]:
        """The ``limit`` nearest chunk ids and their cosine scores, best first."""
        if not len(self._index) or limit <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        vector = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
        if len(self._index) < self._exact_below:
            return self._exact_search(vector, limit)
        matches = self._index.search(vector, limit, threads=1)
        ids = np.asarray(matches.keys, dtype=np.int64)
        scores = 1.0 - np.asarray(matches.distances, dtype=np.float32)  # "ip" distance: 1 - dot
        return ids, scores

    def _exact_search(self, query: Vectors, limit: int) -> tuple[Ids, npt.NDArray[np.float32]]:
        if self._exact is None:
            keys = np.asarray(self._index.keys, dtype=np.int64)
            rows = self._index.get(keys.astype(np.uint64))  # a tuple of float16 rows
            matrix = np.zeros((len(keys), self.dimension), dtype=np.float32)
            for i, row in enumerate(rows if isinstance(rows, tuple) else [rows]):
                if row is not None:
                    matrix[i] = row
            self._exact = keys, matrix
        ids, matrix = self._exact
        scores = matrix @ query
        k = min(limit, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return ids[top], scores[top]

    # ---- the file beside the SQLite index ---------------------------------------------------
    @staticmethod
    def files(index_path: Path) -> list[tuple[int, Path]]:
        """The saved graphs of ``index_path``, newest (highest log sequence) first."""
        found = []
        for candidate in index_path.parent.glob(f"{index_path.name}.vectors-*.usearch"):
            match = _FILE.search(candidate.name)
            if match:
                found.append((int(match.group(1)), candidate))
        return sorted(found, reverse=True)

    def save(self, index_path: Path, seq: int) -> Path:
        """Write the graph atomically as the file for log sequence ``seq``; drop older ones."""
        target = index_path.with_name(f"{index_path.name}.vectors-{seq}.usearch")
        partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
        self._index.save(str(partial))
        os.replace(partial, target)
        for other_seq, other in self.files(index_path):
            if other_seq < seq:
                with contextlib.suppress(OSError):  # another process may have removed it
                    other.unlink()
        return target

    def load(self, file: Path) -> None:
        """Replace this graph with the one saved in ``file``; raises ``ValueError`` if that file
        is not a graph of this dimension (truncated, overwritten, another embedder's)."""
        try:
            meta = Index.metadata(str(file))
        except Exception as exc:  # noqa: BLE001 - usearch raises RuntimeError or worse on garbage
            raise ValueError(f"{file} is not a vector index: {exc}") from exc
        if not meta or meta.get("dimensions") != self.dimension:
            raise ValueError(f"{file} is not a {self.dimension}-dimension vector index")
        fresh = self._new_index()
        self._exact = None
        try:
            fresh.load(str(file))
        except Exception as exc:  # noqa: BLE001
            raise ValueError(f"{file} is not a vector index: {exc}") from exc
        self._index = fresh
