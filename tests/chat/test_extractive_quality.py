"""The extractive answer over the bundled docs: source hit@3 and key-phrase recall over the
question set in bundled_questions.json, kept above floors (figures: docs/benchmarks.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatref.chat.extractive import extractive_answer
from chatref.retrieval.retriever import Retriever
from tests.chat.answer_quality import REPO, bundled_retriever, load_questions, score, summary


@pytest.fixture
async def bundled(tmp_path: Path) -> AsyncIterator[Retriever]:
    async with bundled_retriever(tmp_path) as retriever:
        yield retriever


async def test_extractive_answers_find_the_sources_and_key_phrases(
    bundled: Retriever, capsys: pytest.CaptureFixture[str]
) -> None:
    scored = []
    for question in load_questions():
        passages = await bundled.search(str(question["question"]), top_k=5)
        answer = extractive_answer(str(question["question"]), passages)
        scored.append(score(question, passages, answer.text))
    figures = summary(scored)
    with capsys.disabled():
        print(f"\nextractive answers over the bundled docs: {figures}")
    assert figures["questions"] >= 15
    assert figures["source_hit_at_3"] >= 0.75
    assert figures["phrase_recall"] >= 0.5
    assert figures["lead_cites_expected_source"] >= 0.5


def test_the_question_set_names_files_that_exist() -> None:
    for question in load_questions():
        for source in question["sources"]:  # type: ignore[attr-defined]
            assert (REPO / str(source)).is_file(), source
        assert question["phrases"], question
