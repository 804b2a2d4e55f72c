"""`chatref ask` and `chatref serve`, run as the installed command."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

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


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_shows_chatrefs_info_lines_in_every_worker(indexed: Path, workers: int) -> None:
    """The index warm-up's line is chatref's INFO: shown by `chatref serve` (it was not), in
    each worker process uvicorn spawns."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([CHATREF, "serve", "--port", str(port), "--workers", str(workers)],
                              env=dict(os.environ), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    lines: list[str] = []

    def read(stream: IO[str]) -> None:
        for line in stream:
            lines.append(line)

    assert server.stderr is not None
    threading.Thread(target=read, args=(server.stderr,), daemon=True).start()
    try:
        deadline = time.monotonic() + 90  # two warm-ups on two shared cores
        while sum("index loaded for search in" in line for line in list(lines)) < workers:
            assert time.monotonic() < deadline and server.poll() is None, "".join(lines)
            time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stderr:
            server.stderr.close()
    assert any(line.startswith("INFO:") and "index loaded" in line for line in lines), lines


def test_other_libraries_log_from_warning_on() -> None:
    """httpx logs every request at INFO and the Azure SDK every call's headers: not in a
    production log billed by the gigabyte."""
    script = (
        "import logging, logging.config\n"
        "from chatref.web.logs import log_config\n"
        "logging.config.dictConfig(log_config('info'))\n"
        "logging.getLogger('httpx').info('HTTP Request: POST https://example')\n"
        "logging.getLogger('azure.core.pipeline.policies.http_logging_policy')"
        ".info('Request URL: https://search.example')\n"
        "logging.getLogger('azure.core').warning('a library warning')\n"
        "logging.getLogger('chatref.web.app').info('index loaded for search in 0.1 s')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=True)
    assert "HTTP Request" not in done.stderr and "Request URL" not in done.stderr
    assert "a library warning" in done.stderr and "index loaded for search" in done.stderr
