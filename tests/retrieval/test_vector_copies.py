"""Identical vectors (the same file in two folders, boilerplate chunks) are one node of the graph:
every chunk is still found, removing any of them keeps the others, and the file keeps them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chatref.retrieval.ann import VectorAnn


def unit_rows(n: int, seed: int = 3, dimension: int = 32) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, dimension)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def corpus_with_copies() -> tuple[np.ndarray, np.ndarray]:
    """400 distinct vectors, then 600 chunks repeating three of them (200 each)."""
    distinct = unit_rows(400)
    repeats = np.repeat(distinct[[7, 8, 9]], 200, axis=0)
    return np.arange(1000, dtype=np.int64), np.concatenate([distinct, repeats])


def graph(**kwargs: int) -> VectorAnn:
    return VectorAnn(32, exact_search_below=0, **kwargs)  # a graph whatever the size


def test_copies_are_found_with_their_node_and_survive_its_removal() -> None:
    ids, vectors = corpus_with_copies()
    ann = graph()
    ann.add(ids, vectors)
    assert len(ann) == 1000
    found, scores = ann.search(vectors[8], 10)
    copies_of_8 = {8, *range(600, 800)}
    assert set(found.tolist()) <= copies_of_8 and len(found) == 10
    assert np.allclose(scores, scores[0]) and scores[0] == pytest.approx(1.0, abs=2e-3)
    ann.remove(np.array([8, 600]))  # the node's own chunk and one copy
    assert len(ann) == 998
    found, _ = ann.search(vectors[8], 300)
    assert set(found[:199].tolist()) == copies_of_8 - {8, 600}
    ann.add(np.array([601]), unit_rows(1, seed=9))  # a copy gets a vector of its own
    found, _ = ann.search(vectors[8], 300)
    assert set(found[:198].tolist()) == copies_of_8 - {8, 600, 601}
    ann.add(np.array([5000]), vectors[8:9])  # a new chunk repeating a known vector
    found, _ = ann.search(vectors[8], 199)
    assert 5000 in found.tolist()


def test_many_copies_do_not_hide_the_true_neighbours() -> None:
    ids, vectors = corpus_with_copies()
    ann = graph(expansion_search=64)
    ann.add(ids, vectors)
    for query in unit_rows(20, seed=11):
        exact = vectors @ query
        tenth = np.sort(exact)[-10]
        found, _ = ann.search(query, 10)
        assert len(found) == 10
        assert np.sum(exact[found] >= tenth - 1e-3) >= 9  # tie-aware recall@10 >= 0.9


def test_the_saved_graph_keeps_its_copies(tmp_path: Path) -> None:
    ids, vectors = corpus_with_copies()
    ann = graph()
    ann.add(ids, vectors)
    index_path = tmp_path / "index.sqlite"
    saved = ann.save(index_path, 12)
    assert saved is not None
    loaded = graph()
    loaded.load(saved)
    assert len(loaded) == 1000
    assert set(loaded.search(vectors[9], 201)[0].tolist()) == {9, *range(800, 1000)}
    loaded.add(np.array([5000]), vectors[9:10])  # still recognised as a copy after loading
    assert set(loaded.search(vectors[9], 202)[0].tolist()) == {9, 5000, *range(800, 1000)}

    # Without its copies file a graph still loads (its digests come from its vectors).
    sidecar = saved.with_name(saved.name + ".copies.npz")
    sidecar.unlink()
    bare = graph()
    bare.load(saved)
    bare.add(np.array([5000]), vectors[7:8])
    assert 5000 in bare.search(vectors[7], 2)[0].tolist()
    # A spoilt copies file spoils the graph (the index then rebuilds it from its rows).
    sidecar.write_bytes(b"not numpy")
    with pytest.raises(ValueError, match="copies"):
        graph().load(saved)


def test_an_index_shrinking_below_half_the_threshold_keeps_its_copies_in_the_matrix() -> None:
    ids, vectors = corpus_with_copies()
    ann = VectorAnn(32, exact_search_below=500)
    ann.add(ids, vectors)
    assert ann.has_graph
    ann.remove(np.arange(0, 400))  # only the 600 copies of three vectors are left
    ann.remove(np.arange(600, 1000))  # 200 left: below half the threshold
    assert (len(ann), ann.has_graph) == (200, False)
    assert set(ann.search(vectors[7], 200)[0].tolist()) == set(range(400, 600))
