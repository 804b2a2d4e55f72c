"""Model resilience benchmark: 1,000 chats per fault scenario through the router.

Three fake regions run as separate processes (tests/fakes/openai_server.py, 127.0.0.1), each
answering a fixed 20-word stream as fast as it can, so the figures are the router's own cost.
For each scenario the primary (priority 1) is given a fault through the fake's admin API and
the chats run one after the other through a fresh two-region router, each one paired with a chat
through a router over a single healthy endpoint (the third region): the machine is shared and
noisy, and pairing makes both see the same noise. Reported per scenario:

- success rate (a chat succeeds when it ends with ModelDone);
- time to first token and total time, p50/p99, and what the fault added to them compared with
  a healthy single endpoint (overall, and for the chats after the primary's circuit first
  opened);
- the requests the primary received, classified by the state of its circuit at that moment
  (closed, half-open = probes, open = should never happen).

Run:  .venv/bin/python bench/failover.py [--chats 1000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from bisect import bisect_right
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from chatref.errors import ModelError
from chatref.llm.base import ChatMessage, ModelDelta, ModelDone
from chatref.llm.config import EndpointConfig
from chatref.llm.factory import build_router
from chatref.llm.router import RouterPolicy
from chatref.telemetry import Telemetry

ROOT = Path(__file__).resolve().parent.parent
ANSWER = ("The primary region answers with twenty words so that every chat streams a realistic "
          "number of chunks through the router [1].")
PROMPT = [ChatMessage("system", "Answer from the sources."),
          ChatMessage("user", "How does chatref fail over between regions?")]
POLICY = RouterPolicy(open_s=2.0, max_open_s=8.0)  # production defaults, shorter open period
FIRST_TOKEN_TIMEOUT_S = 1.0


class FakeRegion:
    """A fake region in its own process, scripted through its admin API."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.openai_server", "--port", "0",
             "--answer", ANSWER, "--model-family", "reasoning"],
            cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        self.url = line.split(" on ")[1].split(" ")[0]
        self.admin = httpx.Client(base_url=self.url, timeout=10)

    def behave(self, **behaviour: Any) -> None:
        self.admin.post("/_fake/reset").raise_for_status()
        self.admin.post("/_fake/default", json=behaviour).raise_for_status()

    def received_at(self) -> list[float]:
        response = self.admin.get("/_fake/requests")
        return sorted(r["received_at"] for r in response.json()["requests"])

    def close(self) -> None:
        self.admin.close()
        self.process.terminate()
        self.process.wait(timeout=10)


class RecordingTelemetry(Telemetry):
    """Telemetry that also keeps a timeline of circuit transitions (wall clock)."""

    def __init__(self) -> None:
        super().__init__()
        self.transitions: list[tuple[float, str, str]] = []

    def circuit_state(self, endpoint: str, state: str) -> None:
        super().circuit_state(endpoint, state)
        self.transitions.append((time.time(), endpoint, state))


@dataclass
class Chat:
    ok: bool
    ttft_s: float | None
    total_s: float
    started_at: float
    endpoint: str | None
    error: str | None


@dataclass
class ScenarioResult:
    name: str
    fault: str
    chats: int
    baseline_ttft_p50_ms: float
    baseline_ttft_p99_ms: float
    success_rate: float
    ttft_p50_ms: float
    ttft_p99_ms: float
    total_p50_ms: float
    total_p99_ms: float
    added_ttft_p50_ms: float
    added_ttft_p99_ms: float
    added_ttft_p99_after_open_ms: float | None
    primary_requests: int
    primary_requests_closed: int
    primary_requests_half_open: int
    primary_requests_open: int
    answered_by: dict[str, int]
    errors: dict[str, int]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def one_chat(router: Any) -> Chat:
    started_wall = time.time()
    started = time.perf_counter()
    ttft: float | None = None
    try:
        async for event in router.stream(PROMPT, max_tokens=100):
            if isinstance(event, ModelDelta) and ttft is None:
                ttft = time.perf_counter() - started
            elif isinstance(event, ModelDone):
                return Chat(True, ttft, time.perf_counter() - started, started_wall,
                            event.endpoint, None)
    except ModelError as exc:
        return Chat(False, ttft, time.perf_counter() - started, started_wall, None,
                    type(exc).__name__)
    return Chat(False, ttft, time.perf_counter() - started, started_wall, None, "no-done")


def config(name: str, url: str, priority: int) -> EndpointConfig:
    return EndpointConfig.model_validate({
        "name": name, "endpoint": url, "deployment": "chat", "model_family": "reasoning",
        "priority": priority,
        "api_key": "bench", "timeout_s": 1.0, "first_token_timeout_s": FIRST_TOKEN_TIMEOUT_S})


def classify(received: list[float], transitions: list[tuple[float, str, str]],
             endpoint: str) -> dict[str, int]:
    timeline = [(t, s) for t, e, s in transitions if e == endpoint]
    times = [t for t, _ in timeline]
    counts = {"closed": 0, "half_open": 0, "open": 0}
    for at in received:
        index = bisect_right(times, at) - 1
        counts[timeline[index][1] if index >= 0 else "closed"] += 1
    return counts


async def run_scenario(name: str, fault: str, regions: list[FakeRegion], chats: int,
                       primary_fault: dict[str, Any],
                       secondary_fault: dict[str, Any]) -> ScenarioResult:
    primary, secondary, healthy = regions
    primary.behave(**primary_fault)
    secondary.behave(**secondary_fault)
    healthy.behave()
    configs = [config("primary", primary.url, 1), config("secondary", secondary.url, 2)]
    telemetry = RecordingTelemetry()
    router = build_router(configs, telemetry=telemetry, policy=POLICY)
    reference = build_router([config("single", healthy.url, 1)], policy=POLICY)
    results: list[Chat] = []
    paired: list[Chat] = []
    for _ in range(chats):
        results.append(await one_chat(router))
        paired.append(await one_chat(reference))
    await router.aclose()
    await reference.aclose()
    base_ttfts = [c.ttft_s * 1000 for c in paired if c.ok and c.ttft_s is not None]
    base50, base99 = pct(base_ttfts, 0.5), pct(base_ttfts, 0.99)
    received = primary.received_at()
    states = classify(received, telemetry.transitions, "primary")
    ttfts = [c.ttft_s * 1000 for c in results if c.ok and c.ttft_s is not None]
    totals = [c.total_s * 1000 for c in results]
    opened = [t for t, e, s in telemetry.transitions if e == "primary" and s == "open"]
    after_open = [c.ttft_s * 1000 for c in results
                  if opened and c.started_at >= opened[0] and c.ok and c.ttft_s is not None]
    answered: dict[str, int] = {}
    errors: dict[str, int] = {}
    for c in results:
        if c.endpoint:
            answered[c.endpoint] = answered.get(c.endpoint, 0) + 1
        if c.error:
            errors[c.error] = errors.get(c.error, 0) + 1
    return ScenarioResult(
        name=name, fault=fault, chats=chats,
        baseline_ttft_p50_ms=round(base50, 2), baseline_ttft_p99_ms=round(base99, 2),
        success_rate=round(sum(c.ok for c in results) / chats, 4),
        ttft_p50_ms=round(pct(ttfts, 0.5), 2), ttft_p99_ms=round(pct(ttfts, 0.99), 2),
        total_p50_ms=round(pct(totals, 0.5), 2), total_p99_ms=round(pct(totals, 0.99), 2),
        added_ttft_p50_ms=round(pct(ttfts, 0.5) - base50, 2),
        added_ttft_p99_ms=round(pct(ttfts, 0.99) - base99, 2),
        added_ttft_p99_after_open_ms=(round(pct(after_open, 0.99) - base99, 2)
                                      if after_open else None),
        primary_requests=len(received), primary_requests_closed=states["closed"],
        primary_requests_half_open=states["half_open"], primary_requests_open=states["open"],
        answered_by=answered, errors=errors)


SCENARIOS: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("healthy_two_regions", "none (router over two healthy regions)", {}, {}),
    ("primary_down", "primary answers 503", {"status": 503}, {}),
    ("primary_throttled", "primary answers 429, Retry-After: 20",
     {"status": 429, "headers": {"retry-after": "20"}}, {}),
    ("primary_throttled_short", "primary answers 429, retry-after-ms: 500",
     {"status": 429, "headers": {"retry-after-ms": "500"}}, {}),
    ("primary_slow", f"primary's first token after 2 s (timeout {FIRST_TOKEN_TIMEOUT_S:g} s)",
     {"first_token_delay_s": 2.0}, {}),
    ("primary_drops_mid_stream", "primary drops the connection after 3 chunks",
     {"drop_after_chunks": 3}, {}),
    ("all_down", "both regions answer 503", {"status": 503}, {"status": 503}),
]


async def main(chats: int, as_json: bool) -> None:
    regions = [FakeRegion(), FakeRegion(), FakeRegion()]
    results = []
    try:
        await run_scenario("warm-up", "", regions, 50, {}, {})
        for name, fault, primary_fault, secondary_fault in SCENARIOS:
            result = await run_scenario(name, fault, regions, chats, primary_fault,
                                        secondary_fault)
            results.append(result)
            if not as_json:
                print(f"{name}: {json.dumps(asdict(result))}", file=sys.stderr)
    finally:
        for region in regions:
            region.close()
    if as_json:
        print(json.dumps([asdict(r) for r in results], indent=2))
        return
    print("| scenario | fault | success | TTFT p50 / p99 ms | healthy single endpoint, same "
          "window | added p50 / p99 ms | added p99 after circuit opened ms | "
          "chat total p50 / p99 ms | primary requests: closed / probes / open |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        after = "-" if r.added_ttft_p99_after_open_ms is None else \
            f"{r.added_ttft_p99_after_open_ms:.1f}"
        print(f"| {r.name} | {r.fault} | {r.success_rate:.1%} | "
              f"{r.ttft_p50_ms:.1f} / {r.ttft_p99_ms:.1f} | "
              f"{r.baseline_ttft_p50_ms:.1f} / {r.baseline_ttft_p99_ms:.1f} | "
              f"{r.added_ttft_p50_ms:+.1f} / {r.added_ttft_p99_ms:+.1f} | {after} | "
              f"{r.total_p50_ms:.1f} / {r.total_p99_ms:.1f} | "
              f"{r.primary_requests_closed} / {r.primary_requests_half_open} / "
              f"{r.primary_requests_open} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.chats, args.json))
