"""The failover drill's scenarios: one small class each, run in order by ``FailoverDrill.run``.

A scenario arranges the regions' faults, then the drill runs its chats through the router and
hands ``check`` what the user saw (``Observed``); each string ``check`` returns is a problem and
fails the scenario. ``fresh_router=False`` keeps the previous scenario's router, for a scenario
that depends on the circuits it left behind (``Recovery`` after ``AllRegionsDown``). To add one,
write a class with these five members and list it in ``FAILOVER_SCENARIOS``.
"""

from __future__ import annotations

import asyncio
import statistics
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from chatref.ops.drill import FailoverDrill, Observed


class Scenario(Protocol):
    name: str
    fresh_router: bool

    def describe(self, drill: FailoverDrill) -> tuple[str, str]:
        """(what happens, what the user should see)."""
        ...

    async def arrange(self, drill: FailoverDrill) -> None: ...

    def check(self, drill: FailoverDrill, seen: Observed) -> list[str]: ...


class PrimaryDown:
    name = "primary_down"
    fresh_router = True

    def describe(self, drill: FailoverDrill) -> tuple[str, str]:
        return ("the primary answers 503 to everything",
                "every chat answered by another region; the primary's circuit opens after "
                f"{drill.policy.failure_threshold} failures and no further request reaches it")

    async def arrange(self, drill: FailoverDrill) -> None:
        drill.reset()
        drill.primary.server.set_fault(status=503)

    def check(self, drill: FailoverDrill, seen: Observed) -> list[str]:
        problems = drill.answered_elsewhere(seen)
        threshold = drill.policy.failure_threshold
        if (received := seen.requests[drill.primary.name]) > threshold:
            problems.append(f"{received} requests reached the primary; its circuit should have "
                            f"opened after {threshold}")
        return problems + drill.primary_circuit_is(seen, "open")


class PrimaryThrottled:
    name = "primary_throttled"
    fresh_router = True

    def describe(self, drill: FailoverDrill) -> tuple[str, str]:
        return ("the primary answers 429 with Retry-After: 120",
                "every chat answered by another region; one request to the primary, whose "
                "circuit opens for the Retry-After")

    async def arrange(self, drill: FailoverDrill) -> None:
        drill.reset()
        drill.primary.server.set_fault(status=429, headers={"retry-after": "120"})

    def check(self, drill: FailoverDrill, seen: Observed) -> list[str]:
        problems = drill.answered_elsewhere(seen)
        if (received := seen.requests[drill.primary.name]) != 1:
            problems.append(f"{received} requests reached the throttled primary; "
                            "Retry-After: 120 should have kept it out after one")
        return problems + drill.primary_circuit_is(seen, "open")


class SlowRegion:
    name = "slow_region"
    fresh_router = True

    def _slow_s(self, drill: FailoverDrill) -> float:
        return drill.first_token_timeout_s + 2.0

    def describe(self, drill: FailoverDrill) -> tuple[str, str]:
        return (f"the primary's first token takes {self._slow_s(drill):g} s "
                f"(first-token timeout {drill.first_token_timeout_s:g} s)",
                "every chat answered by another region; only the first chats wait for the "
                "timeout, then the circuit opens")

    async def arrange(self, drill: FailoverDrill) -> None:
        drill.reset()
        drill.primary.server.set_fault(first_token_delay_s=self._slow_s(drill))

    def check(self, drill: FailoverDrill, seen: Observed) -> list[str]:
        problems = drill.answered_elsewhere(seen)
        threshold = drill.policy.failure_threshold
        if (received := seen.requests[drill.primary.name]) > threshold:
            problems.append(f"{received} requests waited on the slow primary")
        later = [o.latency_s for o in seen.outcomes[threshold:]]
        if later and statistics.median(later) >= drill.first_token_timeout_s:
            problems.append("chats after the circuit opened still waited for the primary")
        return problems


class DroppedMidStream:
    name = "dropped_mid_stream"
    fresh_router = True

    def describe(self, drill: FailoverDrill) -> tuple[str, str]:
        return ("the primary drops the connection after 2 chunks",
                "the chats that already showed tokens end with an error that keeps the partial "
                f"answer (at most {drill.policy.failure_threshold}); then the circuit opens and "
                "other regions answer")

    async def arrange(self, drill: FailoverDrill) -> None:
        drill.reset()
        drill.primary.server.set_fault(drop_after_chunks=2)

    def check(self, drill: FailoverDrill, seen: Observed) -> list[str]:
        if not drill.others:
            return ["only one endpoint is configured: there is nowhere to fail over to"]
        problems = []
        threshold = drill.policy.failure_threshold
        broken = [o for o in seen.outcomes if o.error]
        if any(o.error != "ModelStreamInterruptedError" for o in broken):
            problems.append(f"unexpected errors: {sorted({o.error or '' for o in broken})}")
        if any(not o.partial_text or not o.tokens_before_error for o in broken):
            problems.append("an interrupted chat did not carry its partial text")
        if len(broken) > threshold:
            problems.append(f"{len(broken)} chats broke off; the circuit should have opened "
                            f"after {threshold}")
        rest = seen.outcomes[len(broken):]
        if any(o.endpoint == drill.primary.name or o.error for o in rest):
            problems.append("chats after the circuit opened were not answered elsewhere")
        return problems


class AllRegionsDown:
    name = "all_regions_down"
    fresh_router = True

    def _budget_s(self, drill: FailoverDrill) -> float:
        return drill.policy.max_wait_s + 2 * (drill.policy.max_attempts * 0.5)

    def describe(self, drill: FailoverDrill) -> tuple[str, str]:
        return ("every region answers 503",
                "every chat ends before any token with ModelUnavailableError, which the chat "
                "service answers extractively with HTTP 200; every circuit opens")

    async def arrange(self, drill: FailoverDrill) -> None:
        drill.reset()
        for region in drill.regions:
            region.server.set_fault(status=503)

    def check(self, drill: FailoverDrill, seen: Observed) -> list[str]:
        problems = []
        if any(o.error != "ModelUnavailableError" for o in seen.outcomes):
            problems.append("some chats did not end in ModelUnavailableError (the signal for "
                            "the extractive answer)")
        if any(o.tokens_before_error for o in seen.outcomes):
            problems.append("tokens reached the user before the failure")
        if any(o.latency_s > (budget := self._budget_s(drill)) for o in seen.outcomes):
            problems.append(f"a chat took longer than {budget:g} s to give up")
        if any(state != "open" for state in seen.circuits.values()):
            problems.append(f"not every circuit opened: {seen.circuits}")
        return problems


class Recovery:
    name = "recovery"
    fresh_router = False  # the circuits that AllRegionsDown opened must close again

    def describe(self, drill: FailoverDrill) -> tuple[str, str]:
        return ("every region healthy again after the outage",
                "the primary's half-open probe succeeds, its circuit closes and it answers "
                "every chat")

    async def arrange(self, drill: FailoverDrill) -> None:
        drill.reset()
        await asyncio.sleep(drill.policy.max_open_s + 0.1)

    def check(self, drill: FailoverDrill, seen: Observed) -> list[str]:
        problems = []
        if errors := [o.error for o in seen.outcomes if o.error]:
            problems.append(f"chats failed after recovery: {errors}")
        if any(o.endpoint != drill.primary.name for o in seen.outcomes):
            problems.append("the recovered primary did not take the traffic back")
        return problems + drill.primary_circuit_is(seen, "closed")


FAILOVER_SCENARIOS: tuple[Scenario, ...] = (
    PrimaryDown(), PrimaryThrottled(), SlowRegion(), DroppedMidStream(), AllRegionsDown(),
    Recovery(),
)
