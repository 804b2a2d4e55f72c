"""The SQLite conversation store on real files: schema, cascades, durability settings, migrations.

What every store must do is in test_contract.py (run against SQLite too)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatref.errors import NotFoundError, StoreError
from chatref.store import Citation, NewAnswer, SqliteConversationStore
from chatref.store.migrations import MIGRATIONS
from tests.store.conftest import start_conversation


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteConversationStore]:
    store = await SqliteConversationStore.open(tmp_path / "db" / "chatref.sqlite")
    yield store
    await store.aclose()


def _citation(number: int) -> Citation:
    return Citation(
        number=number, chunk_id=f"c{number}", doc_id="d1", source="docs/keys.md",
        title="Keys", page=None, section="Rotation", text=f"passage {number}",
    )


async def test_rename_and_delete_cascade(store: SqliteConversationStore, tmp_path: Path) -> None:
    conversation, answer = await start_conversation(
        store, "alice", "old",
        answer=NewAnswer(content="a [1]", status="complete", citations=[_citation(1)]),
    )
    await store.set_feedback("alice", answer.id, "up", "useful")
    renamed = await store.rename_conversation("alice", conversation.id, "new")
    assert renamed.title == "new"
    await store.delete_conversation("alice", conversation.id)
    with pytest.raises(NotFoundError):
        await store.get_conversation("alice", conversation.id)
    conn = sqlite3.connect(tmp_path / "db" / "chatref.sqlite")
    try:
        for table in ("messages", "citations", "feedback"):
            assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == (0,), table  # noqa: S608
    finally:
        conn.close()


async def test_durability_pragmas_and_recorded_migrations(tmp_path: Path) -> None:
    path = tmp_path / "chatref.sqlite"
    store = await SqliteConversationStore.open(path)
    try:
        journal = await store._run(lambda c: c.execute("PRAGMA journal_mode").fetchone()[0])
        synchronous = await store._run(lambda c: c.execute("PRAGMA synchronous").fetchone()[0])
    finally:
        await store.aclose()
    assert journal == "wal"
    assert synchronous == 2  # FULL
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
    finally:
        conn.close()
    assert names == MIGRATIONS.names()
    # Reopening applies nothing twice.
    store = await SqliteConversationStore.open(path)
    await store.aclose()


def test_migrate_applies_only_pending_migrations_in_order() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    first_name = MIGRATIONS.names()[0]
    conn.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
    conn.execute("BEGIN")
    conn.execute("CREATE TABLE conversations (id TEXT)")  # what m001 made, as far as m002 cares
    conn.execute("CREATE TABLE messages (id TEXT PRIMARY KEY)")
    conn.execute("INSERT INTO _migrations VALUES (?, 0)", (first_name,))
    conn.execute("COMMIT")
    assert MIGRATIONS.apply(conn) == MIGRATIONS.names()[1:]
    assert MIGRATIONS.apply(conn) == []


def test_a_failing_migration_leaves_no_trace() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE conversations (id TEXT)")  # collides with m001
    with pytest.raises(sqlite3.OperationalError):
        MIGRATIONS.apply(conn)
    assert conn.execute("SELECT COUNT(*) FROM _migrations").fetchone() == (0,)


async def test_unopenable_path_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot be opened"):
        await SqliteConversationStore.open(blocker / "chatref.sqlite")


async def test_append_turn_to_an_unknown_conversation_writes_nothing(
    store: SqliteConversationStore, tmp_path: Path,
) -> None:
    with pytest.raises(NotFoundError):
        await store.append_turn("alice", "nope", question="q", question_id="q-1",
                                answer=NewAnswer("a", "complete"))
    other, _ = await start_conversation(store, "bob", "bob's")
    with pytest.raises(NotFoundError):
        await store.append_turn("alice", other.id, question="q", question_id="q-1",
                                answer=NewAnswer("a", "complete"))
    conn = sqlite3.connect(tmp_path / "db" / "chatref.sqlite")
    try:
        assert conn.execute("SELECT COUNT(*) FROM messages").fetchone() == (2,)
    finally:
        conn.close()
