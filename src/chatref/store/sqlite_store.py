"""The embedded conversation store: one SQLite file in WAL mode.

Durability: ``synchronous=FULL`` makes every commit fsync the write-ahead log, so a write whose
coroutine has returned survives ``kill -9`` of the server (and a power cut). The writer connection
lives on one dedicated thread, so the event loop never waits on the disk and SQLite sees one
writer; reads use a second connection on a second thread, so they never queue behind an fsync
(WAL lets them run beside the writer). A write already handed to its thread completes even if the
awaiting task is cancelled (a client that disconnects mid-answer still gets its answer stored).

For example (an illustration, not run as a doctest)::

    store = await SqliteConversationStore.open(Path("data/chatref.sqlite"))
    await store.append_turn("local", new_id(), question="How do I rotate keys?",
                            question_id=new_id(), answer=NewAnswer("Monthly [1].", "complete"),
                            new_title="Key rotation")
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar, cast

from chatref import sqlitedb
from chatref.errors import ConflictError, InputError, NotFoundError, StoreError
from chatref.store.migrations import MIGRATIONS
from chatref.store.types import (
    Citation,
    Conversation,
    ConversationPage,
    MessageRole,
    MessageStatus,
    NewAnswer,
    Rating,
    StoredFeedback,
    StoredMessage,
    new_id,
)

T = TypeVar("T")
_CURSOR_PREFIX = "o"  # a SQLite cursor is the offset of the next page: "o50"

_CONVERSATION_COLUMNS = (
    "c.id, c.user_id, c.title, c.created_at, c.updated_at, "
    "(SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id)"
)


def _offset_from_cursor(cursor: str | None) -> int:
    if cursor is None:
        return 0
    digits = cursor.removeprefix(_CURSOR_PREFIX)
    if not cursor.startswith(_CURSOR_PREFIX) or not digits.isdigit() or len(digits) > 9:
        raise InputError(f"cursor: {cursor[:40]!r} is not a cursor this store returned")
    return int(digits)


class SqliteConversationStore:
    """Conversations, messages, citations and feedback in one SQLite file."""

    def __init__(
        self, path: Path, executor: ThreadPoolExecutor, conn: sqlite3.Connection,
        reader_executor: ThreadPoolExecutor, reader_conn: sqlite3.Connection,
    ) -> None:
        self.path = path
        self._executor = executor
        self._conn = conn
        self._reader_executor = reader_executor
        self._reader_conn = reader_conn

    @property
    def backend(self) -> dict[str, str]:
        return {"kind": "sqlite", "path": str(self.path)}

    @classmethod
    async def open(cls, path: Path) -> SqliteConversationStore:
        """Open (creating and migrating if needed) the database at ``path``."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chatref-store")
        reader_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chatref-store-r")

        def connect() -> sqlite3.Connection:
            conn = sqlitedb.connect(path, synchronous="FULL", busy_timeout_s=5.0)
            try:
                MIGRATIONS.apply(conn)
            except BaseException:
                conn.close()
                raise
            return conn

        def connect_reader() -> sqlite3.Connection:
            return sqlitedb.connect(path, busy_timeout_s=5.0, create=False)

        loop = asyncio.get_running_loop()
        try:
            conn = await loop.run_in_executor(executor, connect)
            reader_conn = await loop.run_in_executor(reader_executor, connect_reader)
        except (sqlite3.Error, OSError) as exc:
            executor.shutdown(wait=False)
            reader_executor.shutdown(wait=False)
            raise StoreError(f"conversation store {path} cannot be opened: {exc}") from exc
        except BaseException:
            executor.shutdown(wait=False)
            reader_executor.shutdown(wait=False)
            raise
        return cls(path, executor, conn, reader_executor, reader_conn)

    async def _run(self, fn: Callable[[sqlite3.Connection], T], *, read: bool = False) -> T:
        conn = self._reader_conn if read else self._conn

        def call() -> T:
            try:
                return fn(conn)
            except sqlite3.Error as exc:
                raise StoreError(f"conversation store {self.path}: {exc}") from exc

        executor = self._reader_executor if read else self._executor
        return await asyncio.get_running_loop().run_in_executor(executor, call)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in one read transaction (a consistent snapshot)."""

        def snapshot(conn: sqlite3.Connection) -> T:
            conn.execute("BEGIN")
            try:
                return fn(conn)
            finally:
                conn.execute("ROLLBACK")

        return await self._run(snapshot, read=True)

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def transaction(conn: sqlite3.Connection) -> T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        return await self._run(transaction)

    # --- conversations --------------------------------------------------------------------

    @staticmethod
    def _conversation(row: tuple[object, ...]) -> Conversation:
        return Conversation(
            id=str(row[0]), user_id=str(row[1]), title=str(row[2]),
            created_at=float(cast(float, row[3])), updated_at=float(cast(float, row[4])),
            message_count=int(cast(int, row[5])),
        )

    @classmethod
    def _fetch_conversation(
        cls, conn: sqlite3.Connection, user_id: str, conversation_id: str
    ) -> Conversation:
        row = conn.execute(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations c WHERE c.id = ? AND c.user_id = ?",  # noqa: S608 - constant columns
            (conversation_id, user_id),
        ).fetchone()
        if row is None:
            raise NotFoundError(f"conversation {conversation_id!r} does not exist")
        return cls._conversation(row)

    async def list_conversations(
        self, user_id: str, *, limit: int = 50, cursor: str | None = None
    ) -> ConversationPage:
        offset = _offset_from_cursor(cursor)

        def list_(conn: sqlite3.Connection) -> ConversationPage:
            rows = conn.execute(
                f"SELECT {_CONVERSATION_COLUMNS} FROM conversations c WHERE c.user_id = ? "  # noqa: S608 - constant columns
                "ORDER BY c.updated_at DESC, c.rowid DESC LIMIT ? OFFSET ?",
                (user_id, limit + 1, offset),
            ).fetchall()
            more = len(rows) > limit
            return ConversationPage(
                [self._conversation(row) for row in rows[:limit]],
                f"{_CURSOR_PREFIX}{offset + limit}" if more else None,
            )

        return await self._read(list_)

    async def get_conversation(self, user_id: str, conversation_id: str) -> Conversation:
        return await self._read(
            lambda conn: self._fetch_conversation(conn, user_id, conversation_id)
        )

    async def rename_conversation(
        self, user_id: str, conversation_id: str, title: str
    ) -> Conversation:
        def rename(conn: sqlite3.Connection) -> Conversation:
            self._fetch_conversation(conn, user_id, conversation_id)
            conn.execute(
                "UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id)
            )
            return self._fetch_conversation(conn, user_id, conversation_id)

        return await self._write(rename)

    async def delete_conversation(self, user_id: str, conversation_id: str) -> None:
        def delete(conn: sqlite3.Connection) -> None:
            self._fetch_conversation(conn, user_id, conversation_id)
            conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

        await self._write(delete)

    async def delete_conversations_older_than(self, cutoff: float) -> int:
        def delete(conn: sqlite3.Connection) -> int:
            cursor = conn.execute("DELETE FROM conversations WHERE updated_at < ?", (cutoff,))
            return int(cursor.rowcount)

        return await self._write(delete)

    # --- messages -------------------------------------------------------------------------

    @staticmethod
    def _insert_message(
        conn: sqlite3.Connection, conversation_id: str, role: MessageRole, content: str,
        status: MessageStatus, finish_reason: str | None = None, model: str | None = None,
        prompt_tokens: int = 0, completion_tokens: int = 0, message_id: str | None = None,
    ) -> StoredMessage:
        now = time.time()
        message_id = message_id or new_id()
        (seq,) = conn.execute(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE conversation_id = ?",
            (conversation_id,),
        ).fetchone()
        conn.execute(
            "INSERT INTO messages (id, conversation_id, seq, role, content, status, finish_reason,"
            " model, prompt_tokens, completion_tokens, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (message_id, conversation_id, seq, role, content, status, finish_reason, model,
             prompt_tokens, completion_tokens, now),
        )
        conn.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id))
        return StoredMessage(
            id=message_id, conversation_id=conversation_id, seq=int(seq), role=role,
            content=content, created_at=now, status=status, finish_reason=finish_reason,
            model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
        )

    @classmethod
    def _insert_answer(
        cls, conn: sqlite3.Connection, conversation_id: str, answer: NewAnswer
    ) -> StoredMessage:
        message = cls._insert_message(
            conn, conversation_id, "assistant", answer.content, answer.status,
            answer.finish_reason, answer.model, answer.prompt_tokens, answer.completion_tokens,
        )
        conn.executemany(
            "INSERT INTO citations (message_id, number, chunk_id, doc_id, source, title, page,"
            " section, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(message.id, c.number, c.chunk_id, c.doc_id, c.source, c.title, c.page,
              c.section, c.text) for c in answer.citations],
        )
        return dataclasses.replace(message, citations=tuple(answer.citations))

    async def append_turn(
        self,
        user_id: str,
        conversation_id: str,
        *,
        question: str,
        question_id: str,
        answer: NewAnswer,
        new_title: str | None = None,
    ) -> StoredMessage:
        def append(conn: sqlite3.Connection) -> StoredMessage:
            if new_title is not None:
                now = time.time()
                conn.execute(
                    "INSERT INTO conversations (id, user_id, title, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (conversation_id, user_id, new_title, now, now),
                )
            else:
                self._fetch_conversation(conn, user_id, conversation_id)
            self._insert_message(conn, conversation_id, "user", question, "complete",
                                 message_id=question_id)
            return self._insert_answer(conn, conversation_id, answer)

        return await self._write(append)

    async def get_messages(self, user_id: str, conversation_id: str) -> list[StoredMessage]:
        def get(conn: sqlite3.Connection) -> list[StoredMessage]:
            self._fetch_conversation(conn, user_id, conversation_id)
            citations: dict[str, list[Citation]] = {}
            for row in conn.execute(
                "SELECT c.message_id, c.number, c.chunk_id, c.doc_id, c.source, c.title, c.page,"
                " c.section, c.text FROM citations c JOIN messages m ON m.id = c.message_id"
                " WHERE m.conversation_id = ? ORDER BY c.message_id, c.number",
                (conversation_id,),
            ):
                citations.setdefault(row[0], []).append(Citation(*row[1:]))
            feedback: dict[str, StoredFeedback] = {}
            for row in conn.execute(
                "SELECT f.message_id, f.rating, f.comment, f.created_at FROM feedback f"
                " JOIN messages m ON m.id = f.message_id WHERE m.conversation_id = ?",
                (conversation_id,),
            ):
                feedback[row[0]] = StoredFeedback(*row)
            rows = conn.execute(
                "SELECT id, conversation_id, seq, role, content, created_at, status, finish_reason,"
                " model, prompt_tokens, completion_tokens FROM messages"
                " WHERE conversation_id = ? ORDER BY seq",
                (conversation_id,),
            ).fetchall()
            return [
                StoredMessage(
                    id=row[0], conversation_id=row[1], seq=row[2], role=row[3], content=row[4],
                    created_at=row[5], status=row[6], finish_reason=row[7], model=row[8],
                    prompt_tokens=row[9], completion_tokens=row[10],
                    citations=tuple(citations.get(row[0], ())), feedback=feedback.get(row[0]),
                )
                for row in rows
            ]

        return await self._read(get)

    # --- feedback -------------------------------------------------------------------------

    async def set_feedback(
        self, user_id: str, message_id: str, rating: Rating, comment: str | None
    ) -> StoredFeedback:
        def set_(conn: sqlite3.Connection) -> StoredFeedback:
            row = conn.execute(
                "SELECT m.role FROM messages m JOIN conversations c ON c.id = m.conversation_id"
                " WHERE m.id = ? AND c.user_id = ?",
                (message_id, user_id),
            ).fetchone()
            if row is None:
                raise NotFoundError(f"message {message_id!r} does not exist")
            if row[0] != "assistant":
                raise ConflictError(f"message {message_id!r} is a question; rate answers only")
            now = time.time()
            conn.execute(
                "INSERT INTO feedback (message_id, rating, comment, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (message_id) DO UPDATE SET rating = excluded.rating,"
                " comment = excluded.comment, created_at = excluded.created_at",
                (message_id, rating, comment, now),
            )
            return StoredFeedback(message_id, rating, comment, now)

        return await self._write(set_)

    # --- health and lifecycle ---------------------------------------------------------------

    async def check_writable(self) -> None:
        def check(conn: sqlite3.Connection) -> None:
            # A real, committed write: a read-only file or a full disk fails here.
            conn.execute(
                "INSERT INTO _health (id, checked_at) VALUES (1, ?)"
                " ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
                (time.time(),),
            )

        await self._write(check)

    async def aclose(self) -> None:
        try:
            await self._run(lambda conn: conn.close(), read=True)
            await self._run(lambda conn: conn.close())
        finally:
            self._reader_executor.shutdown(wait=True)
            self._executor.shutdown(wait=True)
