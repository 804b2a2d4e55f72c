"""Retention on a real SQLite store: the service, `chatref retention`, and the web app's task."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from chatref.retention import apply_retention
from chatref.store.sqlite_store import SqliteConversationStore
from chatref.web.app import create_app
from tests.store.conftest import start_conversation

CHATREF = str(Path(sys.executable).parent / "chatref")
DAY = 86_400


async def _seed(path: Path) -> dict[str, str]:
    """Conversations of two users: one idle 40 days, one 10 days, one active now."""
    store = await SqliteConversationStore.open(path)
    ids = {}
    try:
        for name, user, age_days in (("old", "local", 40), ("recent", "bob", 10),
                                     ("now", "local", 0)):
            conversation, _ = await start_conversation(store, user, name,
                                                       question=f"question in {name}")
            ids[name] = conversation.id
            if age_days:
                conn = sqlite3.connect(path)
                with conn:
                    conn.execute("UPDATE conversations SET updated_at = ?, created_at = ? "
                                 "WHERE id = ?", (time.time() - age_days * DAY,
                                                  time.time() - age_days * DAY, conversation.id))
                conn.close()
    finally:
        await store.aclose()
    return ids


def _remaining(path: Path) -> tuple[set[str], int]:
    conn = sqlite3.connect(path)
    try:
        titles = {row[0] for row in conn.execute("SELECT title FROM conversations")}
        (messages,) = conn.execute("SELECT COUNT(*) FROM messages").fetchone()
    finally:
        conn.close()
    return titles, messages


async def test_old_conversations_go_with_their_messages_whoever_owns_them(tmp_path: Path) -> None:
    path = tmp_path / "chatref.sqlite"
    await _seed(path)
    store = await SqliteConversationStore.open(path)
    try:
        assert await apply_retention(store, days=30) == 1
        assert _remaining(path) == ({"recent", "now"}, 4)
        assert await apply_retention(store, days=5) == 1
        assert await apply_retention(store, days=5) == 0
    finally:
        await store.aclose()
    assert _remaining(path) == ({"now"}, 2)


async def test_the_command(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    await _seed(isolated_env / "chatref.sqlite")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([CHATREF, "retention", *args], capture_output=True, text=True,
                              timeout=60, env=dict(os.environ), check=False)

    refused = run()
    assert refused.returncode == 2 and "CHATREF_RETENTION_DAYS" in refused.stderr
    assert run("--days", "30", "--json").stdout.strip() == json.dumps({"deleted": 1, "days": 30})
    monkeypatch.setenv("CHATREF_RETENTION_DAYS", "7")
    result = run()
    assert result.returncode == 0 and "deleted 1 conversation(s)" in result.stdout
    assert _remaining(isolated_env / "chatref.sqlite")[0] == {"now"}


async def test_the_web_app_applies_retention_in_the_background(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _seed(isolated_env / "chatref.sqlite")
    monkeypatch.setenv("CHATREF_RETENTION_DAYS", "30")
    app = create_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            for _ in range(100):
                listed = (await http.get("/api/conversations")).json()["conversations"]
                if [c["title"] for c in listed] == ["now"]:
                    break
                await asyncio.sleep(0.05)
            assert [c["title"] for c in listed] == ["now"]
