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
import hashlib
import os
import re
from collections.abc import Container
from pathlib import Path

import numpy as np
import numpy.typing as npt
from usearch.index import Index

from chatref.retrieval.types import Vectors

# HNSW parameters, chosen with bench/ann_build.py (docs/benchmarks.md, "The vector half at
# scale"), which builds graphs from an index's stored vectors: on a corpus without near-copies,
# recall@10 against an exact float32 scan at 1M chunks is 0.986 at search depth 1,024 with
# expansion 128 on add (0.974 at 512, 0.991 at 2,048), against 0.960 at 1,024 and 0.971 at 2,048
# with expansion 64: the graph is built with more care instead of searched deeper, at the same
# memory (connectivity 16: 658 MB file at 1M). The price is build time, two to three times
# expansion 64's (25 minutes for 1M vectors on two loaded cores).
CONNECTIVITY = 16
EXPANSION_ADD = 128
DTYPE = "f16"
# The search depth grows with the graph: at 100k chunks depth 256 gives 0.993 (0.982 at 128), at
# 1M 1,024 gives 0.986. Between 100k and 1M the switch at 300,000 is not measured.
SEARCH_DEPTH = 256
DEEP_SEARCH_DEPTH = 1024
DEEP_SEARCH_FROM = 300_000
# A graph file saved before expansion 128 (its copies file does not say how it was built) was
# built with expansion 64: it is still loaded, not rebuilt, and searched as deep as it needs.
OLD_EXPANSION_ADD = 64
OLD_DEEP_SEARCH_DEPTH = 2048
EXPANSION_SEARCH = 0  # 0: by the graph's size (search_depth); benchmarks pass fixed depths
# Below this many vectors there is no graph: a search is an exact scan of a float32 matrix (about
# 2 ms at 20,000 on a quiet machine, a fifth of the 9 ms measured at 100k; the graph takes 1-2 ms
# at 100k), and nothing is built or saved. At this size the graph is built from the matrix; it
# turns back into a matrix only below half of it, so an index near the threshold does not
# rebuild its graph back and forth.
EXACT_SEARCH_BELOW = 20_000

Ids = npt.NDArray[np.int64]


def depth_for(size: int, expansion_add: int) -> int:
    """The search depth for a graph of ``size`` vectors built with ``expansion_add``.

    >>> depth_for(100_000, EXPANSION_ADD), depth_for(1_000_000, EXPANSION_ADD)
    (256, 1024)
    >>> depth_for(1_000_000, OLD_EXPANSION_ADD)  # a graph file saved before expansion 128
    2048
    """
    if size < DEEP_SEARCH_FROM:
        return SEARCH_DEPTH
    return DEEP_SEARCH_DEPTH if expansion_add >= EXPANSION_ADD else OLD_DEEP_SEARCH_DEPTH

_FILE = re.compile(r"\.vectors-(\d+)\.usearch$")
_COPIES = ".copies.npz"  # beside each graph file: its digests and copies


def _digest(half: npt.NDArray[np.float16]) -> npt.NDArray[np.uint64]:
    """A 64-bit digest of each float16 row (BLAKE2b)."""
    return np.array([int.from_bytes(hashlib.blake2b(row.tobytes(), digest_size=8).digest())
                     for row in half], dtype=np.uint64)


class VectorAnn:
    """Chunk ids -> unit vectors, searchable by inner product (cosine for unit vectors): a
    float32 matrix scanned exactly while small, an HNSW graph (float16 vectors) once large."""

    def __init__(
        self, dimension: int, *, expansion_search: int = EXPANSION_SEARCH,
        exact_search_below: int = EXACT_SEARCH_BELOW, threads: int = 0,
        connectivity: int = CONNECTIVITY, expansion_add: int = EXPANSION_ADD,
        dtype: str = DTYPE,
    ) -> None:
        self.dimension = dimension
        # How the graph is built (benchmarks pass others): edges per node, candidates kept while
        # adding a node, and the type its vectors are stored as ("f16", "bf16", "i8", "f32").
        self.connectivity, self.expansion_add, self.dtype = connectivity, expansion_add, dtype
        self._expansion_search = expansion_search
        self._exact_below = exact_search_below
        self._threads = threads  # for building the graph (0: every core); searches use one
        self._index: Index | None = None  # the graph, once large enough
        self._graph_expansion_add = expansion_add  # how the graph in use was built
        # Identical vectors (the same file in two folders, boilerplate chunks) are one node of
        # the graph, keyed by one of their chunk ids; the others are its copies. Every node's
        # float16 digest, sorted, finds the node a new vector repeats.
        self._digests = np.zeros(0, dtype=np.uint64)
        self._digest_keys = np.zeros(0, dtype=np.int64)
        self._copies: dict[int, list[int]] = {}  # node key -> the other chunk ids with its vector
        self._copy_of: dict[int, int] = {}  # chunk id -> the node key holding its vector
        self._ids: Ids = np.zeros(0, dtype=np.int64)  # the matrix's rows, while small
        self._matrix: Vectors = np.zeros((0, dimension), dtype=np.float32)

    def _new_index(self) -> Index:
        return Index(
            ndim=self.dimension, metric="ip", dtype=self.dtype, connectivity=self.connectivity,
            expansion_add=self.expansion_add,
            expansion_search=self._expansion_search or SEARCH_DEPTH,
        )

    def empty(self) -> VectorAnn:
        """A new, empty index with the same settings."""
        return VectorAnn(self.dimension, expansion_search=self._expansion_search,
                         exact_search_below=self._exact_below, threads=self._threads,
                         connectivity=self.connectivity, expansion_add=self.expansion_add,
                         dtype=self.dtype)

    def __len__(self) -> int:
        if self._index is None:
            return len(self._ids)
        return len(self._index) + len(self._copy_of)

    @property
    def expansion_search(self) -> int:
        """The graph's search depth (candidates kept while walking it); 0: by its size."""
        return self._expansion_search

    @expansion_search.setter
    def expansion_search(self, depth: int) -> None:
        self._expansion_search = depth

    def search_depth(self) -> int:
        """The depth a search walks the graph with now."""
        return self._expansion_search or depth_for(len(self), self._graph_expansion_add)

    @property
    def graph_expansion_add(self) -> int:
        """The expansion on add the graph in use was built with (an older file's: 64)."""
        return self._graph_expansion_add

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
            self._graph_remove(ids)
            self._graph_add(ids, matrix)
        self._settle()

    def remove(self, ids: Ids) -> None:
        if not len(ids):
            return
        ids = np.asarray(ids, dtype=np.int64)
        if self._index is None:
            keep = ~np.isin(self._ids, ids)
            self._ids, self._matrix = self._ids[keep], self._matrix[keep]
        else:
            self._graph_remove(ids)
        self._settle()

    def _settle(self) -> None:
        """Build the graph when the matrix reaches the threshold; go back to a matrix below half
        of it (the graph's float16 vectors then become the matrix)."""
        if self._index is None and len(self._ids) >= max(self._exact_below, 1):
            ids, matrix = self._ids, self._matrix
            self._index = self._new_index()
            self._graph_expansion_add = self.expansion_add
            self._ids = np.zeros(0, dtype=np.int64)
            self._matrix = np.zeros((0, self.dimension), dtype=np.float32)
            self._graph_add(ids, matrix)
        elif self._index is not None and len(self) < self._exact_below // 2:
            keys = np.asarray(self._index.keys, dtype=np.int64)
            matrix = self._vectors_of(keys)
            owners = {int(k): i for i, k in enumerate(keys)}
            copies = [(chunk, owners[key]) for chunk, key in self._copy_of.items()]
            self._ids = np.concatenate([keys, np.array([c for c, _ in copies], dtype=np.int64)])
            self._matrix = np.concatenate([matrix, matrix[[r for _, r in copies]]])
            self._index = None
            self._digests = np.zeros(0, dtype=np.uint64)
            self._digest_keys = np.zeros(0, dtype=np.int64)
            self._copies, self._copy_of = {}, {}

    def _graph(self) -> Index:
        if self._index is None:
            raise RuntimeError("no graph while the index is small")
        return self._index

    def _vectors_of(self, keys: Ids) -> Vectors:
        """The graph's (float16) vectors of these node keys, as float32 rows."""
        index = self._graph()
        matrix = np.zeros((len(keys), self.dimension), dtype=np.float32)
        rows = index.get(keys.astype(np.uint64), dtype="f32") if len(keys) else ()
        for i, row in enumerate(rows if isinstance(rows, tuple) else [rows]):
            if row is not None:
                matrix[i] = np.asarray(row).reshape(-1)
        return matrix

    def _graph_add(self, ids: Ids, matrix: Vectors) -> None:
        """Add chunks that are not in the graph: a vector identical (in float16) to a node's or
        to an earlier one of this batch becomes that node's copy, every other one a node."""
        index = self._graph()
        half = matrix.astype(np.float16)
        digests = _digest(half)
        _, first, inverse = np.unique(digests, return_index=True, return_inverse=True)
        at = np.minimum(np.searchsorted(self._digests, digests), max(len(self._digests) - 1, 0))
        known = (self._digests[at] == digests) if len(self._digests) else np.zeros(len(ids), bool)
        node = np.zeros(len(ids), dtype=bool)
        node[first] = True
        node &= ~known
        for row in np.flatnonzero(~node).tolist():  # repeats: few, unless a corpus is copies
            if known[row]:
                key = int(self._digest_keys[at[row]])
                same = np.array_equal(self._vectors_of(np.array([key])).astype(np.float16)[0],
                                      half[row])
            else:
                key = int(ids[first[inverse[row]]])
                same = np.array_equal(half[first[inverse[row]]], half[row])
            if same:
                self._copies.setdefault(key, []).append(int(ids[row]))
                self._copy_of[int(ids[row])] = key
            else:  # a digest collision: not a copy after all
                node[row] = True
        index.add(ids[node].astype(np.uint64), matrix[node], threads=self._threads)
        self._index_digests(np.concatenate([self._digests, digests[node]]),
                            np.concatenate([self._digest_keys, ids[node]]))

    def _index_digests(self, digests: npt.NDArray[np.uint64], keys: Ids) -> None:
        order = np.argsort(digests, kind="stable")
        self._digests, self._digest_keys = digests[order], keys[order]

    def _graph_remove(self, ids: Ids) -> None:
        """Remove these chunks; a node whose chunk goes while it has copies is kept under one
        of the copies' ids."""
        index = self._graph()
        nodes = []
        for chunk in ids.tolist():
            key = self._copy_of.pop(chunk, None)
            if key is None:
                nodes.append(chunk)
                continue
            self._copies[key].remove(chunk)
            if not self._copies[key]:
                del self._copies[key]
        gone = np.array(nodes, dtype=np.int64)
        gone = gone[np.asarray(index.contains(gone), dtype=bool)] if len(gone) else gone
        if not len(gone):
            return
        old, new = [], []
        for key in gone.tolist():
            copies = self._copies.pop(key, None)
            if copies:
                heir, rest = copies[0], copies[1:]
                del self._copy_of[heir]
                for chunk in rest:
                    self._copy_of[chunk] = heir
                if rest:
                    self._copies[heir] = rest
                old.append(key)
                new.append(heir)
        moved = self._vectors_of(np.array(old, dtype=np.int64))
        index.remove(gone)
        if old:
            index.add(np.array(new, dtype=np.uint64), moved, threads=self._threads)
        heirs = dict(zip(old, new, strict=True))
        keys = np.array([heirs.get(k, k) for k in self._digest_keys.tolist()], dtype=np.int64) \
            if heirs else self._digest_keys
        keep = ~np.isin(self._digest_keys, gone[~np.isin(gone, old)])
        self._index_digests(self._digests[keep], keys[keep])

    def search(self, query: Vectors, limit: int) -> tuple[Ids, npt.NDArray[np.float32]]:
        """The ``limit`` nearest chunk ids and their cosine scores, best first."""
        if not len(self) or limit <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        vector = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
        if self._index is None:
            return self._exact_search(vector, limit)
        depth = self.search_depth()
        if self._index.expansion_search != depth:
            self._index.expansion_search = depth  # type: ignore[misc]  # it has a setter
        matches = self._index.search(vector, limit, threads=1)
        ids = np.asarray(matches.keys, dtype=np.int64)
        scores = 1.0 - np.asarray(matches.distances, dtype=np.float32)  # "ip" distance: 1 - dot
        if self._copies:  # each node stands for its copies too, with the same score
            found = zip(ids.tolist(), scores.tolist(), strict=True)
            pairs = [(chunk, score) for key, score in found
                     for chunk in [key, *self._copies.get(key, ())]][:limit]
            ids = np.array([c for c, _ in pairs], dtype=np.int64)
            scores = np.array([s for _, s in pairs], dtype=np.float32)
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

    def save(self, index_path: Path, seq: int, owner: str = "") -> Path | None:
        """Write the graph atomically as the file for log sequence ``seq`` of the index
        ``owner`` (its identity; with the digests and copies, first, beside it) and drop older
        files. Without a graph (a small index) nothing is written, older files are dropped all
        the same, and the answer is ``None``: a small index is read from its rows when opened."""
        target = None
        if self._index is not None:
            target = index_path.with_name(f"{index_path.name}.vectors-{seq}.usearch")
            copies = target.with_name(target.name + _COPIES)
            partial = copies.with_name(f"{copies.name}.{os.getpid()}.partial")
            with partial.open("wb") as out:
                np.savez(out, digests=self._digests, keys=self._digest_keys,
                         copies=np.array(list(self._copy_of), dtype=np.int64),
                         of=np.array(list(self._copy_of.values()), dtype=np.int64),
                         expansion_add=np.array(self._graph_expansion_add),
                         owner=np.array(owner))
            os.replace(partial, copies)
            partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
            self._index.save(str(partial))
            os.replace(partial, target)
        for other in index_path.parent.glob(f"{index_path.name}.vectors-*.usearch*"):
            match = re.search(r"\.vectors-(\d+)\.usearch", other.name)
            other_seq = int(match.group(1)) if match else seq
            if other_seq < seq or (target is None and other_seq == seq):
                with contextlib.suppress(OSError):  # another process may have removed it
                    other.unlink()
        return target

    def load(self, file: Path, owners: Container[str] | None = None) -> None:
        """Replace this graph with the one saved in ``file``; raises ``ValueError`` if that file
        or its copies beside it are not a graph of this dimension (truncated, overwritten,
        another embedder's) or, given ``owners``, the copies name an index not among them (a
        graph saved without copies, or copies without an owner, has ""). A graph saved without
        copies gets its digests from its vectors."""
        sidecar = file.with_name(file.name + _COPIES)
        if owners is not None:
            owner = ""
            with contextlib.suppress(Exception):  # a spoilt copies file is refused below
                with np.load(sidecar) as saved:
                    owner = str(saved["owner"]) if "owner" in saved else ""
            if owner not in owners:
                raise ValueError(f"{file} is the vector graph of another index")
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
        self._copies, self._copy_of = {}, {}
        if sidecar.exists():
            try:
                with np.load(sidecar) as saved:
                    digests, keys = saved["digests"], saved["keys"]
                    copies, of = saved["copies"].tolist(), saved["of"].tolist()
                    built = int(saved["expansion_add"]) if "expansion_add" in saved \
                        else OLD_EXPANSION_ADD
            except Exception as exc:  # noqa: BLE001 - numpy raises several kinds on garbage
                self._index = None
                raise ValueError(f"{sidecar} is not a copies file: {exc}") from exc
            if len(digests) != len(fresh) or len(keys) != len(fresh) or len(copies) != len(of):
                self._index = None
                raise ValueError(f"{sidecar} does not match {file}")
            self._graph_expansion_add = built
            self._digests = np.asarray(digests, dtype=np.uint64)
            self._digest_keys = np.asarray(keys, dtype=np.int64)
            for chunk, key in zip(copies, of, strict=True):
                self._copy_of[chunk] = key
                self._copies.setdefault(key, []).append(chunk)
        else:
            self._graph_expansion_add = OLD_EXPANSION_ADD
            keys = np.asarray(fresh.keys, dtype=np.int64)
            self._index_digests(_digest(self._vectors_of(keys).astype(np.float16)), keys)
        self._settle()
