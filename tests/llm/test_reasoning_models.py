"""Reasoning models (gpt-5.x) over real HTTP: the body they accept, the one they refuse, usage,
timeouts and failover. The fake refuses what Azure refuses (chatref.ops.fakerules), so a body
that a real gpt-5 deployment would reject fails here too."""

from __future__ import annotations

import json

import httpx
import pytest
from pydantic import ValidationError

from chatref.errors import ConfigurationError, ModelEndpointError
from chatref.llm.base import ChatMessage, ModelDelta, ModelDone, ModelEvent
from chatref.llm.config import EndpointConfig, endpoints_from_settings, parse_endpoints
from chatref.llm.factory import build_chat_model, build_router
from chatref.llm.openai_model import OpenAIChatModel
from chatref.llm.router import RouterPolicy
from chatref.settings import Settings
from chatref.telemetry import Telemetry
from tests.fakes.openai_server import Behaviour, FakeOpenAIServer
from tests.llm.metrics import sample

MESSAGES = [ChatMessage("system", "Answer from the sources."),
            ChatMessage("user", "What is PTU?")]
FAST = RouterPolicy(open_s=0.3, max_open_s=0.6, backoff_base_s=0.01, backoff_max_s=0.02,
                    max_wait_s=0.2)


@pytest.fixture
def gpt5(fake_openai: FakeOpenAIServer) -> FakeOpenAIServer:
    """The session's fake playing a gpt-5.x deployment named ``chat``, as Terraform deploys."""
    fake_openai.state.model_family = "reasoning"
    return fake_openai


def reasoning_config(fake: FakeOpenAIServer, **changes: object) -> EndpointConfig:
    return EndpointConfig.model_validate({
        "name": "swc", "endpoint": fake.url, "deployment": "chat", "model_family": "reasoning",
        "api_key": "k", **changes})


async def collect(model: OpenAIChatModel, **kwargs: object) -> list[ModelEvent]:
    return [e async for e in model.stream(MESSAGES, max_tokens=800, **kwargs)]  # type: ignore[arg-type]


async def test_reasoning_body_passes_the_fake_and_streams_with_reasoning_usage(
        gpt5: FakeOpenAIServer) -> None:
    model = OpenAIChatModel.from_config(reasoning_config(gpt5), telemetry=Telemetry())
    events = await collect(model, temperature=0.0)
    await model.aclose()
    assert model.telemetry is not None
    assert sample(model.telemetry, "chatref_llm_reasoning_tokens_total",
                  {"endpoint": "swc"}) == 64
    assert "".join(e.text for e in events if isinstance(e, ModelDelta)) == gpt5.answer
    done = events[-1]
    assert isinstance(done, ModelDone) and done.finish_reason == "stop" and done.usage
    assert done.usage.reasoning_tokens == 64
    assert done.usage.completion_tokens == 64 + len(gpt5.answer.split())
    request = gpt5.last_request
    assert request.path == "/openai/v1/chat/completions" and request.query == ""
    assert request.deployment == "chat"
    body = request.body
    assert "max_tokens" not in body and "temperature" not in body
    assert body["max_completion_tokens"] == 800 + 4096  # answer + the low-effort allowance
    assert body["reasoning_effort"] == "low"


async def test_the_old_body_is_refused_like_azure_refuses_it(gpt5: FakeOpenAIServer) -> None:
    old_body = {"model": "chat", "messages": [{"role": "user", "content": "hi"}],
                "max_tokens": 800, "temperature": 0.0, "stream": True}
    async with httpx.AsyncClient(base_url=gpt5.url, headers={"api-key": "k"}) as client:
        max_tokens = await client.post("/openai/v1/chat/completions", json=old_body)
        without = {k: v for k, v in old_body.items() if k != "max_tokens"}
        temperature = await client.post("/openai/v1/chat/completions", json=without)
        default_t = await client.post("/openai/v1/chat/completions",
                                      json={**without, "temperature": 1})
    assert max_tokens.status_code == 400
    assert max_tokens.json()["error"] == {
        "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
                   "Use 'max_completion_tokens' instead.",
        "type": "invalid_request_error", "param": "max_tokens", "code": "unsupported_parameter"}
    assert temperature.status_code == 400
    assert temperature.json()["error"]["code"] == "unsupported_value"
    assert temperature.json()["error"]["message"] == (
        "Unsupported value: 'temperature' does not support 0 with this model. "
        "Only the default (1) value is supported.")
    assert default_t.status_code == 200  # the default temperature is accepted


async def test_a_chat_family_endpoint_on_a_reasoning_deployment_fails_with_the_fix(
        gpt5: FakeOpenAIServer) -> None:
    """The previous app's body (max_tokens, temperature), as a misconfigured endpoint sends it."""
    model = OpenAIChatModel.from_config(reasoning_config(gpt5, model_family="chat"))
    with pytest.raises(ModelEndpointError) as caught:
        await collect(model)
    await model.aclose()
    assert caught.value.reason == "bad_request" and caught.value.http_status == 400
    assert "unsupported_parameter" in caught.value.message
    assert 'model_family "reasoning"' in caught.value.message
    assert gpt5.last_request.body["max_tokens"] == 800


async def test_a_chat_deployment_refuses_reasoning_effort(fake_openai: FakeOpenAIServer) -> None:
    model = OpenAIChatModel.from_config(reasoning_config(fake_openai))  # fake plays gpt-4.1
    with pytest.raises(ModelEndpointError, match='not a reasoning model: set model_family "chat"'):
        await collect(model)
    await model.aclose()
    chat = OpenAIChatModel.from_config(reasoning_config(fake_openai, model_family="chat",
                                                        deployment="gpt-4.1"))
    events = await collect(chat, temperature=0.2)
    await chat.aclose()
    assert isinstance(events[-1], ModelDone)
    body = fake_openai.last_request.body
    assert body["max_tokens"] == 800 and body["temperature"] == 0.2
    assert "reasoning_effort" not in body and "max_completion_tokens" not in body


async def test_reasoning_that_uses_the_whole_allowance_is_an_error_not_an_empty_answer(
        gpt5: FakeOpenAIServer) -> None:
    gpt5.enqueue(Behaviour(reasoning_tokens=10_000))
    model = OpenAIChatModel.from_config(reasoning_config(gpt5, reasoning_budget_tokens=100))
    with pytest.raises(ModelEndpointError, match="reasoning_budget_tokens") as caught:
        await collect(model)
    await model.aclose()
    assert caught.value.reason == "bad_request"  # another region would do the same
    assert gpt5.last_request.body["max_completion_tokens"] == 900


async def test_dated_api_versions_old_and_unknown_are_refused(gpt5: FakeOpenAIServer) -> None:
    body = {"messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 50}
    path = "/openai/deployments/chat/chat/completions"
    async with httpx.AsyncClient(base_url=gpt5.url, headers={"api-key": "k"}) as client:
        old = await client.post(path, params={"api-version": "2024-10-21"}, json=body)
        unknown = await client.post(path, params={"api-version": "2026-01-01"}, json=body)
        recent = await client.post(path, params={"api-version": "2025-04-01-preview"}, json=body)
        v1_bad = await client.post("/openai/v1/chat/completions", params={"api-version": "v2"},
                                   json={**body, "model": "chat"})
        v1_preview = await client.post("/openai/v1/chat/completions",
                                       params={"api-version": "preview"},
                                       json={**body, "model": "chat"})
        route = await client.post("/openai/v2/chat/completions", json={**body, "model": "chat"})
    assert old.status_code == 400 and "2025-04-01-preview and later" in old.json()["error"][
        "message"]
    assert unknown.status_code == 400
    assert unknown.json() == {"error": {"code": "BadRequest",
                                        "message": "API version not supported"}}
    assert recent.status_code == 200 and v1_preview.status_code == 200
    assert v1_bad.status_code == 400 and route.status_code == 404


async def test_the_spec_refuses_what_the_v1_api_does_not_define(gpt5: FakeOpenAIServer) -> None:
    body = {"model": "chat", "messages": [{"role": "user", "content": "hi"}]}
    async with httpx.AsyncClient(base_url=gpt5.url, headers={"api-key": "k"}) as client:
        unknown = await client.post("/openai/v1/chat/completions",
                                    json={**body, "max_output_tokens": 50})
        no_model = await client.post("/openai/v1/chat/completions",
                                     json={"messages": body["messages"]})
        bad_type = await client.post("/openai/v1/chat/completions",
                                     json={**body, "max_completion_tokens": "many"})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["message"] == (
        "Unrecognized request argument supplied: max_output_tokens")
    assert no_model.status_code == 400 and "'model' is a required" in no_model.text
    assert bad_type.status_code == 400 and "max_completion_tokens" in bad_type.text


async def test_dated_recent_api_version_works_for_reasoning(gpt5: FakeOpenAIServer) -> None:
    config = reasoning_config(gpt5, api_version="2025-04-01-preview")
    model = OpenAIChatModel.from_config(config)
    events = await collect(model)
    await model.aclose()
    assert isinstance(events[-1], ModelDone)
    request = gpt5.last_request
    assert request.path == "/openai/deployments/chat/chat/completions"
    assert "api-version=2025-04-01-preview" in request.query
    assert request.headers["api-key"] == "k"


def test_an_api_version_too_old_for_reasoning_is_a_configuration_error() -> None:
    raw = json.dumps([{"name": "swc", "endpoint": "https://aoai.openai.azure.com",
                       "deployment": "chat", "model_family": "reasoning",
                       "api_version": "2024-10-21"}])
    with pytest.raises(ConfigurationError, match="2024-10-21 predates reasoning models"):
        parse_endpoints(raw)
    with pytest.raises(ConfigurationError, match="api_version"):
        parse_endpoints(raw.replace("2024-10-21", "latest"))


def test_family_comes_from_the_endpoint_then_the_setting_then_the_name(
        monkeypatch: pytest.MonkeyPatch) -> None:
    items = [{"name": "a", "endpoint": "https://a", "deployment": "chat"},
             {"name": "b", "endpoint": "https://b", "deployment": "gpt-5-mini"},
             {"name": "c", "endpoint": "https://c", "deployment": "chat", "model_family": "chat"},
             {"name": "d", "endpoint": "https://d", "deployment": "chat",
              "model_family": "reasoning", "reasoning_effort": "high"}]
    a, b, c, d = parse_endpoints(json.dumps(items))
    assert (a.model_family, b.model_family, c.model_family) == ("chat", "reasoning", "chat")
    assert a.first_token_timeout_s == 30.0 and a.reasoning_effort is None
    # a reasoning model is silent while it thinks: longer first-token and read timeouts
    assert b.reasoning_effort == "low" and b.first_token_timeout_s == 60.0
    assert b.read_timeout_s >= b.first_token_timeout_s and b.reasoning_budget_tokens == 4096
    assert d.first_token_timeout_s == 300.0 and d.reasoning_budget_tokens == 16384
    monkeypatch.setenv("CHATREF_LLM_ENDPOINTS", json.dumps(items))
    monkeypatch.setenv("CHATREF_LLM_MODEL_FAMILY", "reasoning")
    monkeypatch.setenv("CHATREF_LLM_REASONING_EFFORT", "minimal")
    a, b, c, d = endpoints_from_settings(Settings())
    assert (a.model_family, a.reasoning_effort, c.model_family) == ("reasoning", "minimal",
                                                                    "chat")
    assert d.reasoning_effort == "high"  # the endpoint's own word wins


async def test_single_endpoint_family_from_settings(
        monkeypatch: pytest.MonkeyPatch, gpt5: FakeOpenAIServer) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", gpt5.url)
    monkeypatch.setenv("AZURE_OPENAI_CHAT_DEPLOYMENT", "chat")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "k")
    monkeypatch.setenv("CHATREF_LLM_MODEL_FAMILY", "reasoning")
    model = build_chat_model(Settings())
    assert model is not None
    assert await model.complete(MESSAGES, max_tokens=50) == gpt5.answer
    health = await model.health()
    await model.aclose()
    endpoint = health.endpoints[0]
    assert (endpoint.model_family, endpoint.api_version, endpoint.reasoning_effort) == (
        "reasoning", "v1", "low")


async def test_thinking_within_the_timeout_does_not_fail_over(
        gpt5: FakeOpenAIServer, fake_regions: object) -> None:
    """A region that reasons for a while before its first token is healthy, not slow."""
    with FakeOpenAIServer(answer="secondary", model_family="reasoning") as secondary:
        gpt5.set_default(first_token_delay_s=0.6)  # thinking before the first visible token
        router = build_router([
            reasoning_config(gpt5, name="primary", priority=1, first_token_timeout_s=2.0),
            reasoning_config(secondary, name="secondary", priority=2)], policy=FAST)
        answer = await router.complete(MESSAGES, max_tokens=50)
        await router.aclose()
        assert answer == gpt5.answer and not secondary.requests


async def test_failover_between_reasoning_regions(
        gpt5: FakeOpenAIServer, fake_regions: object) -> None:
    with FakeOpenAIServer(answer="from the secondary region",
                          model_family="reasoning") as secondary:
        gpt5.set_default(status=503)
        router = build_router([reasoning_config(gpt5, name="primary", priority=1),
                               reasoning_config(secondary, name="secondary", priority=2)],
                              policy=FAST)
        events = [e async for e in router.stream(MESSAGES, max_tokens=50)]
        await router.aclose()
        done = events[-1]
        assert isinstance(done, ModelDone) and done.endpoint == "secondary"
        assert done.usage is not None and done.usage.reasoning_tokens == 64
        assert secondary.last_request.body["max_completion_tokens"] == 50 + 4096



def test_an_unknown_api_version_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_VERSION", "latest")
    with pytest.raises(ValidationError, match="azure_openai_api_version"):
        Settings()
    monkeypatch.setenv("AZURE_OPENAI_API_VERSION", "2025-04-01-preview")
    assert Settings().azure_openai_api_version == "2025-04-01-preview"


@pytest.mark.parametrize("bad", [{"reasoning_effort": ["low"]}, {"first_token_timeout_s": "x"},
                                 {"model_family": "thinking"}, {"reasoning_effort": "extreme"}])
def test_wrong_types_are_configuration_errors_naming_the_field(bad: dict[str, object]) -> None:
    item = {"name": "swc", "endpoint": "https://a", "deployment": "chat",
            "model_family": "reasoning", **bad}
    with pytest.raises(ConfigurationError, match=str(next(iter(bad)))):
        parse_endpoints(json.dumps([item]))
