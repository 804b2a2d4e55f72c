"""`chatref ask` and `chatref serve`, run as the installed command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chatref.errors import ConfigurationError
from chatref.identity.config import check_listen_address
from tests.fakes.openai_server import FakeOpenAIServer

pytestmark = pytest.mark.timeout(120)
CHATREF = str(Path(sys.executable).parent / "chatref")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHATREF, *args], capture_output=True, text=True, timeout=90,
                          env=dict(os.environ), check=False)


def test_ask_streams_an_extractive_answer_with_sources(indexed: Path) -> None:
    result = run("ask", "How long are backups kept?")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("*Extractive answer")
    assert "35 days" in result.stdout
    assert "Sources:" in result.stdout and "backups.md" in result.stdout


def test_ask_with_a_model_prints_json_for_machines(
    indexed: Path, with_model: FakeOpenAIServer
) -> None:
    with_model.answer = "Nightly, kept 35 days [1]."
    result = run("ask", "--json", "How long are backups kept?")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["answer"] == "Nightly, kept 35 days [1]."
    assert body["mode"] == "model" and body["citations"][0]["source"].endswith("backups.md")
    assert "geo-redundant vault" in with_model.last_request.prompt_text  # type: ignore[union-attr]


def test_ask_stores_no_conversation(indexed: Path) -> None:
    assert run("ask", "Who rotates the keys?").returncode == 0
    import sqlite3

    conn = sqlite3.connect(indexed / "chatref.sqlite")
    try:
        assert conn.execute("SELECT COUNT(*) FROM conversations").fetchone() == (0,)
    finally:
        conn.close()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])  # noqa: S104
def test_serve_refuses_non_loopback_and_says_why(host: str) -> None:
    result = run("serve", "--host", host, "--port", "8999")
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert f"--host {host}: CHATREF_AUTH_MODE=local trusts every caller" in message
    assert "listens only on loopback" in message
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_addresses_are_accepted(host: str) -> None:
    check_listen_address("local", host)


def test_the_check_names_the_rejected_host() -> None:
    with pytest.raises(ConfigurationError, match="--host 10.0.0.1"):
        check_listen_address("local", "10.0.0.1")
    check_listen_address("token", "10.0.0.1")
    check_listen_address("easyauth", "0.0.0.0")  # noqa: S104


def test_serve_refuses_a_model_configuration_that_cannot_work(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATREF_LLM_ENDPOINTS", "[not json")
    result = run("serve", "--port", "8999")
    assert result.returncode == 2
    assert "CHATREF_LLM_ENDPOINTS is not valid JSON" in " ".join(result.stderr.split())
