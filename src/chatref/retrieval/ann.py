"""The vector index beside the SQLite index: an exact matrix while small, then an HNSW graph.

An exact scan of float32 vectors is memory bound: 1 GB and ~100 ms a query at a million
256-dimensional chunks on a 2-core machine. An HNSW graph (usearch) visits a few thousand vectors a
query instead; its vectors are kept as float16 (half the memory; the ranking of float16 cosine
scores matched float32 on every SciFact query, docs/benchmarks.md), so its scores are the cosine
similarities the fusion needs, not a proxy. Below ``EXACT_SEARCH_BELOW`` vectors there is no graph
at all: a search scans a float32 matrix exactly, which is as fast there and costs no build.

The graph is a cache of the SQLite file's vectors, saved next to it as
``<index>.vectors-<seq>.usearch``, where ``seq`` is the last entry of the index's change log that
it contains (sqlite_index.py). A missing, stale or unreadable file is rebuilt from the SQLite
rows; it never decides what is indexed. A small index saves no file: it is read from its rows.

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

# HNSW parameters, chosen in bench/retrieval_scale.py's graph study (docs/benchmarks.md): vector
# recall@10 against an exact float32 scan at or above 0.98 at 100k and 1M chunks of a realistic
# corpus (no near-copies).
CONNECTIVITY = 16
EXPANSION_ADD = 64
EXPANSION_SEARCH = 256
# Below this many vectors there is no graph: a search is an exact scan of a float32 matrix (5 MB
# and well under a millisecond at 5k chunks, ~2 ms at 20k), and nothing is built or saved. At
# this size the graph is built from the matrix; it turns back into a matrix only below half of
# it, so an index near the threshold does not rebuild its graph back and forth.
EXACT_SEARCH_BELOW = 20_000

Ids = npt.NDArray[np.int64]
_FILE = re.compile(r"\.vectors-(\d+)\.usearch$")


class VectorAnn:
    """Chunk ids -> unit vectors, searchable by inner product (cosine for unit vectors): a
    float32 matrix scanned exactly while small, an HNSW graph (float16 vectors) once large."""

    def __init__(
        self, dimension: int, *, expansion_search: int = EXPANSION_SEARCH,
        exact_search_below: int = EXACT_SEARCH_BELOW, threads: int = 0,
    ) -> None:
        self.dimension = dimension
        self._expansion_search = expansion_search
        self._exact_below = exact_search_below
        self._threads = threads  # for building the graph (0: every core); searches use one
        self._index: Index | None = None  # the graph, once large enough
        self._ids: Ids = np.zeros(0, dtype=np.int64)  # the matrix's rows, while small
        self._matrix: Vectors = np.zeros((0, dimension), dtype=np.float32)

    def _new_index(self) -> Index:
        return Index(
            ndim=self.dimension, metric="ip", dtype="f16", connectivity=CONNECTIVITY,
            expansion_add=EXPANSION_ADD, expansion_search=self._expansion_search,
        )

    def empty(self) -> VectorAnn:
        """A new, empty index with the same settings."""
        return VectorAnn(self.dimension, expansion_search=self._expansion_search,
                         exact_search_below=self._exact_below, threads=self._threads)

    def __len__(self) -> int:
        return len(self._index) if self._index is not None else len(self._ids)

    @property
    def has_graph(self) -> bool:
        """Whether searches walk a graph (else they scan a matrix exactly)."""
        return self._index is not None

    def add(self, ids: Ids, vectors: Vectors) -> None:
        """Add (or replace) these chunks' vectors."""
        if not len(ids):
            return
        ids = np.asarray(ids, dtype=np.int64)
        matrix = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(ids), self.dimension)
        if self._index is None:
            keep = ~np.isin(self._ids, ids)
            self._ids = np.concatenate([self._ids[keep], ids])
            self._matrix = np.concatenate([self._matrix[keep], matrix])
        else:
            present = np.asarray(self._index.contains(ids), dtype=bool)
            if present.any():
                self._index.remove(ids[present])
            self._index.add(ids.astype(np.uint64), matrix, threads=self._threads)
        self._settle()

    def remove(self, ids: Ids) -> None:
        if not len(ids):
            return
        ids = np.asarray(ids, dtype=np.int64)
        if self._index is None:
            keep = ~np.isin(self._ids, ids)
            self._ids, self._matrix = self._ids[keep], self._matrix[keep]
        else:
            present = np.asarray(self._index.contains(ids), dtype=bool)
            if present.any():
                self._index.remove(ids[present])
        self._settle()

    def _settle(self) -> None:
        """Build the graph when the matrix reaches the threshold; go back to a matrix below half
        of it (the graph's float16 vectors then become the matrix)."""
        if self._index is None and len(self._ids) >= max(self._exact_below, 1):
            index = self._new_index()
            index.add(self._ids.astype(np.uint64), self._matrix, threads=self._threads)
            self._index = index
            self._ids = np.zeros(0, dtype=np.int64)
            self._matrix = np.zeros((0, self.dimension), dtype=np.float32)
        elif self._index is not None and len(self._index) < self._exact_below // 2:
            keys = np.asarray(self._index.keys, dtype=np.int64)
            rows = self._index.get(keys.astype(np.uint64), dtype="f32")
            matrix = np.zeros((len(keys), self.dimension), dtype=np.float32)
            for i, row in enumerate(rows if isinstance(rows, tuple) else [rows]):
                if row is not None:
                    matrix[i] = row
            self._index = None
            self._ids, self._matrix = keys, matrix

    def search(self, query: Vectors, limit: int) -> tuple[Ids, npt.NDArray[np.float32]]:
        """The ``limit`` nearest chunk ids and their cosine scores, best first."""
        if not len(self) or limit <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        vector = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
        if self._index is None:
            return self._exact_search(vector, limit)
        matches = self._index.search(vector, limit, threads=1)
        ids = np.asarray(matches.keys, dtype=np.int64)
        scores = 1.0 - np.asarray(matches.distances, dtype=np.float32)  # "ip" distance: 1 - dot
        return ids, scores

    def _exact_search(self, query: Vectors, limit: int) -> tuple[Ids, npt.NDArray[np.float32]]:
        scores = self._matrix @ query
        k = min(limit, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return self._ids[top], scores[top]

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

    def save(self, index_path: Path, seq: int) -> Path | None:
        """Write the graph atomically as the file for log sequence ``seq`` and drop older files.
        Without a graph (a small index) nothing is written, older files are dropped all the
        same, and the answer is ``None``: a small index is rebuilt from its rows when opened."""
        target = None
        if self._index is not None:
            target = index_path.with_name(f"{index_path.name}.vectors-{seq}.usearch")
            partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
            self._index.save(str(partial))
            os.replace(partial, target)
        for other_seq, other in self.files(index_path):
            if other_seq < seq or (target is None and other_seq == seq):
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
        try:
            fresh.load(str(file))
        except Exception as exc:  # noqa: BLE001
            raise ValueError(f"{file} is not a vector index: {exc}") from exc
        self._index = fresh
        self._ids = np.zeros(0, dtype=np.int64)
        self._matrix = np.zeros((0, self.dimension), dtype=np.float32)
        self._settle()
