"""The real `chatref` command, run as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.ingest import documents


def chatref(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chatref.cli", *args], cwd=cwd, capture_output=True, text=True,
        env={**os.environ, "COLUMNS": "200"}, timeout=120,
    )


def test_ingest_json_then_search_json(tmp_path: Path) -> None:
    documents.write_all_good(tmp_path / "docs")
    result = chatref("ingest", "docs", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["counts"]["added"] == 5

    result = chatref("search", "recovery point objective", "--top", "2", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert len(hits) == 2
    assert {"source", "title", "page", "text", "score"} <= set(hits[0])
    assert hits[0]["source"] == "docs/dr-plan.pdf" and hits[0]["page"] == 2

    result = chatref("search", "firewall", "--mode", "keyword", cwd=tmp_path)
    assert result.returncode == 0 and "Network Design" in result.stdout


def test_ingest_reports_failures_and_exits_non_zero(tmp_path: Path) -> None:
    documents.write_all_good(tmp_path / "docs")
    documents.write_all_bad(tmp_path / "docs")
    result = chatref("ingest", "docs", cwd=tmp_path)
    assert result.returncode == 1
    assert "docs/encrypted.pdf: encrypted PDF" in result.stderr
    assert "docs/latin1.txt: not UTF-8" in result.stderr
    assert "added" in result.stdout and "failed" in result.stdout  # the summary table


def test_custom_index_and_prune(tmp_path: Path) -> None:
    files = documents.write_all_good(tmp_path / "docs")
    assert chatref("ingest", "docs", "--index", "my.sqlite", cwd=tmp_path).returncode == 0
    assert (tmp_path / "my.sqlite").exists() and not (tmp_path / "data" / "index.sqlite").exists()
    files["md"].unlink()
    result = chatref("ingest", "docs", "--index", "my.sqlite", "--prune", "--json", cwd=tmp_path)
    assert json.loads(result.stdout)["counts"] == {
        "added": 0, "updated": 0, "unchanged": 4, "removed": 1, "failed": 0, "skipped": 0}


def test_untrusted_folder_options(tmp_path: Path) -> None:
    documents.write_all_good(tmp_path / "docs")
    (tmp_path / "outside.md").write_text("# Outside\n\nBeyond the root.\n", encoding="utf-8")
    (tmp_path / "docs" / "link.md").symlink_to(tmp_path / "outside.md")
    result = chatref("ingest", "docs", "--max-file-mb", "0.002", cwd=tmp_path)
    assert result.returncode == 1
    assert "docs/access.docx: over the per-file limit:" in result.stderr
    assert "skipped docs/link.md: symlink to" in result.stderr
    result = chatref("ingest", "docs", "--follow-symlinks", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["counts"]["skipped"] == 0


def test_bad_mode_is_a_usage_error(tmp_path: Path) -> None:
    result = chatref("search", "x", "--mode", "fuzzy", cwd=tmp_path)
    assert result.returncode == 2
    assert "fuzzy" in result.stderr


def test_eval_retrieval_on_a_tiny_beir_collection(tmp_path: Path) -> None:
    data = tmp_path / "tiny"
    data.mkdir()
    corpus = [("d1", "Cats", "Cats purr and chase mice."),
              ("d2", "Cars", "Engines and gearboxes."),
              ("d3", "Tea", "Green tea is brewed at eighty degrees.")]
    (data / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, t, x in corpus))
    (data / "queries.jsonl").write_text(
        json.dumps({"_id": "q1", "text": "what do cats chase"}) + "\n"
        + json.dumps({"_id": "q2", "text": "brewing temperature for green tea"}) + "\n")
    (data / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td3\t1\n")
    result = chatref("eval", "retrieval", "--dataset", str(data), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["queries"] == 2
    by_mode = {r["mode"]: r for r in out["results"]}
    assert set(by_mode) == {"keyword", "vector", "hybrid"}
    assert by_mode["keyword"]["ndcg_at_10"] == 1.0
    assert by_mode["hybrid"]["recall_at_100"] == 1.0

    result = chatref("eval", "retrieval", "--dataset", str(data), "--mode", "hybrid",
                     "--fusion", "rrf", "--json", cwd=tmp_path)
    out = json.loads(result.stdout)
    assert out["fusion"] == "rrf" and [r["mode"] for r in out["results"]] == ["hybrid"]

    result = chatref("eval", "retrieval", "--dataset", str(data), "--mode", "hybrid",
                     "--token-weight", "0.5", "--json", cwd=tmp_path)
    out = json.loads(result.stdout)
    assert out["token_weight"] == 0.5 and out["results"][0]["ndcg_at_10"] == 1.0


def test_eval_rejects_an_unknown_fusion(tmp_path: Path) -> None:
    result = chatref("eval", "retrieval", "--dataset", str(tmp_path), "--fusion", "max",
                     cwd=tmp_path)
    assert result.returncode == 2 and "'max' is not weighted or rrf" in result.stderr
