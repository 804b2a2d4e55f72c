"""The lexical grader and the dataset reader (the judge is tested end to end in
tests/web/test_eval_answers.py, against the fake model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatref.chat.grading import AnswerCase, answer_sentences, lexical_grade, load_cases, summarize
from chatref.chat.types import Citation
from chatref.errors import InputError

BACKUPS = Citation(1, "c1", "d1", "docs/backups.md", "Backups", None, None,
                   "Backups run nightly at 02:00 UTC and are kept for 35 days in a vault.")
KEYS = Citation(2, "c2", "d2", "docs/keys.md", "Keys", None, None,
                "Storage account keys are rotated every 30 days by the platform team.")


def test_a_sentence_its_cited_source_supports_is_grounded_and_the_citation_right() -> None:
    case = AnswerCase("How long are backups kept?", ["backups.md"])
    grade = lexical_grade(case, "Backups are kept for 35 days [1].", [BACKUPS, KEYS])
    assert grade.groundedness == 1.0
    assert grade.citation_precision == 1.0 and grade.citation_recall == 1.0
    assert grade.relevance == pytest.approx(2 / 3)  # "backups", "kept"; not "long"


def test_an_unsupported_or_uncited_sentence_is_not_grounded() -> None:
    case = AnswerCase("How long are backups kept?", ["backups.md"])
    answer = "Backups are kept forever on tape in orbit [1]. They are encrypted twice."
    grade = lexical_grade(case, answer, [BACKUPS])
    assert grade.sentences == 2 and grade.groundedness == 0.0


def test_citing_the_wrong_source_costs_precision_and_recall() -> None:
    case = AnswerCase("How long are backups kept?", ["backups.md"])
    grade = lexical_grade(case, "Keys are rotated every 30 days by the platform team [2].",
                          [BACKUPS, KEYS])
    assert grade.groundedness == 1.0  # true to its source, but not the source asked for
    assert grade.citation_precision == 0.0 and grade.citation_recall == 0.0
    assert grade.relevance < 1.0


def test_the_extractive_notice_and_labels_are_not_graded_as_claims() -> None:
    answer = ("*Extractive answer: no language model is configured, so these are ...*\n\n"
              "Backups run nightly at 02:00 UTC and are kept for 35 days in a vault. [1]\n"
              "— *Backups*")
    assert [s for s, _ in answer_sentences(answer)] == [
        "Backups run nightly at 02:00 UTC and are kept for 35 days in a vault. [1]"]


def test_without_expected_sources_citation_figures_are_absent_not_zero() -> None:
    grade = lexical_grade(AnswerCase("backups?"), "Kept 35 days [1].", [BACKUPS])
    assert grade.citation_precision is None and grade.citation_recall is None
    assert summarize([grade])["citation_precision"] is None


def test_a_bad_dataset_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "qs.jsonl"
    path.write_text('{"question": "ok?"}\n{"question": 3}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"qs.jsonl, line 2: question must be"):
        load_cases(path)
    path.write_text("\n", encoding="utf-8")
    with pytest.raises(InputError, match="has no questions"):
        load_cases(path)
    with pytest.raises(InputError, match="cannot read the dataset"):
        load_cases(tmp_path / "missing.jsonl")
