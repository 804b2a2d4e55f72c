"""The wire encoders (web/wire.py): each format from a scripted sequence of turn events."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from chatref.chat.types import (
    Answer,
    CitationsReady,
    TextDelta,
    TurnDone,
    TurnEvent,
    TurnFailed,
    TurnStarted,
)
from chatref.errors import StoreError
from chatref.llm.base import Usage
from chatref.store.types import Citation
from chatref.web.wire import ChatEvents, OpenAIChunks, TurnEncoder, encode_turn, openai_completion

from .conftest import parse_sse

CITATION = Citation(1, "c1", "d1", "docs/ops.md", "Operations", 3, "Backups", "Kept 35 days.")
TURN: list[TurnEvent] = [
    TurnStarted("conv1", "msg1"),
    TextDelta("Backups are kept "),
    TextDelta("35 days [1]."),
    CitationsReady([CITATION]),
    TurnDone("stop", Usage(120, 73, 64), "model", "msg2", "gpt@eastus"),
]


async def _events(
    events: Sequence[TurnEvent], raise_after: BaseException | None = None
) -> AsyncGenerator[TurnEvent, None]:
    for event in events:
        yield event
    if raise_after is not None:
        raise raise_after


async def _encode(encoder: TurnEncoder, events: Sequence[TurnEvent],
                  raise_after: BaseException | None = None) -> str:
    return b"".join([chunk async for chunk in encode_turn(_events(events, raise_after),
                                                           encoder)]).decode()


def _data(body: str) -> list[Any]:
    """The ``data:`` payloads of an unnamed-event stream (OpenAI's), ``[DONE]`` as a string."""
    lines = [line[6:] for line in body.splitlines() if line.startswith("data: ")]
    return [line if line == "[DONE]" else json.loads(line) for line in lines]


async def test_chat_events_encode_a_whole_turn() -> None:
    events = parse_sse(await _encode(ChatEvents(), TURN))
    assert [name for name, _ in events] == ["conversation", "delta", "delta", "citations", "done"]
    assert events[0][1] == {"id": "conv1", "user_message_id": "msg1"}
    assert "".join(data["text"] for name, data in events if name == "delta") == (
        "Backups are kept 35 days [1].")
    assert events[3][1] == [{"id": 1, "source": "docs/ops.md", "title": "Operations", "page": 3,
                             "section": "Backups", "text": "Kept 35 days.", "chunk_id": "c1",
                             "doc_id": "d1"}]
    assert events[4][1] == {
        "finish_reason": "stop", "message_id": "msg2", "mode": "model", "model": "gpt@eastus",
        "usage": {"prompt_tokens": 120, "completion_tokens": 73, "total_tokens": 193,
                  "completion_tokens_details": {"reasoning_tokens": 64}},
    }


async def test_chat_events_keep_the_message_id_of_a_failed_turn() -> None:
    events = parse_sse(await _encode(ChatEvents(), [
        TurnStarted("conv1", "msg1"), TextDelta("Part"), CitationsReady([]),
        TurnFailed("model_interrupted", "The model stopped answering part-way.", "msg2"),
    ]))
    assert events[-1] == ("error", {"code": "model_interrupted", "message_id": "msg2",
                                    "message": "The model stopped answering part-way."})


@pytest.mark.parametrize("encoder_type", [ChatEvents, lambda: OpenAIChunks("id", 0)])
async def test_an_error_while_streaming_becomes_the_formats_error_event(
    encoder_type: Any,
) -> None:
    known = await _encode(encoder_type(), TURN[:2], StoreError("the store is unreachable"))
    unknown = await _encode(encoder_type(), TURN[:2], RuntimeError("secret detail"))
    assert "the store is unreachable" in known
    assert '"code":"store_unavailable"' in known
    assert '"code":"internal_error"' in unknown
    assert "secret detail" not in unknown  # an unexpected error's text stays in the log


async def test_the_turn_is_closed_when_the_client_stops_reading() -> None:
    closed = []

    async def events() -> AsyncGenerator[TurnEvent, None]:
        try:
            for event in TURN:
                yield event
        finally:
            closed.append(True)  # where ChatTurn stores a stopped answer

    stream = encode_turn(events(), ChatEvents())
    await anext(stream)
    await stream.aclose()
    assert closed == [True]


async def test_openai_chunks_are_what_the_openai_sdk_parses() -> None:
    body = await _encode(OpenAIChunks("chatcmpl-1", 1700000000, include_usage=True), TURN)
    payloads = _data(body)
    assert payloads[-1] == "[DONE]"
    chunks = [ChatCompletionChunk.model_validate(p) for p in payloads[:-1]]
    assert {c.id for c in chunks} == {"chatcmpl-1"}
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Backups are kept 35 days [1]."
    final = chunks[-2].choices[0]
    assert final.finish_reason == "stop"
    assert final.delta.model_extra is not None
    assert final.delta.model_extra["context"]["citations"][0]["source"] == "docs/ops.md"
    assert chunks[-1].choices == []
    usage = chunks[-1].usage
    assert usage is not None and usage.total_tokens == 193
    # The OpenAI SDK reads the hidden reasoning tokens where OpenAI puts them.
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 64


async def test_openai_chunks_send_usage_only_when_asked() -> None:
    payloads = _data(await _encode(OpenAIChunks("chatcmpl-1", 0), TURN))
    assert all("usage" not in p for p in payloads if isinstance(p, dict))
    assert payloads[-1] == "[DONE]"


async def test_a_failed_openai_stream_ends_with_an_error_and_no_done() -> None:
    payloads = _data(await _encode(OpenAIChunks("chatcmpl-1", 0), [
        TextDelta("Part"), CitationsReady([]), TurnFailed("model_interrupted", "broke off"),
    ]))
    assert payloads[-1] == {"error": {"code": "model_interrupted", "message": "broke off",
                                      "type": "server_error"}}
    assert "[DONE]" not in payloads


def test_a_whole_answer_is_a_chat_completion_the_openai_sdk_parses() -> None:
    answer = Answer(text="Backups are kept 35 days [1].", citations=[CITATION],
                    finish_reason="stop", usage=Usage(120, 9))
    completion = ChatCompletion.model_validate(
        openai_completion(answer, "chatcmpl-2", 1700000000).model_dump())
    assert completion.choices[0].message.content == answer.text
    assert completion.usage is not None and completion.usage.total_tokens == 129
    extra = completion.choices[0].message.model_extra
    assert extra is not None and extra["context"]["citations"][0]["id"] == 1
