"""Tune hybrid retrieval on a BEIR collection's *train* split (never test): vector weight,
fusion pool, BM25 title weight, k1, b and stemmer, the document, outline, heading and
clause weights, and the late-interaction re-scoring's weight and depth (``--token-weight``,
``--token-head``). Prints one line per setting (hybrid nDCG@10 and recall@100, and keyword alone's
nDCG@10 for the BM25 setting); the chosen values go into retrieval/fusion.py,
retrieval/keyword.py and retrieval/sqlite_index.py (docs/benchmarks.md, "Retrieval quality",
has the grid and results).

    .venv/bin/python bench/tune_retrieval.py ../shared/datasets/scifact \\
        --weight 0.2 0.3 0.4 --document 0 0.3 0.5 --clause 0.3 1 \\
        --k1 0.9 1.2 --b 0.6 0.75 --stemmer english porter

Each query's keyword and vector candidates are fetched once per index setting and kept in
memory, so a grid over the fusion weights costs little more than one run.

The test split is refused: choosing parameters on it would make the test figures optimistic.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from chatref.app import build_services  # noqa: E402
from chatref.ingest.pipeline import ingest_texts  # noqa: E402
from chatref.retrieval.evaluation import evaluate, load_beir  # noqa: E402
from chatref.retrieval.fusion import DEFAULT_TOKEN_WEIGHT, TOKEN_HEAD  # noqa: E402
from chatref.retrieval.keyword import K1, STEMMER, B  # noqa: E402
from chatref.retrieval.retriever import Retriever  # noqa: E402
from chatref.retrieval.sqlite_index import SqliteIndex  # noqa: E402
from chatref.retrieval.types import Passage, PassageIndex, Vectors  # noqa: E402
from chatref.settings import Settings  # noqa: E402


class CachedIndex:
    """A ``PassageIndex`` that answers each distinct search once (the grid repeats them)."""

    def __init__(self, index: PassageIndex) -> None:
        self._index = index
        self._keyword: dict[tuple[str, int], list[Passage]] = {}
        self._vector: dict[tuple[bytes, int], list[Passage]] = {}

    async def keyword_search(self, query: str, limit: int) -> list[Passage]:
        key = (query, limit)
        if key not in self._keyword:
            self._keyword[key] = await self._index.keyword_search(query, limit)
        return self._keyword[key]

    async def vector_search(self, vector: Vectors, limit: int) -> list[Passage]:
        key = (vector.tobytes(), limit)
        if key not in self._vector:
            self._vector[key] = await self._index.vector_search(vector, limit)
        return self._vector[key]

    async def count_chunks(self) -> int:
        return await self._index.count_chunks()


def refuse_test_split(split: str) -> None:
    if split == "test":
        raise SystemExit("tune on the train split: choosing parameters on test makes its "
                         "figures optimistic (run `chatref eval retrieval` for test)")


async def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--split", default="train")
    parser.add_argument("--title", type=float, nargs="+", default=[2.0])
    parser.add_argument("--k1", type=float, nargs="+", default=[K1])
    parser.add_argument("--b", type=float, nargs="+", default=[B])
    parser.add_argument("--stemmer", nargs="+", default=[STEMMER])
    parser.add_argument("--pool", type=int, nargs="+", default=[100])
    parser.add_argument("--weight", type=float, nargs="+", default=[0.3])
    parser.add_argument("--document", type=float, nargs="+", default=[0.0, 0.5])
    parser.add_argument("--outline", type=float, nargs="+", default=[0.2])
    parser.add_argument("--heading", type=float, nargs="+", default=[0.3])
    parser.add_argument("--clause", type=float, nargs="+", default=[0.3, 1.0])
    parser.add_argument("--per-document", type=int, nargs="+", default=[2])
    parser.add_argument("--token-weight", type=float, nargs="+", default=[DEFAULT_TOKEN_WEIGHT])
    parser.add_argument("--token-head", type=int, nargs="+", default=[TOKEN_HEAD])
    args = parser.parse_args(argv)
    refuse_test_split(args.split)
    dataset = load_beir(args.dataset, split=args.split)
    settings = Settings()
    index_path = settings.chatref_data_dir / "eval" / f"{dataset.name}.sqlite"
    services = build_services(settings, index_path=index_path)
    await ingest_texts(dataset.corpus(), services.index, services.embedder)
    embedder = services.embedder
    print(f"{dataset.name} split={args.split} ({len(dataset.queries)} queries)\n"
          "title k1 b stemmer pool weight document outline heading clause cap tokens head"
          "  nDCG@10 R@100  keyword")
    for title, k1, b, stemmer in itertools.product(args.title, args.k1, args.b, args.stemmer):
        index = SqliteIndex.open(index_path, embedder_name=embedder.name,
                                 dimension=embedder.dimension, bm25_weights=(title, title, 1.0),
                                 bm25_k1=k1, bm25_b=b, stemmer=stemmer)
        cached = CachedIndex(index)
        keyword = await evaluate(Retriever(cached, embedder), dataset, mode="keyword")
        for pool, weight, document, outline, heading, clause, cap, tokens, head in (
                itertools.product(args.pool, args.weight, args.document, args.outline,
                                  args.heading, args.clause, args.per_document,
                                  args.token_weight, args.token_head)):
            retriever = Retriever(cached, embedder, candidates=pool, vector_weight=weight,
                                  document_weight=document, outline_weight=outline,
                                  heading_weight=heading, clause_weight=clause,
                                  per_document=cap, token_weight=tokens, token_head=head)
            result = await evaluate(retriever, dataset, mode="hybrid")
            print(f"{title:5} {k1:4} {b:4} {stemmer:7} {pool:4} {weight:6} {document:8} "
                  f"{outline:7} {heading:7} {clause:6} {cap:3} {tokens:6} {head:4}  "
                  f"{result.ndcg_at_10:.4f}  "
                  f"{result.recall_at_100:.4f}  {keyword.ndcg_at_10:.4f}", flush=True)
        index.close()
    await services.aclose()


if __name__ == "__main__":
    asyncio.run(main())
