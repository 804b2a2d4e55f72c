"""`chatref drill failover`: fake regions, proxies in front of configured endpoints, verdicts."""

from __future__ import annotations

import json

import httpx
import pytest
from typer.testing import CliRunner

from chatref.cli import app
from chatref.llm.router import RouterPolicy
from chatref.ops.drill import run_failover_drill
from chatref.ops.fakeregion import FakeRegion
from chatref.settings import Settings
from tests.fakes.openai_server import FakeOpenAIServer

FAST = RouterPolicy(open_s=0.3, max_open_s=0.6, backoff_base_s=0.02, backoff_max_s=0.05,
                    max_wait_s=0.3, long_retry_after_s=10.0)
SCENARIOS = ["primary_down", "primary_throttled", "slow_region", "dropped_mid_stream",
             "all_regions_down", "recovery"]


def test_cli_drill_with_fake_regions_passes_and_prints_json() -> None:
    result = CliRunner().invoke(app, ["drill", "failover", "--json", "--chats", "6"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["passed"] is True and report["mode"] == "fake-regions"
    assert [s["name"] for s in report["scenarios"]] == SCENARIOS
    down = report["scenarios"][0]
    assert down["answered_by"] == {"secondary-paygo": 6}
    # The circuit opens after 3 failures; under load a first-token timeout (0.5 s) can fire
    # before the request reaches the fake, so the fake may have seen fewer than 3.
    assert 1 <= down["requests_received"]["primary-ptu"] <= 3
    assert down["circuits"]["primary-ptu"] == "open"


async def test_drill_through_proxies_sends_real_traffic_to_configured_endpoints(
        monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAIServer,
        fake_regions: object) -> None:
    # the shape Terraform deploys: reasoning models (gpt-5.x) behind deployments named "chat"
    with FakeOpenAIServer(answer="secondary says one two three four",
                          model_family="reasoning") as secondary:
        fake_openai.answer = "primary says one two three four"
        fake_openai.state.model_family = "reasoning"
        endpoints = [
            {"name": "east", "endpoint": fake_openai.url, "deployment": "chat",
             "model_family": "reasoning", "api_key": "real-looking-key", "priority": 1},
            {"name": "west", "endpoint": secondary.url, "deployment": "chat",
             "model_family": "reasoning", "api_key": "other-key", "priority": 2},
        ]
        monkeypatch.setenv("CHATREF_LLM_ENDPOINTS", json.dumps(endpoints))
        report = await run_failover_drill(Settings(), chats=5, policy=FAST,
                                          first_token_timeout_s=0.5)
        west_requests = secondary.requests
    assert report.mode == "proxy"
    assert report.passed, [(s.name, s.problems) for s in report.scenarios if not s.passed]
    # healthy traffic went through the proxy to the real endpoint, with its own key, on the
    # v1 API, in the body a reasoning model accepts (the fake refuses max_tokens)
    last = fake_openai.requests[-1]
    assert last.path == "/openai/v1/chat/completions"
    assert last.headers["authorization"] == "Bearer real-looking-key"
    assert "max_tokens" not in last.body and last.body["max_completion_tokens"] > 40
    assert west_requests and west_requests[0].headers["authorization"] == "Bearer other-key"
    assert report.scenarios[-1].answered_by == {"east": 5}


def test_drill_fails_when_there_is_nowhere_to_fail_over(
        monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAIServer) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", fake_openai.url)
    monkeypatch.setenv("AZURE_OPENAI_CHAT_DEPLOYMENT", "gpt-4o")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "k")
    result = CliRunner().invoke(app, ["drill", "failover", "--json", "--chats", "4",
                                      "--first-token-timeout", "0.3"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    down = report["scenarios"][0]
    assert down["passed"] is False
    assert any("nowhere to fail over" in p for p in down["problems"])


async def test_a_router_that_cannot_fail_over_fails_the_drill() -> None:
    no_failover = RouterPolicy(open_s=0.3, max_open_s=0.6, max_attempts=1, max_wait_s=0.1)
    report = await run_failover_drill(Settings(), chats=4, policy=no_failover)
    assert not report.passed
    assert not report.scenarios[0].passed and report.scenarios[0].errors


async def test_proxy_forwards_and_injects_faults_into_a_real_stream(
        fake_openai: FakeOpenAIServer) -> None:
    fake_openai.answer = "alpha beta gamma delta"
    path = "/openai/deployments/d/chat/completions?api-version=2024-10-21"
    body = {"messages": [{"role": "user", "content": "hi"}], "stream": True}
    with FakeRegion(upstream=fake_openai.url) as proxy:
        async with httpx.AsyncClient(base_url=proxy.url) as client:
            proxy.set_fault(drop_after_chunks=2)
            with pytest.raises(httpx.RemoteProtocolError):
                async with client.stream("POST", path, json=body,
                                         headers={"api-key": "k"}) as response:
                    async for _ in response.aiter_bytes():
                        pass
            proxy.set_fault(status=503)
            injected = await client.post(path, json=body, headers={"api-key": "k"})
            proxy.set_fault()
            passed = await client.post(path, json={**body, "stream": False},
                                       headers={"api-key": "k"})
    assert injected.status_code == 503
    assert passed.json()["choices"][0]["message"]["content"] == "alpha beta gamma delta"
    assert len(fake_openai.requests) == 2  # the injected 503 never reached the upstream


async def test_proxy_answers_502_when_the_upstream_is_unreachable() -> None:
    with FakeOpenAIServer() as gone:
        origin = gone.url
    with FakeRegion(upstream=origin) as proxy:
        async with httpx.AsyncClient(base_url=proxy.url) as client:
            response = await client.post(
                "/openai/deployments/d/chat/completions?api-version=2024-10-21",
                json={"messages": [{"role": "user", "content": "hi"}]},
                headers={"api-key": "k"})
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_unreachable"


async def test_a_reasoning_region_refuses_the_old_body_and_takes_the_new_one() -> None:
    """The drill's own regions play gpt-5.x: what Azure refuses, they refuse."""
    old = {"model": "chat", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 40,
           "temperature": 0.0, "stream": True}
    new = {"model": "chat", "messages": old["messages"], "max_completion_tokens": 4136,
           "reasoning_effort": "low", "stream": True, "stream_options": {"include_usage": True}}
    with FakeRegion(answer="one two", model_family="reasoning") as region:
        async with httpx.AsyncClient(base_url=region.url, headers={"api-key": "k"}) as client:
            refused = await client.post("/openai/v1/chat/completions", json=old)
            dated = await client.post("/openai/deployments/chat/chat/completions",
                                      params={"api-version": "2024-10-21"}, json=new)
            answered = await client.post("/openai/v1/chat/completions", json=new)
            unknown = await client.post("/openai/v9/chat/completions", json=new)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "unsupported_parameter"
    assert dated.status_code == 400 and unknown.status_code == 404
    assert answered.status_code == 200
    usage = json.loads([line for line in answered.text.splitlines()
                        if '"usage"' in line][0].removeprefix("data: "))["usage"]
    assert usage["completion_tokens_details"]["reasoning_tokens"] > 0
    assert usage["completion_tokens"] == 2 + usage["completion_tokens_details"]["reasoning_tokens"]
