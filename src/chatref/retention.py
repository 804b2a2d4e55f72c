"""Retention: conversations last active more than ``CHATREF_RETENTION_DAYS`` ago are deleted,
by ``chatref retention`` and by a background task in the web app (hourly).

Every ``ConversationStore`` implements ``delete_conversations_older_than`` (SQLite and Table
Storage alike). Example::

    deleted = await apply_retention(store, days=90)
"""

from __future__ import annotations

import asyncio
import logging
import time

from chatref.store.types import ConversationStore

log = logging.getLogger(__name__)
DAY_S = 86_400.0


async def apply_retention(
    store: ConversationStore, *, days: int, now_s: float | None = None
) -> int:
    """Delete conversations idle for more than ``days`` days; return how many went."""
    cutoff = (time.time() if now_s is None else now_s) - days * DAY_S
    deleted = await store.delete_conversations_older_than(cutoff)
    if deleted:
        log.info("retention: deleted %d conversations idle for more than %d days", deleted, days)
    return deleted


async def retention_loop(
    store: ConversationStore, *, days: int, interval_s: float = 3600.0
) -> None:
    """Apply retention now and then every ``interval_s`` until cancelled; failures are logged
    and retried at the next interval (a store outage must not stop the web app)."""
    while True:
        try:
            await apply_retention(store, days=days)
        except Exception:
            log.exception("retention: deleting old conversations failed; retrying later")
        await asyncio.sleep(interval_s)
