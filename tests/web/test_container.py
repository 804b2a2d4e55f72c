"""The container's process (chatref.web.container): seed the index once, pick the listen
address from the auth mode, refuse bad settings in one line. The image itself is tested in
tests/container."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from chatref.settings import Settings
from chatref.web.container import listen_host, seed_index


def _seed(tmp_path: Path) -> Path:
    seed = tmp_path / "seed"
    seed.mkdir()
    with sqlite3.connect(seed / "index.sqlite") as db:
        db.execute("create table marker (what text)")
        db.execute("insert into marker values ('seed')")
    return seed


def test_first_start_copies_the_seed_index(isolated_env: Path, tmp_path: Path) -> None:
    settings = Settings()
    assert seed_index(settings, _seed(tmp_path)) is True
    with sqlite3.connect(settings.index_path) as db:
        assert db.execute("select what from marker").fetchone() == ("seed",)
    assert sorted(p.name for p in isolated_env.iterdir()) == ["index.sqlite"]


def test_an_existing_index_is_never_overwritten(isolated_env: Path, tmp_path: Path) -> None:
    settings = Settings()
    isolated_env.mkdir()
    settings.index_path.write_bytes(b"mine")
    assert seed_index(settings, _seed(tmp_path)) is False
    assert settings.index_path.read_bytes() == b"mine"


def test_no_seed_when_azure_search_holds_the_index(
        isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_SEARCH_ENDPOINT", "https://search.example")
    assert seed_index(Settings(), _seed(tmp_path)) is False
    assert not Settings().index_path.exists()


def test_missing_seed_folder_is_not_an_error(isolated_env: Path, tmp_path: Path) -> None:
    assert seed_index(Settings(), tmp_path / "nowhere") is False


@pytest.mark.parametrize(("mode", "host"), [
    ("local", "127.0.0.1"), ("token", "0.0.0.0"), ("easyauth", "0.0.0.0"),  # noqa: S104
])
def test_only_authenticated_modes_listen_on_all_interfaces(
        monkeypatch: pytest.MonkeyPatch, mode: str, host: str) -> None:
    monkeypatch.setenv("CHATREF_AUTH_MODE", mode)
    assert listen_host(Settings()) == host


def test_port_comes_from_the_contract_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().port == 8000
    monkeypatch.setenv("PORT", "8123")
    assert Settings().port == 8123


def test_bad_port_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "0")
    done = subprocess.run([sys.executable, "-m", "chatref.web.container"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: bad setting: PORT") and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_process_seeds_then_serves_on_loopback(
        isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("PORT", str(port))
    seed = tmp_path / "seed"
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "rotation.md").write_text(
        "# Key rotation\n\nStorage keys are rotated every 30 days.\n", encoding="utf-8")
    ingest = subprocess.run(
        [sys.executable, "-m", "chatref.cli", "ingest", str(tmp_path / "docs")],
        env={**os.environ, "CHATREF_DATA_DIR": str(seed)},
        capture_output=True, text=True, timeout=300)
    assert ingest.returncode == 0, ingest.stderr
    process = subprocess.Popen([sys.executable, "-m", "chatref.web.container", "--seed",
                                str(seed)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        deadline = time.monotonic() + 120
        ready = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert ready is not None and ready.status_code == 200, process.poll()
        assert ready.json()["checks"]["index"]["detail"]["chunks"] >= 1
        assert (isolated_env / "index.sqlite").is_file()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert "seeded" in output and "auth mode 'local'" in output, output
    assert f"127.0.0.1:{port}" in output
