"""Embedding models whose weights ship inside a package, on a BEIR collection: vector and hybrid
nDCG@10 / recall@100 on train and test, embedding speed (chunks/s) and resident memory.

    CHATREF_DATA_DIR=/tmp/eval .venv/bin/python bench/embedder_quality.py \\
        ../shared/datasets/scifact --embedder wordllama-256 wordllama-128 wordllama-64 \\
        [--site DIR --embedder tokenlearn-64]

Candidates (nothing downloads at run time):
- ``wordllama-N``: WordLlama l2_supercat, the 256-d weights in its wheel, truncated to N
  dimensions (its vectors are trained to be truncatable) and re-normalised.
- ``tokenlearn-64``: the ``tokenlearn-static-model`` wheel (a model2vec-style static model with
  a 10k-token, 64-d int8 table baked in); not a project dependency, so pass ``--site`` with a
  directory it was installed into (``pip install --no-deps --target DIR tokenlearn-static-model``).

Each model gets its own index ($CHATREF_DATA_DIR/eval/NAME-MODEL.sqlite). Speed: the chunk
texts of the whole corpus embedded in calls of 512 after one warm-up call, as ingestion does.
Memory: growth of this process's resident set from loading the model and embedding one call of
512 texts (run one candidate per process for a clean figure).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from chatref.ingest.pipeline import ingest_texts  # noqa: E402
from chatref.retrieval.embedder import WordLlamaEmbedder  # noqa: E402
from chatref.retrieval.evaluation import evaluate, load_beir  # noqa: E402
from chatref.retrieval.retriever import Retriever  # noqa: E402
from chatref.retrieval.sqlite_index import SqliteIndex  # noqa: E402
from chatref.retrieval.types import Vectors  # noqa: E402
from chatref.settings import Settings  # noqa: E402


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * 4096 / 1e6


class Truncated:
    """WordLlama's 256-d vectors cut to their first ``dimension`` components."""

    def __init__(self, cache_dir: Path, dimension: int) -> None:
        self._inner = WordLlamaEmbedder(cache_dir=cache_dir)
        self._dimension = dimension

    @property
    def name(self) -> str:
        return f"wordllama/l2_supercat/trunc{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed_sync(self, texts: Sequence[str]) -> Vectors:
        vectors = self._inner.embed_sync(texts)[:, :self._dimension]
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.ascontiguousarray(vectors / np.where(norms > 0, norms, 1.0), dtype=np.float32)

    async def embed(self, texts: Sequence[str]) -> Vectors:
        return await asyncio.to_thread(self.embed_sync, texts)

    async def aclose(self) -> None:
        """Nothing to release."""


class TokenlearnStatic:
    """The tokenlearn-static-model wheel (weights baked into the package)."""

    def __init__(self) -> None:
        import static_model  # the --site directory

        self._module: Any = static_model
        self._dimension = len(static_model.get_embeddings("probe"))

    @property
    def name(self) -> str:
        return "tokenlearn-static-model/10k-64d-int8"

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed_sync(self, texts: Sequence[str]) -> Vectors:
        vectors = np.asarray(self._module.get_embeddings(list(texts)), dtype=np.float32)
        vectors = vectors.reshape(len(texts), self._dimension)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.ascontiguousarray(vectors / np.where(norms > 0, norms, 1.0))

    async def embed(self, texts: Sequence[str]) -> Vectors:
        return await asyncio.to_thread(self.embed_sync, texts)

    async def aclose(self) -> None:
        """Nothing to release."""


def build(name: str, cache_dir: Path) -> Any:
    if name.startswith("wordllama-"):
        dimension = int(name.split("-")[1])
        return (WordLlamaEmbedder(cache_dir=cache_dir) if dimension == 256
                else Truncated(cache_dir, dimension))
    if name == "tokenlearn-64":
        return TokenlearnStatic()
    raise SystemExit(f"unknown embedder {name!r}")


async def measure(name: str, dataset_dir: Path, settings: Settings) -> dict[str, object]:
    before = _rss_mb()
    embedder = build(name, settings.chatref_data_dir / ".wordllama")
    embedder.embed_sync(["warm-up sentence about a claim"] * 512)
    memory = _rss_mb() - before
    train, test = load_beir(dataset_dir, split="train"), load_beir(dataset_dir, split="test")
    path = settings.chatref_data_dir / "eval" / f"{test.name}-{name}.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    index = SqliteIndex.open(path, embedder_name=embedder.name, dimension=embedder.dimension)
    await ingest_texts(test.corpus(), index, embedder)
    with sqlite3.connect(path) as conn:
        texts = [f"{t}\n{s or ''}\n{x}" for t, s, x in
                 conn.execute("SELECT title, section, text FROM chunks ORDER BY id")]
    embedder.embed_sync(texts[:512])
    started = time.perf_counter()
    for i in range(0, len(texts), 512):
        embedder.embed_sync(texts[i:i + 512])
    seconds = time.perf_counter() - started
    figures: dict[str, object] = {
        "embedder": embedder.name, "dimension": embedder.dimension,
        "chunks": len(texts), "chunks_per_s": round(len(texts) / seconds),
        "rss_growth_mb": round(memory),
    }
    retriever = Retriever(index, embedder)
    for split, dataset in (("train", train), ("test", test)):
        for mode in ("vector", "hybrid"):
            result = await evaluate(retriever, dataset, mode=mode)  # type: ignore[arg-type]
            figures[f"{split}_{mode}"] = [round(result.ndcg_at_10, 4),
                                          round(result.recall_at_100, 4)]
    index.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--embedder", nargs="+", default=["wordllama-256"])
    parser.add_argument("--site", type=Path, help="a directory holding optional candidates")
    args = parser.parse_args()
    if args.site:
        sys.path.append(str(args.site))
    settings = Settings()
    for name in args.embedder:
        print(json.dumps({"candidate": name,
                          **asyncio.run(measure(name, args.dataset, settings))}), flush=True)


if __name__ == "__main__":
    main()
