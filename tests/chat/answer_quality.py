"""Scoring extractive answers over the bundled docs (docs/ and README.md) against a question set
with expected sources and key phrases (bundled_questions.json). Shared by the test that keeps
the floors and by bench/extractive_quality.py, which prints the figures."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from chatref.ingest.pipeline import ingest_paths
from chatref.retrieval.embedder import WordLlamaEmbedder
from chatref.retrieval.retriever import Retriever
from chatref.retrieval.sqlite_index import SqliteIndex
from chatref.retrieval.types import Passage

REPO = Path(__file__).resolve().parents[2]
QUESTIONS = Path(__file__).with_name("bundled_questions.json")
Answerer = Callable[[str, Sequence[Passage]], str]


@dataclass(frozen=True)
class Scored:
    question: str
    hit_at_3: bool  # an expected source among the top three passages
    phrase_recall: float  # share of the key phrases found in the answer
    lead_cites_expected: bool  # the first citation in the answer is an expected source
    answer_chars: int


def load_questions() -> list[dict[str, object]]:
    return list(json.loads(QUESTIONS.read_text(encoding="utf-8")))


@asynccontextmanager
async def bundled_retriever(folder: Path) -> AsyncIterator[Retriever]:
    """A retriever over the bundled docs, indexed into ``folder``; every file must ingest."""
    embedder = WordLlamaEmbedder(cache_dir=folder / "wordllama")
    index = SqliteIndex.open(folder / "index.sqlite", embedder_name=embedder.name,
                             dimension=embedder.dimension)
    try:
        report = await ingest_paths([REPO / "docs", REPO / "README.md"], index, embedder)
        assert report.counts["failed"] == 0
        yield Retriever(index, embedder)
    finally:
        index.close()


def _matches(source: str, expected: Sequence[str]) -> bool:
    return any(source == e or source.endswith("/" + e) for e in expected)


def score(question: dict[str, object], passages: Sequence[Passage], answer: str) -> Scored:
    expected = [str(s) for s in question["sources"]]  # type: ignore[attr-defined]
    phrases = [str(p) for p in question["phrases"]]  # type: ignore[attr-defined]
    lowered = answer.lower()
    found = sum(p.lower() in lowered for p in phrases)
    # the lead citation is the first "[n]" in the text
    positions = [(answer.find(f"[{n}]"), n) for n in range(1, len(passages) + 1)
                 if f"[{n}]" in answer]
    lead = min(positions)[1] if positions else None
    return Scored(
        question=str(question["question"]),
        hit_at_3=any(_matches(p.source, expected) for p in passages[:3]),
        phrase_recall=found / len(phrases) if phrases else 1.0,
        lead_cites_expected=lead is not None and _matches(passages[lead - 1].source, expected),
        answer_chars=len(answer),
    )


def summary(scored: Sequence[Scored]) -> dict[str, float]:
    n = len(scored)
    return {
        "questions": n,
        "source_hit_at_3": round(sum(s.hit_at_3 for s in scored) / n, 3),
        "phrase_recall": round(sum(s.phrase_recall for s in scored) / n, 3),
        "lead_cites_expected_source": round(sum(s.lead_cites_expected for s in scored) / n, 3),
        "mean_answer_chars": round(sum(s.answer_chars for s in scored) / n),
    }
