"""Retrieval over the bundled docs: source hit@1 and hit@3 of tests/chat/bundled_questions.json,
per split ("tune": the questions retrieval weights were chosen on; "heldout": never tuned on).

    .venv/bin/python bench/bundled_retrieval.py [--mode hybrid] [--verbose]
    .venv/bin/python bench/bundled_retrieval.py --clause 1 --document 0 --outline 0 \
        --per-document 0          # retrieval as it was before the document-level signals

The corpus is docs/ and README.md, indexed as the app indexes them (WordLlama, SQLite).
Deterministic: no timing, so the machine's load does not matter.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from chatref.ingest.pipeline import ingest_paths  # noqa: E402
from chatref.retrieval.embedder import WordLlamaEmbedder  # noqa: E402
from chatref.retrieval.retriever import SEARCH_MODES, Retriever  # noqa: E402
from chatref.retrieval.sqlite_index import SqliteIndex  # noqa: E402
from chatref.retrieval.types import Passage, SearchMode  # noqa: E402
from tests.chat.answer_quality import REPO, load_questions  # noqa: E402


def _relative(passage: Passage) -> str:
    return Path(passage.source).resolve().relative_to(REPO).as_posix()


def hits(passages: Sequence[Passage], expected: Sequence[str]) -> tuple[bool, bool]:
    """(hit@1, hit@3): an expected source first / among the first three passages."""
    sources = [_relative(p) for p in passages]
    return (bool(sources) and sources[0] in expected,
            any(s in expected for s in sources[:3]))


async def measure(retriever: Retriever, mode: SearchMode,
                  verbose: bool = False) -> dict[str, dict[str, float]]:
    table: dict[str, list[tuple[bool, bool]]] = {}
    for question in load_questions():
        text, split = str(question["question"]), str(question.get("split", "tune"))
        expected = [str(s) for s in question["sources"]]  # type: ignore[attr-defined]
        passages = await retriever.search(text, top_k=5, mode=mode)
        table.setdefault(split, []).append(hits(passages, expected))
        if verbose:
            print(json.dumps({"split": split, "question": text, "hit@1": table[split][-1][0],
                              "top": [_relative(p) for p in passages[:3]]}))
    return {split: {"questions": len(rows),
                    "hit@1": round(sum(a for a, _ in rows) / len(rows), 3),
                    "hit@3": round(sum(b for _, b in rows) / len(rows), 3)}
            for split, rows in sorted(table.items())}


async def run(modes: Sequence[SearchMode], verbose: bool,
              weights: dict[str, float], bm25: dict[str, float]) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        embedder = WordLlamaEmbedder(cache_dir=Path(folder) / "wordllama")
        index = SqliteIndex.open(Path(folder) / "index.sqlite", embedder_name=embedder.name,
                                 dimension=embedder.dimension, **bm25)
        await ingest_paths([REPO / "docs", REPO / "README.md"], index, embedder)
        retriever = Retriever(index, embedder, **weights)
        try:
            return {mode: await measure(retriever, mode, verbose) for mode in modes}
        finally:
            index.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", action="append", choices=SEARCH_MODES,
                        help="repeatable; default: all three")
    parser.add_argument("--verbose", action="store_true")
    for name in ("heading", "clause", "document", "outline", "vector", "token"):
        parser.add_argument(f"--{name}", type=float, help=f"{name}_weight [default: the tuned one]")
    parser.add_argument("--per-document", type=int, help="passages of one document among the "
                        "first ones, 0: no cap [default: the tuned one]")
    parser.add_argument("--k1", type=float, help="BM25 k1 [default: the tuned one]")
    parser.add_argument("--b", type=float, help="BM25 b [default: the tuned one]")
    args = parser.parse_args()
    bm25 = {f"bm25_{name}": getattr(args, name) for name in ("k1", "b")
            if getattr(args, name) is not None}
    weights: dict[str, float] = {f"{name}_weight": getattr(args, name)
                                 for name in ("heading", "clause", "document", "outline",
                                              "vector", "token")
                                 if getattr(args, name) is not None}
    if args.per_document is not None:
        weights["per_document"] = args.per_document
    print(json.dumps(asyncio.run(run(args.mode or list(SEARCH_MODES), args.verbose, weights,
                                      bm25))))


if __name__ == "__main__":
    main()
