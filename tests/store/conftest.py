"""Every ConversationStore implementation, built the way the composition root builds it.

``open_store`` (a factory) opens another instance on the same data: a second SQLite connection to
the same file, or a second client on the same Azure table (what a second App Service instance
does), so the contract suite can check what instances sharing one truth must agree on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from chatref.store import ConversationStore, NewAnswer, SqliteConversationStore
from chatref.store.table_store import TableConversationStore
from chatref.store.types import Conversation, StoredMessage, new_id
from tests.fakes.azurite import Azurite, azurite  # noqa: F401

StoreFactory = Callable[[], Awaitable[ConversationStore]]


@pytest.fixture(params=["sqlite", "table"])
async def open_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[StoreFactory]:
    opened: list[ConversationStore] = []
    if request.param == "sqlite":
        path = tmp_path / "db" / "chatref.sqlite"

        async def factory() -> ConversationStore:
            store = await SqliteConversationStore.open(path)
            opened.append(store)
            return store
    else:
        server: Azurite = request.getfixturevalue("azurite")
        table = server.unique_name("conv")

        async def factory() -> ConversationStore:
            store = await TableConversationStore.open(
                table=table, endpoint=server.table_url,
                connection_string=server.connection_string,
            )
            opened.append(store)
            return store

    yield factory
    for store in opened:
        await store.aclose()


@pytest.fixture
async def store(open_store: StoreFactory) -> ConversationStore:
    return await open_store()


async def start_conversation(
    store: ConversationStore, user_id: str, title: str, *, question: str = "q",
    question_id: str | None = None, answer: NewAnswer | None = None,
) -> tuple[Conversation, StoredMessage]:
    """A new conversation with its first turn, written as the chat flow writes it (one
    ``append_turn``): the conversation and the stored answer."""
    conversation_id = new_id()
    stored = await store.append_turn(
        user_id, conversation_id, question=question, question_id=question_id or new_id(),
        answer=answer or NewAnswer("a", "complete"), new_title=title,
    )
    return await store.get_conversation(user_id, conversation_id), stored
