"""Every ConversationStore implementation, built the way the composition root builds it.

``open_store`` (a factory) opens another instance on the same data: a second SQLite connection to
the same file, or a second client on the same Azure table (what a second App Service instance
does), so the contract suite can check what instances sharing one truth must agree on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from chatref.store import ConversationStore, SqliteConversationStore
from chatref.store.table_store import TableConversationStore
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
