"""`chatref probe` against real servers: local mode (fails: no authentication), token mode with
two real signed tokens (passes), and an Easy Auth app reachable directly (fails: forgeable)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest

from chatref.ops.probe import run_probe
from chatref.web.app import create_app
from tests.fakes.easyauth_front import EasyAuthFront
from tests.fakes.identity_provider import (  # noqa: F401
    IdentityProvider,
    identity_provider,
    token_mode,
)
from tests.web.conftest import LiveServer, indexed, live_server, serve  # noqa: F401

pytestmark = pytest.mark.timeout(240)
CHATREF = str(Path(sys.executable).parent / "chatref")


def probe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHATREF, "probe", *args], capture_output=True, text=True,
                          timeout=200, env=dict(os.environ), check=False)


def test_local_mode_fails_and_says_there_is_no_authentication(
    live_server: LiveServer, tmp_path: Path  # noqa: F811
) -> None:
    junit = tmp_path / "probe.xml"
    result = probe(live_server.url, "--junit", str(junit))
    assert result.returncode == 1
    assert "no authentication" in result.stderr
    assert "unauthenticated_refused" in result.stderr and "metrics_private" in result.stderr
    suite = ElementTree.parse(junit).getroot()  # noqa: S314 - our own report
    failed = {case.get("name") for case in suite if case.find("failure") is not None}
    assert {"unauthenticated_refused", "metrics_private", "ready_details_private"} <= failed
    assert "security_headers" not in failed and "bad_input_answered_4xx_json" not in failed


@pytest.fixture
def token_server(
    token_mode: IdentityProvider, indexed: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> Iterator[LiveServer]:
    monkeypatch.setenv("CHATREF_RATE_LIMIT_PER_MINUTE", "8")
    with serve(create_app()) as server:
        yield server


def test_token_mode_passes_every_check_with_two_users(
    token_server: LiveServer, token_mode: IdentityProvider  # noqa: F811
) -> None:
    result = probe(token_server.url, "--json", "--token", token_mode.issue("alice"),
                   "--other-token", token_mode.issue("bob"))
    report = json.loads(result.stdout)
    statuses = {c["name"]: c["status"] for c in report["checks"]}
    assert result.returncode == 0, report
    assert statuses["other_users_conversation"] == statuses["rate_limit"] == "pass"
    assert statuses["https_redirect"] == statuses["hsts"] == "skip"  # http://127.0.0.1 here
    assert all(s in ("pass", "skip") for s in statuses.values())


async def test_an_easyauth_app_reachable_directly_is_caught(
    indexed: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """What the probe would find if the container were reachable around App Service."""
    monkeypatch.setenv("CHATREF_AUTH_MODE", "easyauth")
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")
    with serve(create_app()) as server:
        report = await run_probe(server.url)
    assert report.failed == ["forged_principal_ignored"]
    assert next(c for c in report.checks if c.name == "unauthenticated_refused").status == "pass"


def test_behind_an_easy_auth_like_front_every_check_passes(
    indexed: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """The platform's part played by tests/fakes/easyauth_front.py: principals only from its
    own sessions and tokens, forged headers dropped, the UI redirected to sign-in."""
    monkeypatch.setenv("CHATREF_AUTH_MODE", "easyauth")
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")
    monkeypatch.setenv("CHATREF_RATE_LIMIT_PER_MINUTE", "8")
    with serve(create_app()) as server, EasyAuthFront(
            server.url, tokens={"t-alice": "oid-alice", "t-bob": "oid-bob"}) as front:
        result = probe(front.url, "--json", "--token", "t-alice", "--other-token", "t-bob")
    report = json.loads(result.stdout)
    statuses = {c["name"]: c["status"] for c in report["checks"]}
    assert result.returncode == 0, report
    assert statuses["forged_principal_ignored"] == "pass"
    assert statuses["other_users_conversation"] == statuses["rate_limit"] == "pass"
