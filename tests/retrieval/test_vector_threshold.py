"""A small index has no graph (an exact scan, nothing saved); crossing the threshold builds one,
shrinking below half of it drops it, and every reader, in this process or another, follows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from chatref.retrieval.ann import VectorAnn
from chatref.retrieval.embedder import WordLlamaEmbedder
from chatref.retrieval.sqlite_index import ChunkRecord, DocumentRecord, SqliteIndex

THRESHOLD = 40
WORDS = ["harbour", "glacier", "violin", "invoice", "orbit", "sourdough", "kitten", "gearbox",
         "volcano", "chess", "tax", "river", "vaccine", "lantern", "meadow", "compiler"]

# Another process opens the index and prints the ids nearest a query read from a file.
READER = """
import json, sys
from pathlib import Path
import numpy as np
from chatref.retrieval.sqlite_index import SqliteIndex
index = SqliteIndex.open(Path(sys.argv[1]), embedder_name=sys.argv[2], dimension=int(sys.argv[3]),
                         exact_search_below=int(sys.argv[4]))
ids, _ = index.nearest_chunks(np.load(sys.argv[5]), 5)
print(json.dumps(ids.tolist()))
index.close()
"""


def texts(start: int, n: int) -> list[str]:
    return [f"note {i}: the {WORDS[i % 16]} and the {WORDS[(i * 5 + 3) % 16]} near"
            f" {WORDS[(i * 11 + 7) % 16]}" for i in range(start, start + n)]


def open_index(path: Path, embedder: WordLlamaEmbedder) -> SqliteIndex:
    return SqliteIndex.open(path, embedder_name=embedder.name, dimension=embedder.dimension,
                            exact_search_below=THRESHOLD)


async def add(index: SqliteIndex, embedder: WordLlamaEmbedder, key: str, lines: list[str]) -> None:
    chunks = [ChunkRecord(i, key, None, None, t) for i, t in enumerate(lines)]
    index.replace_document(DocumentRecord(key, key, key, key, "h"), chunks,
                           await embedder.embed(lines))


def exact_ids(path: Path, query: np.ndarray, k: int = 5) -> list[int]:
    import sqlite3

    rows = sqlite3.connect(path).execute("SELECT id, vector FROM chunks").fetchall()
    scores = np.array([np.frombuffer(r[1], dtype=np.float32) @ query for r in rows])
    return [rows[i][0] for i in np.argsort(-scores)[:k]]


def other_process(path: Path, embedder: WordLlamaEmbedder, query_file: Path) -> list[int]:
    out = subprocess.run(
        [sys.executable, "-c", READER, str(path), embedder.name, str(embedder.dimension),
         str(THRESHOLD), str(query_file)],
        capture_output=True, text=True, check=True, timeout=120,
    )
    return list(json.loads(out.stdout))


async def test_the_graph_comes_and_goes_with_the_threshold(
    tmp_path: Path, embedder: WordLlamaEmbedder
) -> None:
    path = tmp_path / "index.sqlite"
    query = (await embedder.embed(["a kitten by the river"]))[0]
    query_file = tmp_path / "query.npy"
    np.save(query_file, query)
    writer = open_index(path, embedder)
    reader = open_index(path, embedder)  # opened before anything is written
    try:
        # Small: an exact scan, and no file is built or saved.
        for n in range(3):
            await add(writer, embedder, f"d{n}", texts(n * 10, 10))
        assert writer.save_vectors() is None
        assert VectorAnn.files(path) == []
        expected = exact_ids(path, query)
        assert reader.nearest_chunks(query, 5)[0].tolist() == expected
        assert other_process(path, embedder, query_file) == expected

        # Up across the threshold: the writer's graph is built and saved; readers follow.
        for n in range(3, 6):
            await add(writer, embedder, f"d{n}", texts(n * 10, 10))
        assert writer.nearest_chunks(query, 5)[0].tolist() == exact_ids(path, query)
        saved = writer.save_vectors()
        assert saved is not None and VectorAnn.files(path)[0][1] == saved
        expected = exact_ids(path, query)
        assert reader.nearest_chunks(query, 5)[0].tolist() == expected
        assert other_process(path, embedder, query_file) == expected
        reopened = open_index(path, embedder)
        try:
            assert reopened.nearest_chunks(query, 5)[0].tolist() == expected
        finally:
            reopened.close()

        # Down below half the threshold: no graph again, the saved file is dropped.
        writer.remove_documents([f"d{n}" for n in range(1, 6)])  # 10 chunks left
        expected = exact_ids(path, query)
        assert writer.nearest_chunks(query, 5)[0].tolist() == expected
        assert writer.save_vectors() is None
        assert VectorAnn.files(path) == []
        assert reader.nearest_chunks(query, 5)[0].tolist() == expected
        assert other_process(path, embedder, query_file) == expected
    finally:
        writer.close()
        reader.close()


def test_the_matrix_and_the_graph_swap_at_the_threshold_and_at_half_of_it() -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(60, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ann = VectorAnn(16, exact_search_below=THRESHOLD)
    ann.add(np.arange(39), vectors[:39])
    assert not ann.has_graph
    ann.add(np.arange(39), vectors[:39])  # replacing is not growing
    assert (len(ann), ann.has_graph) == (39, False)
    ann.add(np.arange(39, 60), vectors[39:])
    assert (len(ann), ann.has_graph) == (60, True)
    ann.remove(np.arange(35))  # 25 left: between half the threshold and the threshold
    assert (len(ann), ann.has_graph) == (25, True)
    ann.remove(np.arange(35, 45))  # 15 left: below half
    assert (len(ann), ann.has_graph) == (15, False)
    ids, scores = ann.search(vectors[50], 3)
    assert ids[0] == 50 and abs(float(scores[0]) - 1.0) < 2e-3  # float16 rows from the graph
    assert set(ids.tolist()) <= set(range(45, 60))


def test_the_search_depth_is_the_given_one_or_follows_the_graph_size() -> None:
    from chatref.retrieval.ann import DEEP_SEARCH_DEPTH, DEEP_SEARCH_FROM, SEARCH_DEPTH

    vectors = np.eye(16, dtype=np.float32)
    ann = VectorAnn(16, exact_search_below=0)
    ann.add(np.arange(16), vectors)
    assert ann.search_depth() == SEARCH_DEPTH < DEEP_SEARCH_DEPTH and DEEP_SEARCH_FROM > 16
    ann.expansion_search = 40
    assert ann.search_depth() == 40
    assert ann.search(vectors[3], 1)[0].tolist() == [3]
