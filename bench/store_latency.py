"""Conversation store latency: append a turn, list a user's conversations, read one conversation.

    .venv/bin/python bench/store_latency.py [--turns 400] [--conversations 40] [--json]

Each ConversationStore implementation is driven through its Protocol, one call at a time, as the
chat flow drives it: SQLite (a WAL file in a temporary folder, synchronous=FULL, so every write
waits for its fsync) and Azure Table Storage on Azurite (started here on 127.0.0.1 with
--disableTelemetry; requests over loopback HTTP, signed with the development account key).
Azurite is an emulator: its latency is neither Azure's (add the network round trip to the region
and the service's own time) nor a lower bound, but it measures what the client side costs.

Per store: ``--turns`` append_turn calls spread over ``--conversations`` conversations of one
user (a realistic turn: a 600-character answer with 5 citations of 1,200 characters), then 200
list_conversations (first page of 50) and 200 get_messages of a ten-turn conversation.
Quoted: p50 and p99 wall time in milliseconds, the median CPU time this (client) process spent
per call (the rest is waiting: for the disk, or for Azurite, a separate process), and the load
average.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from chatref.store import (  # noqa: E402
    Citation,
    ConversationStore,
    NewAnswer,
    SqliteConversationStore,
)
from chatref.store.table_store import TableConversationStore  # noqa: E402
from chatref.store.types import new_id  # noqa: E402
from tests.fakes.azurite import start_azurite  # noqa: E402

ANSWER = ("Backups are kept for 35 days and restored from the vault in another region [1]. " * 8)
CITATIONS = [Citation(n, f"chunk{n}", "doc", "docs/ops.md", "Operations", None,
                            "Backups", "passage text " * 92) for n in range(1, 6)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


CPU_MS: list[float] = []  # this process's CPU time per call (client side; threads included)


async def timed(samples: list[float], call: Callable[[], Awaitable[object]]) -> None:
    started, cpu = time.perf_counter(), time.process_time()
    await call()
    samples.append((time.perf_counter() - started) * 1000)
    CPU_MS.append((time.process_time() - cpu) * 1000)


async def measure(store: ConversationStore, turns: int, conversations: int) -> dict[str, object]:
    user = "bench-user"
    ids = [new_id() for _ in range(conversations)]
    append: list[float] = []
    CPU_MS.clear()
    for n in range(turns):
        conversation_id = ids[n % conversations]
        first = n < conversations

        async def turn(conversation_id: str = conversation_id, first: bool = first,
                       n: int = n) -> object:
            return await store.append_turn(
                user, conversation_id, question=f"Question {n} about backups?",
                question_id=new_id(), answer=NewAnswer(ANSWER, "complete", citations=CITATIONS),
                new_title="Backups" if first else None,
            )

        await timed(append, turn)
    append_cpu = CPU_MS[:]
    CPU_MS.clear()
    listing: list[float] = []
    for _ in range(200):
        await timed(listing, lambda: store.list_conversations(user, limit=50))
    listing_cpu = CPU_MS[:]
    CPU_MS.clear()
    reading: list[float] = []
    for _ in range(200):
        await timed(reading, lambda: store.get_messages(user, ids[0]))
    reading_cpu = CPU_MS[:]

    def summary(samples: list[float], cpu: list[float]) -> dict[str, float]:
        return {"p50_ms": round(statistics.median(samples), 2),
                "p99_ms": round(percentile(samples, 99), 2),
                "client_cpu_p50_ms": round(statistics.median(cpu), 2), "n": len(samples)}

    return {"append_turn": summary(append, append_cpu),
            "list_conversations": summary(listing, listing_cpu),
            "get_messages_20": summary(reading, reading_cpu)}


async def run(turns: int, conversations: int) -> dict[str, object]:
    results: dict[str, object] = {"load_average": [round(x, 2) for x in os.getloadavg()],
                                  "turns": turns, "conversations": conversations}
    with tempfile.TemporaryDirectory() as folder:
        sqlite = await SqliteConversationStore.open(Path(folder) / "chatref.sqlite")
        try:
            results["sqlite"] = await measure(sqlite, turns, conversations)
        finally:
            await sqlite.aclose()
        with start_azurite(Path(folder) / "azurite", ("table",)) as azurite:
            table = await TableConversationStore.open(
                table="bench", endpoint=azurite.table_url,
                connection_string=azurite.connection_string,
            )
            try:
                results["azure_table_on_azurite"] = await measure(table, turns, conversations)
            finally:
                await table.aclose()
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=400)
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = asyncio.run(run(args.turns, args.conversations))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"load average at start {results['load_average']}, "
          f"after {results['load_average_after']}")
    print(f"{'store':<24} {'operation':<20} {'p50 ms':>8} {'p99 ms':>8} {'cpu ms':>8} {'n':>5}")
    for store in ("sqlite", "azure_table_on_azurite"):
        figures = results[store]
        assert isinstance(figures, dict)
        for operation, summary in figures.items():
            print(f"{store:<24} {operation:<20} {summary['p50_ms']:>8} {summary['p99_ms']:>8} "
                  f"{summary['client_cpu_p50_ms']:>8} {summary['n']:>5}")


if __name__ == "__main__":
    main()
