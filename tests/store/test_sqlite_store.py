"""The SQLite conversation store on real files: schema, scoping, durability settings."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatref.errors import InputError, NotFoundError, StoreError
from chatref.store import NewAnswer, SqliteConversationStore, StoredCitation
from chatref.store.migrations import MIGRATIONS


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteConversationStore]:
    store = await SqliteConversationStore.open(tmp_path / "db" / "chatref.sqlite")
    yield store
    await store.aclose()


def _citation(number: int) -> StoredCitation:
    return StoredCitation(
        number=number, chunk_id=f"c{number}", doc_id="d1", source="docs/keys.md",
        title="Keys", page=None, section="Rotation", text=f"passage {number}",
    )


async def test_a_turn_round_trips_with_citations(store: SqliteConversationStore) -> None:
    conversation = await store.create_conversation("alice", "Key rotation")
    question = await store.append_user_message("alice", conversation.id, "How do I rotate keys?")
    answer = await store.append_answer(
        "alice", conversation.id,
        NewAnswer(content="Rotate them monthly [1].", status="complete", finish_reason="stop",
                  model="gpt", prompt_tokens=120, completion_tokens=8,
                  citations=[_citation(1), _citation(3)]),
    )
    messages = await store.get_messages("alice", conversation.id)
    assert [m.id for m in messages] == [question.id, answer.id]
    assert [m.seq for m in messages] == [1, 2]
    assert messages[0].role == "user" and messages[0].content == "How do I rotate keys?"
    stored = messages[1]
    assert stored.role == "assistant" and stored.status == "complete"
    assert (stored.prompt_tokens, stored.completion_tokens, stored.model) == (120, 8, "gpt")
    assert [c.number for c in stored.citations] == [1, 3]
    assert stored.citations[0] == _citation(1)
    listed = await store.list_conversations("alice")
    assert [(c.id, c.message_count) for c in listed] == [(conversation.id, 2)]


async def test_conversations_are_listed_newest_activity_first(
    store: SqliteConversationStore,
) -> None:
    first = await store.create_conversation("alice", "first")
    second = await store.create_conversation("alice", "second")
    assert [c.title for c in await store.list_conversations("alice")] == ["second", "first"]
    await store.append_user_message("alice", first.id, "bump")
    assert [c.id for c in await store.list_conversations("alice")] == [first.id, second.id]
    assert [c.id for c in await store.list_conversations("alice", limit=1, offset=1)] == [
        second.id
    ]


async def test_another_users_conversation_is_not_found(store: SqliteConversationStore) -> None:
    conversation = await store.create_conversation("alice", "mine")
    answer = await store.append_answer(
        "alice", conversation.id, NewAnswer(content="x", status="extractive")
    )
    assert await store.list_conversations("bob") == []
    with pytest.raises(NotFoundError, match=conversation.id):
        await store.get_messages("bob", conversation.id)
    with pytest.raises(NotFoundError):
        await store.append_user_message("bob", conversation.id, "hi")
    with pytest.raises(NotFoundError):
        await store.rename_conversation("bob", conversation.id, "theirs")
    with pytest.raises(NotFoundError):
        await store.delete_conversation("bob", conversation.id)
    with pytest.raises(NotFoundError, match=answer.id):
        await store.set_feedback("bob", answer.id, "down", None)
    assert (await store.get_conversation("alice", conversation.id)).title == "mine"


async def test_rename_and_delete_cascade(store: SqliteConversationStore, tmp_path: Path) -> None:
    conversation = await store.create_conversation("alice", "old")
    answer = await store.append_answer(
        "alice", conversation.id,
        NewAnswer(content="a [1]", status="complete", citations=[_citation(1)]),
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


async def test_feedback_is_one_per_answer_and_only_on_answers(
    store: SqliteConversationStore,
) -> None:
    conversation = await store.create_conversation("alice", "t")
    question = await store.append_user_message("alice", conversation.id, "q")
    answer = await store.append_answer("alice", conversation.id, NewAnswer("a", "complete"))
    await store.set_feedback("alice", answer.id, "up", None)
    await store.set_feedback("alice", answer.id, "down", "wrong source")
    messages = await store.get_messages("alice", conversation.id)
    feedback = messages[1].feedback
    assert feedback is not None and (feedback.rating, feedback.comment) == ("down", "wrong source")
    assert messages[0].feedback is None
    with pytest.raises(InputError, match="rate answers only"):
        await store.set_feedback("alice", question.id, "up", None)
    with pytest.raises(NotFoundError):
        await store.set_feedback("alice", "nope", "up", None)


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


async def test_writable_check_passes_on_a_healthy_file(store: SqliteConversationStore) -> None:
    await store.check_writable()
    await store.check_writable()


async def test_unopenable_path_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot be opened"):
        await SqliteConversationStore.open(blocker / "chatref.sqlite")


async def test_append_turn_stores_question_and_answer_in_one_write(
    store: SqliteConversationStore,
) -> None:
    answer = await store.append_turn(
        "alice", "conv-1", question="How?", question_id="q-1",
        answer=NewAnswer("Like this [1].", "complete", citations=[_citation(1)]),
        new_title="How?",
    )
    messages = await store.get_messages("alice", "conv-1")
    assert [(m.id, m.role, m.seq) for m in messages] == [
        ("q-1", "user", 1), (answer.id, "assistant", 2)]
    assert messages[1].citations == (_citation(1),)
    assert (await store.get_conversation("alice", "conv-1")).title == "How?"
    await store.append_turn("alice", "conv-1", question="And?", question_id="q-2",
                            answer=NewAnswer("More.", "extractive"))
    assert [m.seq for m in await store.get_messages("alice", "conv-1")] == [1, 2, 3, 4]


async def test_append_turn_to_an_unknown_conversation_writes_nothing(
    store: SqliteConversationStore, tmp_path: Path,
) -> None:
    with pytest.raises(NotFoundError):
        await store.append_turn("alice", "nope", question="q", question_id="q-1",
                                answer=NewAnswer("a", "complete"))
    other = await store.create_conversation("bob", "bob's")
    with pytest.raises(NotFoundError):
        await store.append_turn("alice", other.id, question="q", question_id="q-1",
                                answer=NewAnswer("a", "complete"))
    conn = sqlite3.connect(tmp_path / "db" / "chatref.sqlite")
    try:
        assert conn.execute("SELECT COUNT(*) FROM messages").fetchone() == (0,)
    finally:
        conn.close()
