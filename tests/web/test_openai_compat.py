"""/v1/chat/completions, driven by the official openai SDK against chatref served by uvicorn."""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai
import pytest

from tests.fakes.openai_server import FakeOpenAIServer

from .conftest import LiveServer

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def sdk(live_server: LiveServer) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(base_url=f"{live_server.url}/v1", api_key="unused",
                                max_retries=0, timeout=30)
    yield client
    await client.close()


async def test_non_streaming_completion_is_grounded_with_citations(
    with_model: FakeOpenAIServer, sdk: openai.AsyncOpenAI,
) -> None:
    with_model.answer = "Backups are kept for 35 days [1]."
    completion = await sdk.chat.completions.create(
        model="anything",
        messages=[{"role": "system", "content": "You are a pirate."},
                  {"role": "user", "content": "How long are backups kept?"}],
    )
    assert completion.object == "chat.completion" and completion.model == "chatref"
    choice = completion.choices[0]
    assert choice.message.content == "Backups are kept for 35 days [1]."
    assert choice.finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens > 0
    context = (choice.message.model_extra or {})["context"]
    assert context["citations"][0]["source"].endswith("backups.md")
    prompt = with_model.last_request
    assert prompt is not None and "kept for 35 days in a geo-redundant vault" in prompt.prompt_text
    assert "pirate" not in prompt.prompt_text  # client system messages do not replace our rules


async def test_streaming_completion_with_usage(
    with_model: FakeOpenAIServer, sdk: openai.AsyncOpenAI,
) -> None:
    with_model.answer = "Every 30 days [1]."
    stream = await sdk.chat.completions.create(
        model="chatref", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "How often are storage account keys rotated?"}],
    )
    text, finish, usage, citations = "", None, None, None
    async for chunk in stream:
        assert chunk.object == "chat.completion.chunk"
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            text += choice.delta.content or ""
            if choice.finish_reason:
                finish = choice.finish_reason
                citations = (choice.delta.model_extra or {})["context"]["citations"]
    assert text == "Every 30 days [1]."
    assert finish == "stop" and usage is not None and usage.completion_tokens > 0
    assert citations and citations[0]["id"] == 1


async def test_extractive_without_a_model_and_history_from_the_client(
    sdk: openai.AsyncOpenAI,
) -> None:
    completion = await sdk.chat.completions.create(
        model="chatref",
        messages=[{"role": "user", "content": "hello"},
                  {"role": "assistant", "content": "hi"},
                  {"role": "user", "content": [{"type": "text",
                                                "text": "How long are backups kept?"}]}],
    )
    content = completion.choices[0].message.content or ""
    assert content.startswith("*Extractive answer") and "35 days" in content


async def test_a_mid_stream_failure_reaches_the_sdk_as_an_error(
    with_model: FakeOpenAIServer, sdk: openai.AsyncOpenAI,
) -> None:
    from tests.fakes.openai_server import Behaviour

    with_model.answer = "one two three four five"
    with_model.enqueue(Behaviour(drop_after_chunks=2))
    stream = await sdk.chat.completions.create(
        model="chatref", stream=True, messages=[{"role": "user", "content": "count"}])
    received = ""
    with pytest.raises(openai.APIError, match="partial answer was kept"):
        async for chunk in stream:
            for choice in chunk.choices:
                received += choice.delta.content or ""
    assert received.startswith("one")


async def test_bad_requests_raise_the_sdks_bad_request_error(sdk: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="last message must be the user's question"):
        await sdk.chat.completions.create(
            model="chatref", messages=[{"role": "assistant", "content": "hi"}])


async def test_models_lists_chatref(sdk: openai.AsyncOpenAI) -> None:
    models = [m.id async for m in sdk.models.list()]
    assert models == ["chatref"]
