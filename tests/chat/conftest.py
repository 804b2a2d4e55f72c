from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatref.store import SqliteConversationStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteConversationStore]:
    store = await SqliteConversationStore.open(tmp_path / "chatref.sqlite")
    yield store
    await store.aclose()
