"""POST /api/chat in-process, over a real index, with and without the fake Azure OpenAI model."""

from __future__ import annotations

import httpx
import pytest

from chatref.chat.extractive import MODEL_UNAVAILABLE_NOTICE, NO_MODEL_NOTICE
from chatref.chat.turn import CONTENT_FILTERED_MESSAGE
from tests.fakes.openai_server import Behaviour, FakeOpenAIServer

from .conftest import chat

pytestmark = pytest.mark.timeout(120)


async def test_extractive_turn_streams_events_in_order_and_is_stored(
    client: httpx.AsyncClient,
) -> None:
    events = await chat(client, "How often are storage account keys rotated?")
    names = [name for name, _ in events]
    assert names[0] == "conversation" and names[-2:] == ["citations", "done"]
    assert set(names[1:-2]) == {"delta"}
    text = "".join(data["text"] for name, data in events if name == "delta")
    assert text.startswith(NO_MODEL_NOTICE)
    assert "rotated every 30 days" in text
    citations = events[-2][1]
    assert citations and citations[0]["source"].endswith("keys.md")
    assert set(citations[0]) >= {"id", "source", "title", "page", "section", "text"}
    done = events[-1][1]
    assert done["mode"] == "extractive" and done["finish_reason"] == "stop"
    conversation_id = events[0][1]["id"]
    stored = (await client.get(f"/api/conversations/{conversation_id}")).json()
    assert [m["role"] for m in stored["messages"]] == ["user", "assistant"]
    assert stored["messages"][1]["content"] == text
    assert stored["messages"][1]["id"] == done["message_id"]
    assert stored["messages"][1]["citations"] == citations


async def test_model_turn_grounds_the_prompt_and_relays_the_answer(
    with_model: FakeOpenAIServer, client: httpx.AsyncClient,
) -> None:
    with_model.answer = "Keys are rotated every 30 days [1]."
    events = await chat(client, "How often are storage account keys rotated?")
    request = with_model.last_request
    assert request is not None and request.deployment == "gpt-4o"
    assert "Storage account keys are rotated every 30 days" in request.prompt_text
    assert '<source id="1"' in request.messages[0]["content"]
    assert request.messages[-1] == {"role": "user",
                                    "content": "How often are storage account keys rotated?"}
    text = "".join(data["text"] for name, data in events if name == "delta")
    assert text == "Keys are rotated every 30 days [1]."
    citations = dict(events)["citations"]
    assert [c["id"] for c in citations] == [1]
    done = events[-1][1]
    assert done["mode"] == "model" and done["usage"]["completion_tokens"] > 0


async def test_a_follow_up_continues_the_stored_conversation(
    with_model: FakeOpenAIServer, client: httpx.AsyncClient,
) -> None:
    first = await chat(client, "Tell me about backups")
    conversation_id = first[0][1]["id"]
    with_model.reset(answer="backup retention")  # the rewrite answer, then the answer itself
    second = await chat(client, "How long are they kept?", conversation_id=conversation_id)
    assert second[0][1]["id"] == conversation_id
    rewrite, answer = with_model.requests
    assert "Tell me about backups" in rewrite.prompt_text
    assert [m["role"] for m in answer.messages] == ["system", "user", "assistant", "user"]
    detail = (await client.get(f"/api/conversations/{conversation_id}")).json()
    assert detail["message_count"] == 4


async def test_every_endpoint_down_answers_extractively_with_200(
    with_model: FakeOpenAIServer, client: httpx.AsyncClient,
) -> None:
    with_model.set_default(status=503)
    events = await chat(client, "How long are backups kept?")
    text = "".join(data["text"] for name, data in events if name == "delta")
    assert text.startswith(MODEL_UNAVAILABLE_NOTICE) and "35 days" in text
    assert events[-1] == ("done", events[-1][1]) and events[-1][1]["mode"] == "extractive"


async def test_content_filter_is_a_polite_answer(
    with_model: FakeOpenAIServer, client: httpx.AsyncClient,
) -> None:
    with_model.enqueue(Behaviour(status=400, content_filter=True))
    events = await chat(client, "something the filter refuses")
    text = "".join(data["text"] for name, data in events if name == "delta")
    assert text == CONTENT_FILTERED_MESSAGE
    assert events[-1][1]["finish_reason"] == "content_filter"


async def test_a_model_failure_mid_answer_ends_with_an_error_event_and_keeps_the_text(
    with_model: FakeOpenAIServer, client: httpx.AsyncClient,
) -> None:
    with_model.answer = "one two three four five six"
    with_model.enqueue(Behaviour(drop_after_chunks=2))
    events = await chat(client, "count for me")
    names = [name for name, _ in events]
    assert names[-1] == "error" and "done" not in names
    error = events[-1][1]
    assert error["code"] and "partial answer was kept" in error["message"]
    partial = "".join(data["text"] for name, data in events if name == "delta")
    assert partial.startswith("one")
    detail = (await client.get(f"/api/conversations/{events[0][1]['id']}")).json()
    answer = detail["messages"][1]
    assert (answer["status"], answer["content"], answer["id"]) == (
        "error", partial, error["message_id"])


async def test_an_openai_compatible_endpoint_on_v1_paths(
    fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, indexed: object,
) -> None:
    from chatref.web.app import create_app

    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.openai_base_url)
    monkeypatch.setenv("OPENAI_MODEL", "gpt-4o-mini")
    monkeypatch.setenv("OPENAI_API_KEY", "fake-key-for-tests")
    fake_openai.answer = "Nightly [1]."
    app = create_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            events = await chat(http, "When do backups run?")
    request = fake_openai.last_request
    assert request is not None and request.path == "/v1/chat/completions"
    assert request.body["model"] == "gpt-4o-mini" and request.body["stream"] is True
    assert "Backups run nightly at 02:00 UTC" in request.prompt_text
    assert "".join(d["text"] for n, d in events if n == "delta") == "Nightly [1]."
