"""The failover drill: scripted regional faults against the model router, with a verdict.

The production guide's disaster-recovery test, runnable any time. With no endpoint configured it
stands up two fake regions on 127.0.0.1 (a PTU primary and a pay-as-you-go secondary); with
endpoints configured it puts a fault-injecting proxy (ops/faultproxy.py) in front of each one,
so real traffic meets simulated faults, and points a router at the proxies. Each scenario
scripts faults, runs chats through the router one after the other, and checks what the user
would have seen. Example::

    report = await run_failover_drill(Settings(), chats=12)
    print(report.passed, [s.name for s in report.scenarios if not s.passed])
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from chatref.errors import ModelError, ModelStreamInterruptedError
from chatref.llm.base import ChatMessage, ModelDelta, ModelDone
from chatref.llm.config import EndpointConfig, endpoints_from_settings
from chatref.llm.factory import build_router
from chatref.llm.router import ModelRouter, RouterPolicy
from chatref.ops.fakeopenai import FakeOpenAIServer
from chatref.settings import Settings
from chatref.telemetry import Telemetry

DRILL_POLICY = RouterPolicy(open_s=1.0, max_open_s=2.0, backoff_base_s=0.05, backoff_max_s=0.2,
                            max_wait_s=0.6, long_retry_after_s=10.0)
DRILL_PROMPT = [ChatMessage("system", "You are taking part in a failover drill."),
                ChatMessage("user", "Count from one to twelve in words, separated by spaces.")]
FAKE_ANSWER = "one two three four five six seven eight nine ten eleven twelve"


@dataclass
class ChatOutcome:
    """What one chat looked like to the user."""

    endpoint: str | None
    text: str
    error: str | None
    partial_text: str | None
    tokens_before_error: bool
    latency_s: float


@dataclass
class ScenarioReport:
    name: str
    description: str
    expectation: str
    passed: bool
    chats: int
    answered_by: dict[str, int]
    errors: dict[str, int]
    requests_received: dict[str, int]
    circuits: dict[str, str]
    latency_p50_s: float
    latency_max_s: float
    problems: list[str] = field(default_factory=list)


@dataclass
class DrillReport:
    mode: Literal["fake-regions", "proxy"]
    regions: list[str]
    scenarios: list[ScenarioReport]
    duration_s: float

    @property
    def passed(self) -> bool:
        return bool(self.scenarios) and all(s.passed for s in self.scenarios)

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "mode": self.mode, "regions": self.regions,
                "duration_s": round(self.duration_s, 3),
                "scenarios": [asdict(s) for s in self.scenarios]}


@dataclass
class _Region:
    config: EndpointConfig
    server: FakeOpenAIServer

    @property
    def name(self) -> str:
        return self.config.name


class _Drill:
    def __init__(self, regions: list[_Region], *, chats: int, policy: RouterPolicy,
                 client_id: str | None) -> None:
        self.regions = regions
        self.primary = regions[0]
        self.others = regions[1:]
        self.chats = chats
        self.policy = policy
        self.client_id = client_id
        self.first_token_timeout_s = self.primary.config.first_token_timeout_s or 30.0

    def router(self) -> ModelRouter:
        return build_router([r.config for r in self.regions], client_id=self.client_id,
                            telemetry=Telemetry(), policy=self.policy)

    def reset(self) -> None:
        for region in self.regions:
            region.server.reset()

    async def chat(self, router: ModelRouter) -> ChatOutcome:
        started = time.perf_counter()
        parts: list[str] = []
        try:
            async for event in router.stream(DRILL_PROMPT, max_tokens=40):
                if isinstance(event, ModelDelta):
                    parts.append(event.text)
                elif isinstance(event, ModelDone):
                    return ChatOutcome(event.endpoint, "".join(parts), None, None, False,
                                       time.perf_counter() - started)
        except ModelError as exc:
            partial = exc.partial_text if isinstance(exc, ModelStreamInterruptedError) else None
            return ChatOutcome(None, "".join(parts), type(exc).__name__, partial, bool(parts),
                               time.perf_counter() - started)
        return ChatOutcome(None, "".join(parts), "NoDone", None, bool(parts),
                           time.perf_counter() - started)

    async def run(self, name: str, description: str, expectation: str,
                  check: Callable[[list[ChatOutcome], dict[str, Any]], list[str]],
                  router: ModelRouter | None = None) -> ScenarioReport:
        own_router = router is None
        router = router or self.router()
        outcomes = [await self.chat(router) for _ in range(self.chats)]
        health = await router.health()
        if own_router:
            await router.aclose()
        circuits = {e["name"]: e["circuit"] for e in health["endpoints"]}
        requests = {r.name: len(r.server.requests) for r in self.regions}
        context = {"health": health, "requests": requests, "circuits": circuits}
        problems = check(outcomes, context)
        latencies = [o.latency_s for o in outcomes] or [0.0]
        return ScenarioReport(
            name=name, description=description, expectation=expectation, passed=not problems,
            chats=len(outcomes),
            answered_by=dict(Counter(o.endpoint for o in outcomes if o.endpoint)),
            errors=dict(Counter(o.error for o in outcomes if o.error)),
            requests_received=requests, circuits=circuits,
            latency_p50_s=round(statistics.median(latencies), 4),
            latency_max_s=round(max(latencies), 4), problems=problems)

    # --- the scenarios ---------------------------------------------------------------------------
    def _all_answered_elsewhere(self, outcomes: list[ChatOutcome]) -> list[str]:
        problems = []
        if not self.others:
            return ["only one endpoint is configured: there is nowhere to fail over to"]
        if errors := [o.error for o in outcomes if o.error]:
            problems.append(f"{len(errors)} chats failed: {sorted(set(errors))}")
        if any(o.endpoint == self.primary.name for o in outcomes):
            problems.append("the faulty primary answered some chats")
        return problems

    async def scenarios(self) -> list[ScenarioReport]:
        p = self.primary
        threshold = self.policy.failure_threshold
        reports = []

        self.reset()
        p.server.set_default(status=503)

        def primary_down(outcomes: list[ChatOutcome], ctx: dict[str, Any]) -> list[str]:
            problems = self._all_answered_elsewhere(outcomes)
            if ctx["requests"][p.name] > threshold:
                problems.append(f"{ctx['requests'][p.name]} requests reached the primary; its "
                                f"circuit should have opened after {threshold}")
            if ctx["circuits"][p.name] != "open":
                problems.append(f"primary circuit is {ctx['circuits'][p.name]}, not open")
            return problems

        reports.append(await self.run(
            "primary_down", "the primary answers 503 to everything",
            "every chat answered by another region; the primary's circuit opens after "
            f"{threshold} failures and no further request reaches it", primary_down))

        self.reset()
        p.server.set_default(status=429, headers={"retry-after": "120"})

        def throttled(outcomes: list[ChatOutcome], ctx: dict[str, Any]) -> list[str]:
            problems = self._all_answered_elsewhere(outcomes)
            if ctx["requests"][p.name] != 1:
                problems.append(f"{ctx['requests'][p.name]} requests reached the throttled "
                                "primary; Retry-After: 120 should have kept it out after one")
            if ctx["circuits"][p.name] != "open":
                problems.append(f"primary circuit is {ctx['circuits'][p.name]}, not open")
            return problems

        reports.append(await self.run(
            "primary_throttled", "the primary answers 429 with Retry-After: 120",
            "every chat answered by another region; one request to the primary, whose circuit "
            "opens for the Retry-After", throttled))

        self.reset()
        slow_s = self.first_token_timeout_s + 2.0
        p.server.set_default(first_token_delay_s=slow_s)

        def slow(outcomes: list[ChatOutcome], ctx: dict[str, Any]) -> list[str]:
            problems = self._all_answered_elsewhere(outcomes)
            if ctx["requests"][p.name] > threshold:
                problems.append(f"{ctx['requests'][p.name]} requests waited on the slow primary")
            later = [o.latency_s for o in outcomes[threshold:]]
            if later and statistics.median(later) >= self.first_token_timeout_s:
                problems.append("chats after the circuit opened still waited for the primary")
            return problems

        reports.append(await self.run(
            "slow_region", f"the primary's first token takes {slow_s:g} s "
            f"(first-token timeout {self.first_token_timeout_s:g} s)",
            "every chat answered by another region; only the first chats wait for the "
            "timeout, then the circuit opens", slow))

        self.reset()
        p.server.set_default(drop_after_chunks=2)

        def dropped(outcomes: list[ChatOutcome], ctx: dict[str, Any]) -> list[str]:
            problems = []
            broken = [o for o in outcomes if o.error]
            if any(o.error != "ModelStreamInterruptedError" for o in broken):
                problems.append(f"unexpected errors: {sorted({o.error or '' for o in broken})}")
            if any(not o.partial_text or not o.tokens_before_error for o in broken):
                problems.append("an interrupted chat did not carry its partial text")
            if len(broken) > threshold:
                problems.append(f"{len(broken)} chats broke off; the circuit should have "
                                f"opened after {threshold}")
            rest = outcomes[len(broken):]
            if self.others and any(o.endpoint == p.name or o.error for o in rest):
                problems.append("chats after the circuit opened were not answered elsewhere")
            if not self.others:
                problems.append("only one endpoint is configured: there is nowhere to fail "
                                "over to")
            return problems

        reports.append(await self.run(
            "dropped_mid_stream", "the primary drops the connection after 2 chunks",
            "the chats that already showed tokens end with an error that keeps the partial "
            f"answer (at most {threshold}); then the circuit opens and other regions answer",
            dropped))

        self.reset()
        for region in self.regions:
            region.server.set_default(status=503)
        router = self.router()
        budget_s = self.policy.max_wait_s + 2 * (self.policy.max_attempts * 0.5)

        def all_down(outcomes: list[ChatOutcome], ctx: dict[str, Any]) -> list[str]:
            problems = []
            if any(o.error != "ModelUnavailableError" for o in outcomes):
                problems.append("some chats did not end in ModelUnavailableError (the signal "
                                "for the extractive answer)")
            if any(o.tokens_before_error for o in outcomes):
                problems.append("tokens reached the user before the failure")
            if any(o.latency_s > budget_s for o in outcomes):
                problems.append(f"a chat took longer than {budget_s:g} s to give up")
            if any(state != "open" for state in ctx["circuits"].values()):
                problems.append(f"not every circuit opened: {ctx['circuits']}")
            return problems

        reports.append(await self.run(
            "all_regions_down", "every region answers 503",
            "every chat ends before any token with ModelUnavailableError, which the chat "
            "service answers extractively with HTTP 200; every circuit opens", all_down,
            router=router))

        for region in self.regions:
            region.server.set_default()
            region.server.state.clear_requests()
        await asyncio.sleep(self.policy.max_open_s + 0.1)

        def recovery(outcomes: list[ChatOutcome], ctx: dict[str, Any]) -> list[str]:
            problems = []
            if any(o.error for o in outcomes):
                problems.append(f"chats failed after recovery: {[o.error for o in outcomes]}")
            if any(o.endpoint != p.name for o in outcomes):
                problems.append("the recovered primary did not take the traffic back")
            if ctx["circuits"][p.name] != "closed":
                problems.append(f"primary circuit is {ctx['circuits'][p.name]}, not closed")
            return problems

        reports.append(await self.run(
            "recovery", "every region healthy again after the outage",
            "the primary's half-open probe succeeds, its circuit closes and it answers every "
            "chat", recovery, router=router))
        await router.aclose()
        return reports


def _proxied(config: EndpointConfig, proxy: FakeOpenAIServer,
             first_token_timeout_s: float) -> EndpointConfig:
    path = urlsplit(config.endpoint).path.rstrip("/")
    timeout = min(config.first_token_timeout_s or first_token_timeout_s, first_token_timeout_s)
    return config.model_copy(update={"endpoint": proxy.url + path,
                                     "first_token_timeout_s": timeout})


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def run_failover_drill(settings: Settings, *, chats: int = 12,
                             policy: RouterPolicy = DRILL_POLICY,
                             first_token_timeout_s: float = 3.0) -> DrillReport:
    """Run every scenario and return the report (``report.passed`` is the verdict)."""
    started = time.perf_counter()
    configured = sorted(endpoints_from_settings(settings), key=lambda c: c.priority)
    servers: list[FakeOpenAIServer] = []
    regions: list[_Region] = []
    mode: Literal["fake-regions", "proxy"]
    try:
        if configured:
            mode = "proxy"
            for config in configured:
                server = FakeOpenAIServer(upstream=_origin(config.endpoint)).start()
                servers.append(server)
                regions.append(_Region(_proxied(config, server, first_token_timeout_s), server))
        else:
            mode = "fake-regions"
            for name, kind, priority in (("primary-ptu", "ptu", 1),
                                         ("secondary-paygo", "paygo", 2)):
                server = FakeOpenAIServer(answer=FAKE_ANSWER).start()
                servers.append(server)
                config = EndpointConfig.model_validate({
                    "name": name, "endpoint": server.url, "deployment": "gpt-4o", "kind": kind,
                    "priority": priority, "api_key": "fake-region", "timeout_s": 1.0,
                    "first_token_timeout_s": 0.5})
                regions.append(_Region(config, server))
        drill = _Drill(regions, chats=chats, policy=policy, client_id=settings.azure_client_id)
        scenarios = await drill.scenarios()
    finally:
        for server in servers:
            await asyncio.to_thread(server.stop)
    return DrillReport(mode, [r.name for r in regions], scenarios, time.perf_counter() - started)
