"""Per-user abuse and cost protection: chat turns and new conversations a minute, streams at
once, and a daily token budget (the production guide's cost control, at the user level).

``UsageLimits`` is the seam: ``InProcessUsageLimits`` keeps its counters in this process with
the maintained ``limits`` library (a moving window for the per-minute limits, a fixed window
keyed by the UTC date for tokens). With N instances behind a load balancer each counts alone,
so a user can get up to N times a limit. With Table Storage configured, the daily token budget is
counted once for all instances (``store.shared_usage.SharedBudgetUsageLimits``); the per-minute
limits and stream slots stay per instance, which that module's docstring explains. Example::

    usage = InProcessUsageLimits(per_minute=20, max_streams=3, daily_tokens=200_000)
    async with usage.stream(user_id):                   # at most max_streams at once
        await usage.admit(user_id, new_conversation=True)   # RateLimitedError names the limit
        ...
    await usage.record_tokens(user_id, 1234)            # after the turn, from its usage
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Protocol

from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from chatref.errors import RateLimitedError


class UsageLimits(Protocol):
    """The per-user limits a chat request passes before it is answered."""

    async def admit(self, user_id: str, *, new_conversation: bool) -> None:
        """Count one chat turn (and a new conversation); ``RateLimitedError`` when over."""
        ...

    def stream(self, user_id: str) -> AbstractAsyncContextManager[None]:
        """Hold one of the user's concurrent-stream slots while an answer is produced
        (``RateLimitedError`` when all are taken)."""
        ...

    async def record_tokens(self, user_id: str, tokens: int) -> None:
        """Charge a finished turn's tokens to the user's daily budget."""
        ...


def seconds_to_utc_midnight(now: datetime | None = None) -> int:
    """When the daily token budget starts again.

    >>> seconds_to_utc_midnight(datetime(2026, 1, 1, 23, 59, 30, tzinfo=UTC))
    30
    """
    now = now or datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, math.ceil((midnight - now).total_seconds()))


class InProcessUsageLimits:
    """``UsageLimits`` counted in this process (see the module docstring)."""

    def __init__(self, *, per_minute: int, max_streams: int,
                 daily_tokens: int | None = None) -> None:
        storage = MemoryStorage()
        self._moving = MovingWindowRateLimiter(storage)
        self._fixed = FixedWindowRateLimiter(storage)
        self._per_minute: RateLimitItem = RateLimitItemPerMinute(per_minute)
        self._daily: RateLimitItem | None = (
            RateLimitItemPerDay(daily_tokens) if daily_tokens else None)
        self.per_minute = per_minute
        self.max_streams = max_streams
        self.daily_tokens = daily_tokens
        self._streams: dict[str, int] = {}

    async def admit(self, user_id: str, *, new_conversation: bool) -> None:
        if self._daily is not None and not await self._fixed.test(
                self._daily, "tokens", user_id, _today()):
            raise RateLimitedError(
                f"daily_token_quota: the daily budget of {self.daily_tokens} tokens is used up "
                "(CHATREF_DAILY_TOKEN_QUOTA); it starts again at midnight UTC",
                limit="daily_token_quota", retry_after_s=seconds_to_utc_midnight())
        if new_conversation:
            await self._hit("conversations", user_id, "new conversations")
        await self._hit("chat_turns", user_id, "chat turns")

    async def _hit(self, limit: str, user_id: str, what: str) -> None:
        if await self._moving.hit(self._per_minute, limit, user_id):
            return
        stats = await self._moving.get_window_stats(self._per_minute, limit, user_id)
        raise RateLimitedError(
            f"{limit}: at most {self.per_minute} {what} a minute per user "
            "(CHATREF_RATE_LIMIT_PER_MINUTE)", limit=limit,
            retry_after_s=max(1, math.ceil(stats.reset_time - time.time())))

    @asynccontextmanager
    async def stream(self, user_id: str) -> AsyncIterator[None]:
        # No await between the check and the count: two requests cannot both take the last slot.
        if self._streams.get(user_id, 0) >= self.max_streams:
            raise RateLimitedError(
                f"concurrent_streams: at most {self.max_streams} answers at once per user "
                "(CHATREF_MAX_CONCURRENT_STREAMS); wait for one to finish",
                limit="concurrent_streams", retry_after_s=1)
        self._streams[user_id] = self._streams.get(user_id, 0) + 1
        try:
            yield
        finally:
            left = self._streams[user_id] - 1
            if left:
                self._streams[user_id] = left
            else:
                del self._streams[user_id]

    async def record_tokens(self, user_id: str, tokens: int) -> None:
        if self._daily is not None and tokens > 0:
            await self._fixed.hit(self._daily, "tokens", user_id, _today(), cost=tokens)

    def active_streams(self, user_id: str) -> int:
        return self._streams.get(user_id, 0)


def _today() -> str:
    return datetime.now(UTC).date().isoformat()
