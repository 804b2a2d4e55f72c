"""`chatref index create`, `chatref ingest` and `chatref search` on Azure AI Search (the fake)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.fakes.search_server import FAKE_SEARCH_KEY, FakeSearchServer
from tests.ingest import documents


def chatref(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chatref.cli", *args], cwd=cwd, capture_output=True, text=True,
        env={**os.environ, "COLUMNS": "200", **env}, timeout=180,
    )


def azure_env(fake: FakeSearchServer) -> dict[str, str]:
    return {"AZURE_SEARCH_ENDPOINT": fake.url, "AZURE_SEARCH_INDEX": "cli-docs",
            "AZURE_SEARCH_API_KEY": FAKE_SEARCH_KEY, "CHATREF_SEARCH_CA_FILE": fake.ca_file}


def test_index_create_then_ingest_then_search(tmp_path: Path,
                                              fake_search: FakeSearchServer) -> None:
    env = azure_env(fake_search)
    created = chatref("index", "create", "--json", cwd=tmp_path, env=env)
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["index"].startswith("created: Azure AI Search index")
    assert "cli-docs" in fake_search.state.indexes

    documents.write_all_good(tmp_path / "docs")
    first = chatref("ingest", "docs", "--json", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["counts"]["added"] == 5
    again = chatref("ingest", "docs", "--json", cwd=tmp_path, env=env)
    assert json.loads(again.stdout)["counts"]["unchanged"] == 5

    (tmp_path / "docs" / "storage.md").unlink()
    pruned = chatref("ingest", "docs", "--prune", "--json", cwd=tmp_path, env=env)
    assert json.loads(pruned.stdout)["counts"]["removed"] == 1
    paths = {d["path"] for d in fake_search.documents("cli-docs").values()}
    assert not any(p.endswith("storage.md") for p in paths)

    found = chatref("search", "recovery point objective", "--json", cwd=tmp_path, env=env)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)[0]["source"].startswith("docs")
    assert not (tmp_path / "data" / "index.sqlite").exists()  # no local index at all


def test_an_index_of_another_embedder_is_a_clear_error(tmp_path: Path,
                                                       fake_search: FakeSearchServer) -> None:
    env = azure_env(fake_search)
    assert chatref("index", "create", cwd=tmp_path, env=env).returncode == 0
    vector = next(f for f in fake_search.state.indexes["cli-docs"].definition["fields"]
                  if f["name"] == "vector")
    vector["vectorSearchProfile"] = "chatref-azure-openai--text-embedding-3-small"
    result = chatref("ingest", str(tmp_path), cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "azure-openai/text-embedding-3-small" in result.stderr
    assert "wordllama/l2_supercat" in result.stderr
