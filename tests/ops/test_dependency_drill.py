"""`chatref drill dependencies`: real SQLite backends broken under a running chat service."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chatref.cli import app
from chatref.ops.dependency_drill import _check, _Seen
from tests.fakes.azurite import Azurite, azurite  # noqa: F401


def test_cli_drill_degrades_as_promised_and_touches_no_user_data(isolated_env: Path) -> None:
    result = CliRunner().invoke(app, ["drill", "dependencies", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    assert report["passed"] is True
    by_name = {s["name"]: s for s in report["scenarios"]}
    assert list(by_name) == ["healthy", "search_unreachable", "store_unreachable"]
    assert by_name["healthy"]["citations"] >= 1 and by_name["healthy"]["saved"] is True
    search = by_name["search_unreachable"]
    assert search["citations"] == 0 and "search is unavailable" in search["answer"]
    store = by_name["store_unreachable"]
    assert store["citations"] >= 1 and store["saved"] is False
    assert "could not be saved" in store["answer"]
    assert not isolated_env.exists()  # the drill worked in a temporary folder


def test_the_checks_fail_what_a_broken_degrade_would_show() -> None:
    invented = _Seen(text="The search is unavailable. Keys rotate monthly [1].", citations=0)
    assert _check("search_unreachable", invented) == [
        "the answer cites sources the search could not have returned"]
    silent = _Seen(text="Keys rotate monthly [1].", citations=1, saved=False)
    assert "the answer does not say the conversation was not saved" in _check(
        "store_unreachable", silent)
    lying = _Seen(text="Keys rotate monthly [1].", citations=1, saved=True)
    assert "the turn reports a saved message while the store is down" in _check(
        "store_unreachable", lying)
    assert _check("healthy", _Seen(text="x [1]", citations=1, saved=True)) == []


def test_drill_with_table_storage_on_azurite(
        isolated_env: Path, azurite: Azurite,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_STORAGE_TABLE_ENDPOINT", azurite.table_url)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    monkeypatch.setenv("CHATREF_CONVERSATIONS_TABLE", azurite.unique_name("drill"))
    result = CliRunner().invoke(app, ["drill", "dependencies", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    assert report["backends"]["store"] == "Azure Table Storage"
    by_name = {s["name"]: s for s in report["scenarios"]}
    assert by_name["healthy"]["saved"] is True  # stored in Azurite's table
    assert by_name["store_unreachable"]["saved"] is False
    assert "could not be saved" in by_name["store_unreachable"]["answer"]
