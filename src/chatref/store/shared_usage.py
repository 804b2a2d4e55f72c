"""A daily token budget that every instance counts together (Azure Table Storage).

``InProcessUsageLimits`` (quota.py) counts in one process: with N instances a user could spend N
budgets a day. ``SharedBudgetUsageLimits`` keeps the same Protocol and the same messages, but the
daily token total lives in a ``TokenLedger``, which the Table conversation store implements (one
entity per user and UTC day, in the user's partition, incremented under its ETag).

What stays per instance, on purpose: the per-minute limits and the concurrent-stream slots. They
protect an instance's own capacity and a burst is short, so counting them in a shared store would
add a storage round trip (and its failure mode) to every request for little gain; with App
Service's session affinity a user's requests mostly reach one instance anyway. The token budget is
cost control over a whole day, where "N times the budget" is the failure that matters. Example::

    usage = SharedBudgetUsageLimits(InProcessUsageLimits(per_minute=20, max_streams=3),
                                    daily_tokens=200_000)
    usage.bind(table_store)     # once the store is open (the web app's lifespan does this)
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from chatref.errors import ConfigurationError, RateLimitedError
from chatref.quota import UsageLimits, seconds_to_utc_midnight


@runtime_checkable
class TokenLedger(Protocol):
    """Tokens charged to a user per UTC day (``day`` is an ISO date), shared by all instances."""

    async def tokens_used(self, user_id: str, day: str) -> int: ...

    async def add_tokens(self, user_id: str, day: str, tokens: int) -> int:
        """Add ``tokens``; return the new total. Concurrent adds are never lost."""
        ...


class SharedBudgetUsageLimits:
    """``UsageLimits``: the daily token budget in a shared ledger, the rest in ``inner``."""

    def __init__(self, inner: UsageLimits, *, daily_tokens: int) -> None:
        self._inner = inner
        self.daily_tokens = daily_tokens
        self._ledger: TokenLedger | None = None

    def bind(self, ledger: TokenLedger) -> None:
        self._ledger = ledger

    def _require_ledger(self) -> TokenLedger:
        if self._ledger is None:
            raise ConfigurationError("the shared token budget has no ledger (not bound yet)")
        return self._ledger

    async def admit(self, user_id: str, *, new_conversation: bool) -> None:
        used = await self._require_ledger().tokens_used(user_id, _today())
        if used >= self.daily_tokens:
            raise RateLimitedError(
                f"daily_token_quota: the daily budget of {self.daily_tokens} tokens is used up "
                "(CHATREF_DAILY_TOKEN_QUOTA); it starts again at midnight UTC",
                limit="daily_token_quota", retry_after_s=seconds_to_utc_midnight())
        await self._inner.admit(user_id, new_conversation=new_conversation)

    def stream(self, user_id: str) -> AbstractAsyncContextManager[None]:
        return self._inner.stream(user_id)

    async def record_tokens(self, user_id: str, tokens: int) -> None:
        if tokens > 0:
            await self._require_ledger().add_tokens(user_id, _today(), tokens)


def _today() -> str:
    return datetime.now(UTC).date().isoformat()
