"""The fake Azure OpenAI server speaks the wire protocol and injects the faults it is told to."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.fakes.openai_server import Behaviour, FakeOpenAIServer, split_tokens

AZURE_PATH = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
BODY = {"messages": [{"role": "user", "content": "hello there"}]}


def _events(text: str) -> list[str]:
    return [line.removeprefix("data: ") for line in text.splitlines() if line.startswith("data: ")]


async def test_azure_stream_has_filter_chunk_deltas_finish_usage_and_done(
        fake_openai: FakeOpenAIServer) -> None:
    fake_openai.answer = "one two three"
    async with httpx.AsyncClient(base_url=fake_openai.url) as client:
        response = await client.post(AZURE_PATH, headers={"api-key": "k"},
                                     json={**BODY, "stream": True,
                                           "stream_options": {"include_usage": True}})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _events(response.text)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert chunks[0]["choices"] == [] and "prompt_filter_results" in chunks[0]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "one two three"
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    assert chunks[-1]["usage"]["completion_tokens"] == 3


async def test_v1_non_stream_and_request_recording(fake_openai: FakeOpenAIServer) -> None:
    async with httpx.AsyncClient(base_url=fake_openai.openai_base_url) as client:
        response = await client.post("/chat/completions", headers={"authorization": "Bearer k"},
                                     json={**BODY, "model": "m1"})
    assert response.json()["choices"][0]["message"]["content"] == fake_openai.answer
    assert response.json()["model"] == "m1"
    assert "hello there" in fake_openai.last_request.prompt_text
    assert fake_openai.last_request.headers["authorization"] == "Bearer k"


async def test_answers_by_system_script_answers_by_their_system_message(
        fake_openai: FakeOpenAIServer) -> None:
    fake_openai.answer = "a long streamed answer"
    fake_openai.set_default(answers_by_system={"Rewrite the question": "short rewrite"})
    rewrite = [{"role": "system", "content": "Rewrite the question as a query."},
               {"role": "user", "content": "and then?"}]
    async with httpx.AsyncClient(base_url=fake_openai.url) as client:
        scripted = await client.post(AZURE_PATH, headers={"api-key": "k"},
                                     json={"messages": rewrite, "stream": True})
        plain = await client.post(AZURE_PATH, headers={"api-key": "k"}, json=BODY)
    chunks = [json.loads(e) for e in _events(scripted.text)[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content", "")
                   for c in chunks if c["choices"]) == "short rewrite"
    assert plain.json()["choices"][0]["message"]["content"] == "a long streamed answer"


async def test_errors_have_openai_shape_and_headers(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(Behaviour(status=429, headers={"retry-after": "7"}),
                        Behaviour(content_filter=True))
    async with httpx.AsyncClient(base_url=fake_openai.url) as client:
        throttled = await client.post(AZURE_PATH, headers={"api-key": "k"}, json=BODY)
        filtered = await client.post(AZURE_PATH, headers={"api-key": "k"}, json=BODY)
        normal = await client.post(AZURE_PATH, headers={"api-key": "k"}, json=BODY)
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "7"
    assert throttled.json()["error"]["code"] == "429"
    assert filtered.status_code == 400
    error = filtered.json()["error"]
    assert error["code"] == "content_filter"
    assert error["innererror"]["content_filter_result"]["violence"]["filtered"] is True
    assert normal.status_code == 200


async def test_missing_key_and_unknown_deployment_are_refused(fake_regions: object) -> None:
    with FakeOpenAIServer(api_key="secret-k", deployments={"gpt-4o"}) as fake:
        async with httpx.AsyncClient(base_url=fake.url) as client:
            no_key = await client.post(AZURE_PATH, json=BODY)
            wrong = await client.post(AZURE_PATH.replace("gpt-4o", "nope"),
                                      headers={"api-key": "secret-k"}, json=BODY)
            right = await client.post(AZURE_PATH, headers={"api-key": "secret-k"}, json=BODY)
    assert no_key.status_code == 401
    assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "DeploymentNotFound"
    assert right.status_code == 200


async def test_drop_after_chunks_cuts_the_connection(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.answer = "a b c d e f"
    fake_openai.enqueue(Behaviour(drop_after_chunks=2))
    async with httpx.AsyncClient(base_url=fake_openai.url) as client:
        received = []
        with pytest.raises(httpx.RemoteProtocolError):
            async with client.stream("POST", AZURE_PATH, headers={"api-key": "k"},
                                     json={**BODY, "stream": True}) as response:
                async for line in response.aiter_lines():
                    received.append(line)
    contents = [json.loads(e)["choices"][0]["delta"].get("content") for e in _events(
        "\n".join(received)) if json.loads(e)["choices"]]
    assert [c for c in contents if c] == ["a ", "b "]


async def test_hang_holds_the_first_byte(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.set_default(hang_s=5.0)
    async with httpx.AsyncClient(base_url=fake_openai.url, timeout=0.2) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.post(AZURE_PATH, headers={"api-key": "k"}, json=BODY)


async def test_admin_api_scripts_behaviour(fake_openai: FakeOpenAIServer) -> None:
    async with httpx.AsyncClient(base_url=fake_openai.url) as client:
        queued = await client.post("/_fake/enqueue", json=[{"status": 503}])
        bad = await client.post("/_fake/default", json={"nonsense": 1})
        first = await client.post(AZURE_PATH, headers={"api-key": "k"}, json=BODY)
        second = await client.post(AZURE_PATH, headers={"api-key": "k"}, json=BODY)
        log = await client.get("/_fake/requests")
    assert queued.json() == {"queued": 1}
    assert bad.status_code == 400 and "nonsense" in bad.json()["error"]["message"]
    assert (first.status_code, second.status_code) == (503, 200)
    assert len(log.json()["requests"]) == 2


def test_split_tokens_keeps_the_text() -> None:
    text = "Hello,  world!\nNew line."
    assert "".join(split_tokens(text)) == text
