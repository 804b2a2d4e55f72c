"""The shared daily token budget on Table Storage (Azurite): instances add to one total."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from chatref.errors import RateLimitedError
from chatref.quota import InProcessUsageLimits
from chatref.store.shared_usage import SharedBudgetUsageLimits, TokenLedger
from chatref.store.table_store import TableConversationStore
from tests.fakes.azurite import Azurite, azurite  # noqa: F401


@pytest.fixture
async def two_stores(
    azurite: Azurite,  # noqa: F811
) -> AsyncIterator[tuple[TableConversationStore, TableConversationStore]]:
    table = azurite.unique_name("budget")
    stores = [await TableConversationStore.open(
        table=table, endpoint=azurite.table_url, connection_string=azurite.connection_string)
        for _ in range(2)]
    yield stores[0], stores[1]
    for store in stores:
        await store.aclose()


async def test_concurrent_adds_from_two_instances_are_all_counted(
    two_stores: tuple[TableConversationStore, TableConversationStore],
) -> None:
    one, two = two_stores
    assert isinstance(one, TokenLedger)
    assert await one.tokens_used("alice", "2026-12-03") == 0
    await asyncio.gather(*(
        (one if n % 2 else two).add_tokens("alice", "2026-12-03", 10) for n in range(12)))
    assert await two.tokens_used("alice", "2026-12-03") == 120
    assert await one.tokens_used("alice", "2026-12-04") == 0
    assert await one.tokens_used("a/b", "2026-12-03") == 0
    # the budget rows are not conversations
    assert (await one.list_conversations("alice")).conversations == []


async def test_a_budget_spent_on_one_instance_is_spent_on_the_other(
    two_stores: tuple[TableConversationStore, TableConversationStore],
) -> None:
    instances = []
    for store in two_stores:
        usage = SharedBudgetUsageLimits(
            InProcessUsageLimits(per_minute=100, max_streams=2), daily_tokens=100)
        usage.bind(store)
        instances.append(usage)
    a, b = instances
    await a.admit("alice", new_conversation=True)
    await a.record_tokens("alice", 60)
    await b.admit("alice", new_conversation=False)
    await b.record_tokens("alice", 60)
    for usage in (a, b):
        with pytest.raises(RateLimitedError, match="daily_token_quota") as refused:
            await usage.admit("alice", new_conversation=False)
        assert refused.value.retry_after_s >= 1
    await a.admit("bob", new_conversation=True)  # per user
    async with b.stream("alice"):  # the stream slots are the inner limits'
        pass


async def test_an_unbound_budget_is_a_configuration_error() -> None:
    from chatref.errors import ConfigurationError

    usage = SharedBudgetUsageLimits(InProcessUsageLimits(per_minute=1, max_streams=1),
                                    daily_tokens=1)
    with pytest.raises(ConfigurationError, match="ledger"):
        await usage.admit("alice", new_conversation=False)


async def test_retention_expires_budget_rows_of_earlier_days(
    two_stores: tuple[TableConversationStore, TableConversationStore],
) -> None:
    import time

    store, _ = two_stores
    await store.add_tokens("alice", "2020-01-01", 5)
    await store.add_tokens("b/ob", "2020-01-02", 7)
    today = time.strftime("%Y-%m-%d", time.gmtime())
    await store.add_tokens("alice", today, 9)
    assert await store.delete_conversations_older_than(time.time()) == 0
    assert await store.tokens_used("alice", "2020-01-01") == 0
    assert await store.tokens_used("b/ob", "2020-01-02") == 0
    assert await store.tokens_used("alice", today) == 9
