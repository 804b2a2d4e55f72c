"""The router over real HTTP: failover, retries, circuit breaking, cool-downs, degradation."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import pytest
from pydantic import SecretStr

from chatref.errors import (
    ContentFilteredError,
    ModelEndpointError,
    ModelStreamInterruptedError,
    ModelUnavailableError,
)
from chatref.llm.base import ChatMessage, ModelDelta, ModelDone, ModelEvent
from chatref.llm.config import EndpointConfig
from chatref.llm.factory import build_router
from chatref.llm.openai_model import OpenAIChatModel
from chatref.llm.router import ModelRouter, RoutedEndpoint, RouterPolicy
from chatref.telemetry import Telemetry
from tests.fakes.openai_server import Behaviour, FakeOpenAIServer
from tests.llm.metrics import sample

MESSAGES = [ChatMessage("user", "Is the region up?")]
FAST = RouterPolicy(open_s=0.3, max_open_s=1.0, backoff_base_s=0.01, backoff_max_s=0.05,
                    max_wait_s=0.5, long_retry_after_s=5.0)


def endpoint(name: str, fake: FakeOpenAIServer, priority: int = 1, **extra: Any) -> EndpointConfig:
    values: dict[str, Any] = {"name": name, "endpoint": fake.url, "deployment": "gpt-4o",
                              "api_key": SecretStr("k"), "priority": priority,
                              "timeout_s": 0.5, "first_token_timeout_s": 0.5, **extra}
    return EndpointConfig(**values)


def two_region_router(primary: FakeOpenAIServer, secondary: FakeOpenAIServer,
                      policy: RouterPolicy = FAST, **kwargs: Any) -> ModelRouter:
    return build_router([endpoint("primary", primary, 1), endpoint("secondary", secondary, 2)],
                        policy=policy, telemetry=Telemetry(), **kwargs)


async def chat(router: ModelRouter) -> tuple[str, ModelDone]:
    events: list[ModelEvent] = [e async for e in router.stream(MESSAGES, max_tokens=50)]
    done = events[-1]
    assert isinstance(done, ModelDone)
    return "".join(e.text for e in events if isinstance(e, ModelDelta)), done


async def test_healthy_primary_answers_and_secondary_is_untouched(
        fake_openai: FakeOpenAIServer, secondary: FakeOpenAIServer) -> None:
    router = two_region_router(fake_openai, secondary)
    text, done = await chat(router)
    await router.aclose()
    assert text == fake_openai.answer and done.endpoint == "primary"
    assert secondary.requests == []


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_retryable_status_fails_over_before_first_token(
        fake_openai: FakeOpenAIServer, secondary: FakeOpenAIServer, status: int) -> None:
    fake_openai.enqueue(Behaviour(status=status))
    router = two_region_router(fake_openai, secondary)
    text, done = await chat(router)
    assert text == secondary.answer and done.endpoint == "secondary"
    assert len(fake_openai.requests) == 1 and len(secondary.requests) == 1
    assert router.telemetry is not None
    reason = {408: "timeout", 429: "throttled"}.get(status, "server_error")
    assert sample(router.telemetry, "chatref_llm_failovers_total",
                                  {"endpoint": "primary", "reason": reason}) == 1
    await router.aclose()


async def test_connection_refused_fails_over(secondary: FakeOpenAIServer) -> None:
    with FakeOpenAIServer() as gone:
        config = endpoint("primary", gone)
    router = build_router([config, endpoint("secondary", secondary, 2)], policy=FAST)
    text, done = await chat(router)
    await router.aclose()
    assert done.endpoint == "secondary" and text == secondary.answer


async def test_hang_before_first_byte_fails_over_after_first_token_timeout(
        fake_openai: FakeOpenAIServer, secondary: FakeOpenAIServer) -> None:
    fake_openai.enqueue(Behaviour(hang_s=10))
    router = two_region_router(fake_openai, secondary)
    started = time.perf_counter()
    _, done = await chat(router)
    elapsed = time.perf_counter() - started
    await router.aclose()
    assert done.endpoint == "secondary"
    assert elapsed < 5, "the hang must be cut by first_token_timeout_s, not waited out"


async def test_slow_first_token_fails_over(fake_openai: FakeOpenAIServer,
                                           secondary: FakeOpenAIServer) -> None:
    fake_openai.enqueue(Behaviour(first_token_delay_s=10))
    router = two_region_router(fake_openai, secondary)
    _, done = await chat(router)
    await router.aclose()
    assert done.endpoint == "secondary"


async def test_drop_after_tokens_is_an_error_with_the_partial_text_and_no_failover(
        fake_openai: FakeOpenAIServer, secondary: FakeOpenAIServer) -> None:
    fake_openai.enqueue(Behaviour(answer="one two three four", drop_after_chunks=2))
    router = two_region_router(fake_openai, secondary)
    seen: list[str] = []
    with pytest.raises(ModelStreamInterruptedError) as caught:
        async for event in router.stream(MESSAGES, max_tokens=50):
            if isinstance(event, ModelDelta):
                seen.append(event.text)
    await router.aclose()
    assert caught.value.partial_text == "one two " == "".join(seen)
    assert caught.value.endpoint == "primary"
    assert secondary.requests == []


async def test_content_filter_is_neither_retried_nor_failed_over(
        fake_openai: FakeOpenAIServer, secondary: FakeOpenAIServer) -> None:
    fake_openai.set_default(content_filter=True)
    router = two_region_router(fake_openai, secondary)
    with pytest.raises(ContentFilteredError):
        await chat(router)
    health = await router.health()
    await router.aclose()
    assert len(fake_openai.requests) == 1 and secondary.requests == []
    assert health.endpoints[0].circuit == "closed"


async def test_bad_request_is_neither_retried_nor_failed_over(
        fake_openai: FakeOpenAIServer, secondary: FakeOpenAIServer) -> None:
    fake_openai.set_default(status=400)
    router = two_region_router(fake_openai, secondary)
    with pytest.raises(ModelEndpointError) as caught:
        await chat(router)
    await router.aclose()
    assert not isinstance(caught.value, ModelUnavailableError)
    assert caught.value.reason == "bad_request"
    assert len(fake_openai.requests) == 1 and secondary.requests == []


async def test_404_is_a_configuration_error_in_health_and_the_endpoint_is_left(
        fake_openai: FakeOpenAIServer, secondary: FakeOpenAIServer) -> None:
    fake_openai.set_default(status=404)
    router = two_region_router(fake_openai, secondary)
    _, first = await chat(router)
    _, second = await chat(router)
    health = await router.health()
    await router.aclose()
    assert first.endpoint == second.endpoint == "secondary"
    assert len(fake_openai.requests) == 1, "a 404 must not be retried"
    primary = health.endpoints[0]
    assert primary.config_error and "404" in primary.config_error
    assert health.problems and health.ready is True and health.status == "degraded"


async def test_401_is_retried_once_after_a_credential_refresh(
        fake_openai: FakeOpenAIServer, secondary: FakeOpenAIServer) -> None:
    fake_openai.enqueue(Behaviour(status=401))
    router = two_region_router(fake_openai, secondary)
    _, done = await chat(router)
    await router.aclose()
    assert done.endpoint == "primary"
    assert len(fake_openai.requests) == 2 and secondary.requests == []


async def test_persistent_401_marks_the_endpoint_misconfigured(
        fake_openai: FakeOpenAIServer, secondary: FakeOpenAIServer) -> None:
    fake_openai.set_default(status=401)
    router = two_region_router(fake_openai, secondary)
    _, done = await chat(router)
    health = await router.health()
    await router.aclose()
    assert done.endpoint == "secondary"
    assert len(fake_openai.requests) == 2
    assert "401" in (health.endpoints[0].config_error or "")


async def test_circuit_opens_sends_nothing_then_one_probe_closes_it(
        fake_openai: FakeOpenAIServer, secondary: FakeOpenAIServer) -> None:
    fake_openai.set_default(status=503)
    router = two_region_router(fake_openai, secondary)
    for _ in range(3):
        assert (await chat(router))[1].endpoint == "secondary"
    assert (await router.health()).endpoints[0].circuit == "open"
    assert router.telemetry is not None
    assert sample(router.telemetry, "chatref_llm_circuit_state", {"endpoint": "primary"}) == 2
    for _ in range(5):
        assert (await chat(router))[1].endpoint == "secondary"
    assert len(fake_openai.requests) == 3, "no request may reach an open circuit"
    fake_openai.set_default()
    await asyncio.sleep(FAST.open_s + 0.05)
    assert (await router.health()).endpoints[0].circuit == "half_open"
    assert (await chat(router))[1].endpoint == "primary"  # the probe
    assert (await router.health()).endpoints[0].circuit == "closed"
    assert sample(router.telemetry, "chatref_llm_circuit_state", {"endpoint": "primary"}) == 0
    await router.aclose()


async def test_half_open_lets_exactly_one_probe_through(
        fake_openai: FakeOpenAIServer, secondary: FakeOpenAIServer) -> None:
    fake_openai.set_default(status=503)
    router = two_region_router(fake_openai, secondary)
    for _ in range(3):
        await chat(router)
    fake_openai.set_default(chunk_delay_s=0.05)  # healthy again, but slow enough to overlap
    await asyncio.sleep(FAST.open_s + 0.05)
    results = await asyncio.gather(*(chat(router) for _ in range(6)))
    await router.aclose()
    assert len(fake_openai.requests) == 3 + 1
    assert sorted(done.endpoint or "" for _, done in results).count("primary") == 1


async def test_failed_probe_reopens_the_circuit(fake_openai: FakeOpenAIServer,
                                                secondary: FakeOpenAIServer) -> None:
    fake_openai.set_default(status=500)
    router = two_region_router(fake_openai, secondary)
    for _ in range(3):
        await chat(router)
    await asyncio.sleep(FAST.open_s + 0.05)
    await chat(router)  # probe fails, answer still comes from the secondary
    assert (await router.health()).endpoints[0].circuit == "open"
    await chat(router)
    await router.aclose()
    assert len(fake_openai.requests) == 4


async def test_long_retry_after_opens_the_circuit_at_once(
        fake_openai: FakeOpenAIServer, secondary: FakeOpenAIServer) -> None:
    fake_openai.set_default(status=429, headers={"retry-after": "60"})
    router = two_region_router(fake_openai, secondary)
    for _ in range(4):
        assert (await chat(router))[1].endpoint == "secondary"
    health = await router.health()
    await router.aclose()
    assert len(fake_openai.requests) == 1
    assert health.endpoints[0].circuit == "open"
    assert health.endpoints[0].cool_down_s > 50


async def test_short_retry_after_ms_keeps_the_endpoint_out_only_that_long(
        fake_openai: FakeOpenAIServer, secondary: FakeOpenAIServer) -> None:
    fake_openai.enqueue(Behaviour(status=429, headers={"retry-after-ms": "300"}))
    router = two_region_router(fake_openai, secondary)
    assert (await chat(router))[1].endpoint == "secondary"
    assert (await chat(router))[1].endpoint == "secondary"  # still cooling down
    assert (await router.health()).endpoints[0].circuit == "closed"
    await asyncio.sleep(0.35)
    assert (await chat(router))[1].endpoint == "primary"
    await router.aclose()
    assert len(fake_openai.requests) == 2


async def test_ratelimit_reset_header_sets_the_cool_down(
        fake_openai: FakeOpenAIServer, secondary: FakeOpenAIServer) -> None:
    fake_openai.enqueue(Behaviour(status=429, headers={"x-ratelimit-reset-tokens": "2s"}))
    router = two_region_router(fake_openai, secondary)
    await chat(router)
    health = await router.health()
    await router.aclose()
    assert 1.5 < health.endpoints[0].cool_down_s <= 2.0


async def test_single_endpoint_is_retried_after_backoff(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(Behaviour(status=503), Behaviour(status=502))
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        await asyncio.sleep(seconds)

    model = OpenAIChatModel.from_config(endpoint("only", fake_openai))
    router = ModelRouter([RoutedEndpoint(model)], policy=FAST, sleep=sleep, rng=random.Random(7))
    text, done = await chat(router)
    await router.aclose()
    assert done.endpoint == "only" and text == fake_openai.answer
    assert len(fake_openai.requests) == 3 and len(delays) == 2
    assert FAST.backoff_base_s / 2 <= delays[0] <= FAST.backoff_base_s
    assert FAST.backoff_base_s <= delays[1] <= 2 * FAST.backoff_base_s


async def test_every_endpoint_out_raises_unavailable_before_any_token(
        fake_openai: FakeOpenAIServer, secondary: FakeOpenAIServer) -> None:
    fake_openai.set_default(status=503)
    secondary.set_default(status=500)
    router = two_region_router(fake_openai, secondary)
    started = time.perf_counter()
    with pytest.raises(ModelUnavailableError) as caught:
        async for _ in router.stream(MESSAGES, max_tokens=50):
            pytest.fail("no event may be yielded when every endpoint is out")
    elapsed = time.perf_counter() - started
    await router.aclose()
    assert "primary" in caught.value.message and "secondary" in caught.value.message
    assert elapsed < 3
    assert router.telemetry is not None
    assert sample(router.telemetry, "chatref_llm_unavailable_total") == 1
    assert len(fake_openai.requests) + len(secondary.requests) <= FAST.max_attempts


async def test_retry_budget_stops_hammering_a_throttled_endpoint(
        fake_openai: FakeOpenAIServer) -> None:
    fake_openai.set_default(status=503)
    policy = RouterPolicy(failure_threshold=100, backoff_base_s=0.001, backoff_max_s=0.002,
                          max_wait_s=1.0, max_attempts=50, retry_budget_ratio=0.0,
                          retry_budget_min_per_s=0.0, retry_budget_cap=2.0)
    router = build_router([endpoint("only", fake_openai)], policy=policy,
                          telemetry=Telemetry())
    for _ in range(3):
        with pytest.raises(ModelUnavailableError):
            await chat(router)
    await router.aclose()
    # 3 first attempts + the 2 retries the budget held; not 3 * 50
    assert len(fake_openai.requests) == 5
    assert router.telemetry is not None
    assert sample(router.telemetry, "chatref_llm_retry_budget_exhausted_total",
                                  {"endpoint": "only"}) >= 1


async def test_priority_then_weight(fake_regions: Any) -> None:
    a, b, c = (fake_regions() for _ in range(3))
    router = build_router([endpoint("a", a, 1, weight=3), endpoint("b", b, 1, weight=1),
                           endpoint("c", c, 2)], policy=FAST)
    router._rng = random.Random(1)  # deterministic split for the assertion below
    served = [(await chat(router))[1].endpoint for _ in range(24)]
    await router.aclose()
    assert served.count("c") == 0
    assert served.count("a") > served.count("b") > 0


async def test_metrics_render_as_prometheus_text(fake_openai: FakeOpenAIServer,
                                                 secondary: FakeOpenAIServer) -> None:
    fake_openai.enqueue(Behaviour(status=503))
    # Timeouts far above FAST's half second: this test is about the metrics, and on a loaded
    # CI machine the secondary's first token once took longer (a timeout, not a success).
    patient = {"timeout_s": 10.0, "first_token_timeout_s": 10.0}
    router = build_router([endpoint("primary", fake_openai, 1, **patient),
                           endpoint("secondary", secondary, 2, **patient)],
                          policy=FAST, telemetry=Telemetry())
    await chat(router)
    await router.aclose()
    assert router.telemetry is not None
    body, content_type = router.telemetry.render()
    text = body.decode()
    assert content_type.startswith("text/plain")
    assert 'chatref_llm_requests_total{endpoint="primary",outcome="server_error"} 1.0' in text
    assert 'chatref_llm_requests_total{endpoint="secondary",outcome="success"} 1.0' in text
    assert 'chatref_llm_failovers_total{endpoint="primary",reason="server_error"} 1.0' in text
    assert 'chatref_llm_circuit_state{endpoint="secondary"} 0.0' in text
    assert "chatref_llm_time_to_first_token_seconds_bucket" in text
    assert 'chatref_llm_tokens_total{direction="out",endpoint="secondary"}' in text


async def test_caller_closing_the_stream_frees_the_probe(
        fake_openai: FakeOpenAIServer, secondary: FakeOpenAIServer) -> None:
    fake_openai.set_default(status=503)
    router = two_region_router(fake_openai, secondary)
    for _ in range(3):
        await chat(router)
    fake_openai.set_default(answer="a b c d e f", chunk_delay_s=0.01)
    await asyncio.sleep(FAST.open_s + 0.05)
    stream = router.stream(MESSAGES, max_tokens=50)
    first = await stream.__anext__()
    await stream.aclose()  # the user pressed stop after one token
    assert isinstance(first, ModelDelta)
    assert (await router.health()).endpoints[0].circuit == "closed"
    await router.aclose()


async def test_open_circuits_everywhere_degrade_at_once_without_waiting(
        fake_openai: FakeOpenAIServer, secondary: FakeOpenAIServer) -> None:
    fake_openai.set_default(status=503)
    secondary.set_default(status=503)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        await asyncio.sleep(seconds)

    policy = RouterPolicy(open_s=30, backoff_base_s=0.01, backoff_max_s=0.02, max_wait_s=5)
    models = [OpenAIChatModel.from_config(endpoint(n, f, p))
              for n, f, p in (("primary", fake_openai, 1), ("secondary", secondary, 2))]
    router = ModelRouter([RoutedEndpoint(m, priority=i + 1) for i, m in enumerate(models)],
                         policy=policy, sleep=sleep)
    with pytest.raises(ModelUnavailableError):
        await chat(router)  # 3 rounds of failures open both circuits
    health = await router.health()
    assert [e.circuit for e in health.endpoints] == ["open", "open"]
    sent, slept_before = len(fake_openai.requests) + len(secondary.requests), len(slept)
    with pytest.raises(ModelUnavailableError):
        await chat(router)
    await router.aclose()
    assert len(fake_openai.requests) + len(secondary.requests) == sent
    assert len(slept) == slept_before, "known-down endpoints must not be waited for"
    assert health.status == "unavailable"


async def test_malformed_answer_fails_over_instead_of_leaking_a_decode_error(
        fake_openai: FakeOpenAIServer, secondary: FakeOpenAIServer) -> None:
    fake_openai.enqueue(Behaviour(malformed=True))
    router = two_region_router(fake_openai, secondary)
    _, done = await chat(router)
    await router.aclose()
    assert done.endpoint == "secondary"
    assert router.telemetry is not None
    assert sample(router.telemetry, "chatref_llm_requests_total",
                                  {"endpoint": "primary", "outcome": "server_error"}) == 1
