from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from chatref.errors import InputError
from chatref.retrieval.evaluation import load_beir, ndcg_at, recall_at


def test_ndcg_matches_hand_computation() -> None:
    relevant = {"d1": 2, "d2": 1}
    ranked = ["d2", "x", "d1"]
    dcg = 1 / math.log2(2) + 2 / math.log2(4)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at(ranked, relevant) == pytest.approx(dcg / idcg)
    assert ndcg_at(["d1", "d2"], relevant) == pytest.approx(1.0)
    assert ndcg_at(["x"], relevant) == 0.0


def test_recall_counts_relevant_documents_in_the_cut() -> None:
    assert recall_at(["a", "b", "c"], {"a": 1, "z": 1}, k=2) == 0.5


def test_load_beir_names_missing_files(tmp_path: Path) -> None:
    (tmp_path / "corpus.jsonl").write_text(json.dumps({"_id": "1", "text": "x"}) + "\n")
    with pytest.raises(InputError, match=r"queries\.jsonl"):
        load_beir(tmp_path)
