"""OpenAIChatModel against the fake server over real HTTP: stream, errors, timeouts, drops."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from chatref.errors import ContentFilteredError, ModelEndpointError, ModelStreamInterruptedError
from chatref.llm.base import ChatMessage, ModelDelta, ModelDone, ModelEvent
from chatref.llm.config import EndpointConfig
from chatref.llm.openai_model import OpenAIChatModel
from chatref.telemetry import Telemetry
from tests.fakes.openai_server import Behaviour, FakeOpenAIServer
from tests.llm.metrics import sample

MESSAGES = [ChatMessage("system", "Answer from the sources."),
            ChatMessage("user", "What is PTU?")]


def azure_model(fake: FakeOpenAIServer, **changes: object) -> OpenAIChatModel:
    config = EndpointConfig(name="east", endpoint=fake.url, deployment="gpt-4o",
                            api_version="2024-10-21", api_key=SecretStr("k"),
                            **changes)  # type: ignore[arg-type]
    return OpenAIChatModel.from_config(config, telemetry=Telemetry())


async def collect(model: OpenAIChatModel) -> list[ModelEvent]:
    return [event async for event in model.stream(MESSAGES, max_tokens=50)]


async def test_azure_stream_relays_text_usage_and_prompt(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.answer = "PTU is provisioned throughput [1]."
    model = azure_model(fake_openai)
    events = await collect(model)
    await model.aclose()
    text = "".join(e.text for e in events if isinstance(e, ModelDelta))
    done = events[-1]
    assert text == "PTU is provisioned throughput [1]."
    assert isinstance(done, ModelDone) and done.finish_reason == "stop"
    assert done.endpoint == "east" and done.usage is not None and done.usage.completion_tokens == 5
    request = fake_openai.last_request
    assert request.deployment == "gpt-4o" and "api-version=2024-10-21" in request.query
    assert request.headers["api-key"] == "k"
    assert request.messages[0] == {"role": "system", "content": "Answer from the sources."}
    assert request.body["stream_options"] == {"include_usage": True}
    assert model.telemetry is not None
    assert sample(model.telemetry, "chatref_llm_requests_total",
                                 {"endpoint": "east", "outcome": "success"}) == 1
    assert sample(model.telemetry, "chatref_llm_tokens_total",
                                 {"endpoint": "east", "direction": "out"}) == 5


async def test_openai_compatible_endpoint_and_complete(fake_openai: FakeOpenAIServer) -> None:
    config = EndpointConfig(name="local", endpoint=fake_openai.openai_base_url, model="llama",
                            api_key=SecretStr("k2"))
    model = OpenAIChatModel.from_config(config)
    answer = await model.complete(MESSAGES, max_tokens=20)
    await model.aclose()
    assert answer == fake_openai.answer
    assert fake_openai.last_request.path == "/v1/chat/completions"
    assert fake_openai.last_request.body["model"] == "llama"
    assert fake_openai.last_request.headers["authorization"] == "Bearer k2"


async def test_content_filter_400_becomes_content_filtered_error(
        fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(Behaviour(content_filter=True))
    model = azure_model(fake_openai)
    with pytest.raises(ContentFilteredError):
        await collect(model)
    await model.aclose()


async def test_content_filter_finish_reason_ends_the_stream(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(Behaviour(answer="Partly", finish_reason="content_filter"))
    model = azure_model(fake_openai)
    events = await collect(model)
    await model.aclose()
    assert events[-1] == ModelDone(finish_reason="content_filter", usage=events[-1].usage,  # type: ignore[union-attr]
                                   endpoint="east")


@pytest.mark.parametrize(("headers", "expected"), [
    ({"retry-after": "20"}, 20.0),
    ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
    ({"x-ratelimit-reset-tokens": "1m30s", "x-ratelimit-reset-requests": "2"}, 90.0),
])
async def test_throttling_is_translated_with_cool_down(
        fake_openai: FakeOpenAIServer, headers: dict[str, str], expected: float) -> None:
    fake_openai.enqueue(Behaviour(status=429, headers=headers))
    model = azure_model(fake_openai)
    with pytest.raises(ModelEndpointError) as caught:
        await collect(model)
    await model.aclose()
    assert caught.value.reason == "throttled" and caught.value.http_status == 429
    assert caught.value.retry_after_s == pytest.approx(expected)
    assert len(fake_openai.requests) == 1, "the SDK must not retry on its own"


@pytest.mark.parametrize(("status", "reason"), [
    (500, "server_error"), (503, "server_error"), (408, "timeout"), (404, "not_found"),
    (401, "auth"), (400, "bad_request")])
async def test_status_codes_map_to_reasons_without_sdk_retries(
        fake_openai: FakeOpenAIServer, status: int, reason: str) -> None:
    fake_openai.set_default(status=status)
    model = azure_model(fake_openai)
    with pytest.raises(ModelEndpointError) as caught:
        await collect(model)
    await model.aclose()
    assert caught.value.reason == reason
    assert len(fake_openai.requests) == 1


async def test_hang_before_first_byte_hits_first_token_timeout(
        fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(Behaviour(hang_s=10))
    model = azure_model(fake_openai, first_token_timeout_s=0.3)
    with pytest.raises(ModelEndpointError) as caught:
        await collect(model)
    await model.aclose()
    assert caught.value.reason == "first_token_timeout"


async def test_slow_first_token_hits_first_token_timeout(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(Behaviour(first_token_delay_s=10))
    model = azure_model(fake_openai, first_token_timeout_s=0.3)
    with pytest.raises(ModelEndpointError) as caught:
        await collect(model)
    await model.aclose()
    assert caught.value.reason == "first_token_timeout"


async def test_drop_mid_stream_raises_interrupted_with_partial_text(
        fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(Behaviour(answer="alpha beta gamma delta", drop_after_chunks=2))
    model = azure_model(fake_openai)
    seen: list[str] = []
    with pytest.raises(ModelStreamInterruptedError) as caught:
        async for event in model.stream(MESSAGES, max_tokens=50):
            if isinstance(event, ModelDelta):
                seen.append(event.text)
    await model.aclose()
    assert caught.value.partial_text == "alpha beta " == "".join(seen)


async def test_connection_refused_is_a_connection_error(fake_regions: object) -> None:
    with FakeOpenAIServer() as fake:
        url = fake.url
    config = EndpointConfig(name="gone", endpoint=url, deployment="d", api_key=SecretStr("k"),
                            timeout_s=0.5)
    model = OpenAIChatModel.from_config(config)
    with pytest.raises(ModelEndpointError) as caught:
        await collect(model)
    await model.aclose()
    assert caught.value.reason == "connection"


async def test_no_key_on_azure_uses_entra_id(fake_openai: FakeOpenAIServer) -> None:
    config = EndpointConfig(name="mi", endpoint=fake_openai.url, deployment="d")
    model = OpenAIChatModel.from_config(config, client_id="00000000-0000-0000-0000-000000000001")
    health = await model.health()
    assert health.endpoints[0].auth == "entra_id"
    assert model.refresh_credentials() is True
    await model.aclose()
