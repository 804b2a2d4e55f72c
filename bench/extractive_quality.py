"""Extractive answers over the bundled docs: source hit@3, key-phrase recall, lead citation.

    .venv/bin/python bench/extractive_quality.py [--extractive OLD.py] [--mode hybrid] \
        [--vector 0.35 --token 0.2]

The question set is tests/chat/bundled_questions.json (kept above floors by
tests/chat/test_extractive_quality.py). ``--extractive`` loads another version of
src/chatref/chat/extractive.py (for example one taken with ``git show REV:PATH``) to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from chatref.chat import extractive  # noqa: E402
from chatref.ingest.pipeline import ingest_paths  # noqa: E402
from chatref.retrieval.embedder import WordLlamaEmbedder  # noqa: E402
from chatref.retrieval.fusion import (  # noqa: E402
    DEFAULT_HEADING_WEIGHT,
    DEFAULT_TOKEN_WEIGHT,
    DEFAULT_VECTOR_WEIGHT,
)
from chatref.retrieval.retriever import Retriever  # noqa: E402
from chatref.retrieval.sqlite_index import BM25_WEIGHTS, SqliteIndex  # noqa: E402
from tests.chat.answer_quality import REPO, load_questions, score, summary  # noqa: E402


async def run(module: object, mode: str, verbose: bool, bm25: tuple[float, float, float],
              heading: float, vector: float, token: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        embedder = WordLlamaEmbedder(cache_dir=Path(folder) / "wordllama")
        index = SqliteIndex.open(Path(folder) / "index.sqlite", embedder_name=embedder.name,
                                 dimension=embedder.dimension, bm25_weights=bm25)
        await ingest_paths([REPO / "docs", REPO / "README.md"], index, embedder)
        retriever = Retriever(index, embedder, heading_weight=heading, vector_weight=vector,
                              token_weight=token)
        scored = []
        for question in load_questions():
            text = str(question["question"])
            passages = await retriever.search(text, top_k=5, mode=mode)  # type: ignore[arg-type]
            answer = module.extractive_answer(text, passages).text  # type: ignore[attr-defined]
            scored.append(score(question, passages, answer))
            if verbose:
                print(json.dumps(scored[-1].__dict__))
        index.close()
    return summary(scored)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--extractive", type=Path, help="another extractive.py to measure")
    parser.add_argument("--mode", default="hybrid", choices=["hybrid", "keyword", "vector"])
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--heading", type=float, default=DEFAULT_HEADING_WEIGHT,
                        help="heading-match weight of the hybrid score")
    parser.add_argument("--bm25", type=float, nargs=3, default=list(BM25_WEIGHTS),
                        metavar=("TITLE", "SECTION", "TEXT"), help="FTS5 column weights")
    parser.add_argument("--vector", type=float, default=DEFAULT_VECTOR_WEIGHT,
                        help="vector weight of the hybrid fusion")
    parser.add_argument("--token", type=float, default=DEFAULT_TOKEN_WEIGHT,
                        help="weight of the late-interaction token match (0: off)")
    args = parser.parse_args()
    module: object = extractive
    if args.extractive:
        spec = importlib.util.spec_from_file_location("other_extractive", args.extractive)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["other_extractive"] = module  # type: ignore[assignment]
        spec.loader.exec_module(module)  # type: ignore[arg-type]
    print(json.dumps(asyncio.run(run(module, args.mode, args.verbose, tuple(args.bm25),
                                args.heading, args.vector, args.token))))


if __name__ == "__main__":
    main()
