"""`chatref eval answers`, run as the installed command against the fake model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.openai_server import Behaviour, FakeOpenAIServer

pytestmark = pytest.mark.timeout(180)
CHATREF = str(Path(sys.executable).parent / "chatref")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHATREF, *args], capture_output=True, text=True, timeout=150,
                          env=dict(os.environ), check=False)


def dataset(tmp_path: Path) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text(
        '{"question": "How long are backups kept?", "expected_sources": ["backups.md"]}\n'
        '{"question": "Who rotates the storage keys?", "expected_sources": ["keys.md"]}\n',
        encoding="utf-8")
    return path


def test_model_answers_are_graded_lexically_and_by_the_judge(
    indexed: Path, with_model: FakeOpenAIServer, tmp_path: Path
) -> None:
    with_model.enqueue(
        Behaviour(answer="Backups are kept for 35 days in a geo-redundant vault [1]."),
        Behaviour(answer='{"supported_sentences": 1, "sentences": 1, "relevance": 0.9}'),
        Behaviour(answer="The keys are rotated by a dragon on the moon [1]."),
        Behaviour(answer="I think it is fine."),  # a judge reply that is not a verdict
    )
    result = run("eval", "answers", "--dataset", str(dataset(tmp_path)), "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    first, second = body["questions"]
    assert body["answers"] == "model"
    assert first["groundedness"] == 1.0 and first["citation_precision"] == 1.0
    assert first["judge"] == {"groundedness": 1.0, "relevance": 0.9}
    assert second["groundedness"] == 0.0
    assert second["judge"]["error"].startswith("unusable verdict")
    assert body["summary"]["judge_errors"] == 1 and body["summary"]["judge_relevance"] == 0.9
    judge_request = with_model.requests[1]
    assert "You grade an answer" in judge_request.prompt_text
    assert "35 days" in judge_request.prompt_text  # it saw the answer and its sources


def test_without_a_model_the_extractive_answers_are_graded_and_no_judge_runs(
    indexed: Path, tmp_path: Path
) -> None:
    result = run("eval", "answers", "--dataset", str(dataset(tmp_path)), "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["answers"] == "extractive"
    assert body["summary"]["groundedness"] == 1.0  # quoted sentences are their own support
    assert body["summary"]["citation_recall"] == 1.0
    assert all(q["judge"] is None for q in body["questions"])


def test_a_missing_dataset_is_a_clear_error(indexed: Path, tmp_path: Path) -> None:
    result = run("eval", "answers", "--dataset", str(tmp_path / "nope.jsonl"))
    assert result.returncode == 2
    assert "cannot read the dataset" in result.stderr and "nope.jsonl" in result.stderr
