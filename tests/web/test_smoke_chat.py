"""scripts/smoke_chat.py, the release workflow's smoke chat, against a real local server."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from chatref.web.app import create_app
from tests.conftest import REPO_ROOT
from tests.fakes.identity_provider import (  # noqa: F401
    IdentityProvider,
    identity_provider,
    token_mode,
)
from tests.web.conftest import LiveServer, serve

SCRIPT = str(REPO_ROOT / "scripts" / "smoke_chat.py")


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True,
                          timeout=120, env=env)


def test_passes_on_a_cited_answer(live_server: LiveServer) -> None:
    done = _run(live_server.url, "--wait-ready", "10", "--question", "How are keys rotated?")
    assert done.returncode == 0, done.stderr
    assert "smoke: ok" in done.stdout and "citation(s)" in done.stdout


def test_fails_when_nothing_is_cited(isolated_env: Path) -> None:
    with serve(create_app()) as empty:  # an empty index: extractive mode finds nothing to cite
        done = _run(empty.url, "--wait-ready", "10")
    assert done.returncode == 1
    assert "cites no source" in done.stderr or "no text" in done.stderr, done.stderr


def test_fails_when_nothing_answers() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = _run(f"http://127.0.0.1:{port}", "--wait-ready", "1")
    assert done.returncode == 1 and "not ready after" in done.stderr, done.stderr


def test_an_empty_token_variable_fails_before_any_request(
        live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMOKE_TOKEN", "")
    done = _run(live_server.url, "--token-env", "SMOKE_TOKEN")
    assert done.returncode == 1 and "SMOKE_TOKEN is empty" in done.stderr


def test_expect_build_passes_only_on_the_named_build(
        indexed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A slot still answering from its old container must not pass for the new release."""
    monkeypatch.setenv("CHATREF_BUILD", "0f1e2d3c-old")
    with serve(create_app()) as old:
        same = _run(old.url, "--expect-build", "0f1e2d3c-old", "--question",
                    "How are keys rotated?")
        other = _run(old.url, "--wait-ready", "1", "--expect-build", "9a8b7c6d-new")
    assert same.returncode == 0, same.stderr
    assert other.returncode == 1
    assert "/health/ready of build 9a8b7c6d-new not ready after 1 s" in other.stderr
    assert "ready, but build 0f1e2d3c-old answers" in other.stderr


def test_expect_build_needs_a_token_with_the_operator_role(
        token_mode: IdentityProvider, indexed: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATREF_BUILD", "0f1e2d3c")
    with serve(create_app()) as server:
        monkeypatch.setenv("SMOKE_TOKEN", token_mode.issue("release", roles=["Chat.User"]))
        user = _run(server.url, "--token-env", "SMOKE_TOKEN", "--expect-build", "0f1e2d3c")
        monkeypatch.setenv("SMOKE_TOKEN", token_mode.issue(
            "release", roles=["Chat.User", "Chat.Operator"]))
        operator = _run(server.url, "--token-env", "SMOKE_TOKEN", "--expect-build", "0f1e2d3c",
                        "--question", "How are keys rotated?")
    assert user.returncode == 1 and "needs a token with the operator role" in user.stderr
    assert operator.returncode == 0, operator.stderr
