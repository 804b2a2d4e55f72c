"""How the vector graph is built: its parameters, their effect on recall, and graph files saved
with older parameters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from usearch.index import Index

from chatref.retrieval.ann import (
    CONNECTIVITY,
    DEEP_SEARCH_DEPTH,
    DEEP_SEARCH_FROM,
    DTYPE,
    EXPANSION_ADD,
    OLD_DEEP_SEARCH_DEPTH,
    OLD_EXPANSION_ADD,
    SEARCH_DEPTH,
    VectorAnn,
    depth_for,
)


def clustered(n: int, clusters: int = 40, dimension: int = 48, seed: int = 5) -> np.ndarray:
    """Unit vectors in tight topical clusters (as chunks of one source are): the hard case for a
    proximity graph, where the exact top 10 are near-ties inside one cluster."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dimension))
    rows = centres[rng.integers(0, clusters, n)] + 0.35 * rng.normal(size=(n, dimension))
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows.astype(np.float32)


def recall_at_10(ann: VectorAnn, vectors: np.ndarray, queries: np.ndarray) -> float:
    hits = 0
    for query in queries:
        exact = set(np.argsort(-(vectors @ query))[:10].tolist())
        hits += len(exact & set(ann.search(query, 10)[0].tolist()))
    return hits / (10 * len(queries))


def test_the_default_graph_keeps_recall_where_a_thin_graph_loses_it() -> None:
    vectors = clustered(6000)
    queries = clustered(60, seed=6)
    ids = np.arange(len(vectors), dtype=np.int64)
    default = VectorAnn(48, exact_search_below=0, threads=1)
    default.add(ids, vectors)
    thin = VectorAnn(48, exact_search_below=0, threads=1, connectivity=4, expansion_add=8,
                     expansion_search=10)
    thin.add(ids, vectors)
    assert (default.connectivity, default.expansion_add, default.dtype) == (
        CONNECTIVITY, EXPANSION_ADD, DTYPE)
    assert recall_at_10(thin, vectors, queries) < 0.9  # the measure can tell a bad graph
    assert recall_at_10(default, vectors, queries) >= 0.98


def test_a_graph_saved_with_other_parameters_loads_and_answers(tmp_path: Path) -> None:
    vectors = clustered(3000)
    older = VectorAnn(48, exact_search_below=0, threads=1, connectivity=8, expansion_add=32,
                      dtype="f32")
    older.add(np.arange(3000, dtype=np.int64), vectors)
    saved = older.save(tmp_path / "index.sqlite", 7)
    assert saved is not None
    assert Index.metadata(str(saved))["kind_scalar"].name == "F32"
    loaded = VectorAnn(48, exact_search_below=0)  # today's defaults
    loaded.load(saved)
    assert len(loaded) == 3000
    ids, scores = loaded.search(vectors[123], 3)
    assert ids[0] == 123 and abs(float(scores[0]) - 1.0) < 1e-5  # its float32 rows, as saved
    fresh = loaded.empty()  # a rebuild (a stale or spoilt file) uses today's parameters
    assert (fresh.connectivity, fresh.expansion_add, fresh.dtype) == (
        CONNECTIVITY, EXPANSION_ADD, DTYPE)


def test_a_graph_file_says_how_it_was_built_and_older_files_are_searched_deeper(
    tmp_path: Path,
) -> None:
    vectors = clustered(2000)
    built = VectorAnn(48, exact_search_below=0, threads=1)
    built.add(np.arange(2000, dtype=np.int64), vectors)
    saved = built.save(tmp_path / "index.sqlite", 3)
    assert saved is not None
    loaded = VectorAnn(48, exact_search_below=0)
    loaded.load(saved)
    assert loaded.graph_expansion_add == EXPANSION_ADD
    # A file saved before the copies file recorded it (expansion 64 then): rewrite it without.
    sidecar = saved.with_name(saved.name + ".copies.npz")
    with np.load(sidecar) as fields:
        kept = {name: fields[name] for name in fields.files if name != "expansion_add"}
    with sidecar.open("wb") as out:
        np.savez(out, **kept)
    older = VectorAnn(48, exact_search_below=0)
    older.load(saved)
    assert older.graph_expansion_add == OLD_EXPANSION_ADD < EXPANSION_ADD
    assert older.search(vectors[9], 1)[0].tolist() == [9]
    assert depth_for(DEEP_SEARCH_FROM, older.graph_expansion_add) == OLD_DEEP_SEARCH_DEPTH
    assert depth_for(DEEP_SEARCH_FROM, loaded.graph_expansion_add) == DEEP_SEARCH_DEPTH \
        < OLD_DEEP_SEARCH_DEPTH
    assert depth_for(DEEP_SEARCH_FROM - 1, OLD_EXPANSION_ADD) == SEARCH_DEPTH
    assert loaded.search_depth() == SEARCH_DEPTH  # 2,000 vectors: a small graph
