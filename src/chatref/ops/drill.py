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
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from chatref.errors import ModelError, ModelStreamInterruptedError
from chatref.llm.base import ChatMessage, ModelDelta, ModelDone
from chatref.llm.config import EndpointConfig, endpoints_from_settings
from chatref.llm.factory import build_router
from chatref.llm.router import ModelRouter, RouterPolicy
from chatref.ops.drill_scenarios import FAILOVER_SCENARIOS, Scenario
from chatref.ops.fakeregion import FakeRegion
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
    server: FakeRegion

    @property
    def name(self) -> str:
        return self.config.name


@dataclass(frozen=True)
class Observed:
    """What a scenario's check sees once its chats are done."""

    outcomes: list[ChatOutcome]
    requests: dict[str, int]  # requests each region received during the scenario
    circuits: dict[str, str]  # each endpoint's circuit state at the end


class FailoverDrill:
    """The regions, the router policy and the chats that every scenario runs against."""

    def __init__(self, regions: list[_Region], *, chats: int, policy: RouterPolicy,
                 client_id: str | None) -> None:
        self.regions = regions
        self.primary = regions[0]
        self.others = regions[1:]
        self.chats = chats
        self.policy = policy
        self.client_id = client_id
        self.first_token_timeout_s = self.primary.config.first_token_timeout_s or 30.0
        self.router: ModelRouter | None = None  # kept between scenarios that share one

    def new_router(self) -> ModelRouter:
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

    async def run(self, scenario: Scenario) -> ScenarioReport:
        """Arrange the scenario's faults, run the chats, check what the user saw."""
        await scenario.arrange(self)
        if scenario.fresh_router or self.router is None:
            if self.router is not None:
                await self.router.aclose()
            self.router = self.new_router()
        router = self.router
        outcomes = [await self.chat(router) for _ in range(self.chats)]
        health = await router.health()
        circuits: dict[str, str] = {e.name: e.circuit for e in health.endpoints}
        requests = {r.name: len(r.server.requests) for r in self.regions}
        problems = scenario.check(self, Observed(outcomes, requests, circuits))
        latencies = [o.latency_s for o in outcomes] or [0.0]
        description, expectation = scenario.describe(self)
        return ScenarioReport(
            name=scenario.name, description=description, expectation=expectation,
            passed=not problems, chats=len(outcomes),
            answered_by=dict(Counter(o.endpoint for o in outcomes if o.endpoint)),
            errors=dict(Counter(o.error for o in outcomes if o.error)),
            requests_received=requests, circuits=circuits,
            latency_p50_s=round(statistics.median(latencies), 4),
            latency_max_s=round(max(latencies), 4), problems=problems)

    async def run_all(self, scenarios: Sequence[Scenario]) -> list[ScenarioReport]:
        try:
            return [await self.run(scenario) for scenario in scenarios]
        finally:
            if self.router is not None:
                await self.router.aclose()
                self.router = None

    def answered_elsewhere(self, seen: Observed) -> list[str]:
        """Problems unless every chat was answered, and none by the faulty primary."""
        if not self.others:
            return ["only one endpoint is configured: there is nowhere to fail over to"]
        problems = []
        if errors := [o.error for o in seen.outcomes if o.error]:
            problems.append(f"{len(errors)} chats failed: {sorted(set(errors))}")
        if any(o.endpoint == self.primary.name for o in seen.outcomes):
            problems.append("the faulty primary answered some chats")
        return problems

    def primary_circuit_is(self, seen: Observed, state: str) -> list[str]:
        found = seen.circuits[self.primary.name]
        return [] if found == state else [f"primary circuit is {found}, not {state}"]


def _proxied(config: EndpointConfig, proxy: FakeRegion,
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
    servers: list[FakeRegion] = []
    regions: list[_Region] = []
    mode: Literal["fake-regions", "proxy"]
    try:
        if configured:
            mode = "proxy"
            for config in configured:
                server = FakeRegion(upstream=_origin(config.endpoint)).start()
                servers.append(server)
                regions.append(_Region(_proxied(config, server, first_token_timeout_s), server))
        else:
            mode = "fake-regions"
            for name, kind, priority in (("primary-ptu", "ptu", 1),
                                         ("secondary-paygo", "paygo", 2)):
                # the shape Terraform deploys: a reasoning model behind a deployment "chat"
                server = FakeRegion(answer=FAKE_ANSWER, model_family="reasoning").start()
                servers.append(server)
                config = EndpointConfig.model_validate({
                    "name": name, "endpoint": server.url, "deployment": "chat", "kind": kind,
                    "model_family": "reasoning", "priority": priority, "api_key": "fake-region",
                    "timeout_s": 1.0, "first_token_timeout_s": 0.5})
                regions.append(_Region(config, server))
        drill = FailoverDrill(regions, chats=chats, policy=policy,
                              client_id=settings.azure_client_id)
        scenarios = await drill.run_all(FAILOVER_SCENARIOS)
    finally:
        for server in servers:
            await asyncio.to_thread(server.stop)
    return DrillReport(mode, [r.name for r in regions], scenarios, time.perf_counter() - started)
