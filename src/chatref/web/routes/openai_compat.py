"""OpenAI-compatible chat completions, grounded like /api/chat, so OpenAI clients can use chatref.

Stateless, as OpenAI's API is: the client sends the whole conversation each time and nothing is
stored. System and developer messages are accepted but do not replace chatref's own rules (they
are not sent to the model); the model, temperature and token limit are the server's. Citations
travel in ``choices[0].message.context.citations`` (streaming: in the final chunk's
``delta.context``), the shape Azure OpenAI's "on your data" uses.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from chatref.chat.service import ChatService, ChatTurn
from chatref.chat.types import ChatRequest, CitationsReady, TextDelta, TurnDone, TurnFailed
from chatref.errors import ChatrefError, ModelStreamInterruptedError
from chatref.llm.base import ChatMessage, Role
from chatref.web.deps import current_user, get_chat
from chatref.web.schemas import (
    ChatCompletionIn,
    ChatCompletionOut,
    CitationOut,
    CompletionChoice,
    CompletionMessage,
    ErrorResponse,
    ModelList,
    ModelOut,
    UsageOut,
)
from chatref.web.sse import SSE_HEADERS, sse_data

log = logging.getLogger(__name__)
router = APIRouter(tags=["openai-compatible"])
MODEL_ID = "chatref"
_ROLES: dict[str, Role] = {"user": "user", "assistant": "assistant", "system": "system",
                           "developer": "system"}


def _request(body: ChatCompletionIn, user_id: str) -> ChatRequest:
    messages = [ChatMessage(_ROLES[m.role], m.text()) for m in body.messages if m.role in _ROLES]
    return ChatRequest(messages, user_id=user_id, persist=False)


def _citations(citations: list[Any]) -> dict[str, Any]:
    return {"citations": [CitationOut.from_citation(c).model_dump() for c in citations]}


@router.get("/v1/models")
async def list_models() -> ModelList:
    """The one model chatref serves: grounded answers from the indexed documents."""
    return ModelList(data=[ModelOut(id=MODEL_ID, created=0)])


@router.post(
    "/v1/chat/completions",
    response_model=ChatCompletionOut,
    responses={
        200: {"content": {"text/event-stream": {}},
              "description": "A chat.completion, or chat.completion.chunk events with stream."},
        400: {"model": ErrorResponse},
        502: {"model": ErrorResponse, "description": "The model failed part-way (non-stream)."},
    },
)
async def chat_completions(
    body: ChatCompletionIn,
    chat: Annotated[ChatService, Depends(get_chat)],
    user_id: Annotated[str, Depends(current_user)],
) -> ChatCompletionOut | StreamingResponse:
    """OpenAI's chat-completions API, answered from the indexed documents."""
    request = _request(body, user_id)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if body.stream:
        turn = await chat.start_turn(request)
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        return StreamingResponse(
            _stream(turn, completion_id, created, include_usage),
            media_type="text/event-stream", headers=SSE_HEADERS,
        )
    answer = await chat.answer(request)
    if answer.error is not None:  # the model broke off mid-answer (a partial answer is kept)
        raise ModelStreamInterruptedError(answer.error.message, partial_text=answer.text)
    return ChatCompletionOut(
        id=completion_id, created=created, model=MODEL_ID,
        choices=[CompletionChoice(
            message=CompletionMessage(content=answer.text, context=_citations(answer.citations)),
            finish_reason=answer.finish_reason,
        )],
        usage=UsageOut(prompt_tokens=answer.usage.prompt_tokens,
                       completion_tokens=answer.usage.completion_tokens,
                       total_tokens=answer.usage.total_tokens),
    )


async def _stream(
    turn: ChatTurn, completion_id: str, created: int, include_usage: bool
) -> AsyncIterator[bytes]:
    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        return sse_data({
            "id": completion_id, "object": "chat.completion.chunk", "created": created,
            "model": MODEL_ID,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        })

    yield chunk({"role": "assistant", "content": ""})
    citations: list[Any] = []
    try:
        async for event in turn.events():
            if isinstance(event, TextDelta):
                yield chunk({"content": event.text})
            elif isinstance(event, CitationsReady):
                citations = event.citations
            elif isinstance(event, TurnDone):
                yield chunk({"context": _citations(citations)}, event.finish_reason)
                if include_usage:
                    yield sse_data({
                        "id": completion_id, "object": "chat.completion.chunk",
                        "created": created, "model": MODEL_ID, "choices": [],
                        "usage": {"prompt_tokens": event.usage.prompt_tokens,
                                  "completion_tokens": event.usage.completion_tokens,
                                  "total_tokens": event.usage.total_tokens},
                    })
                yield sse_data("[DONE]")
            elif isinstance(event, TurnFailed):
                yield sse_data({"error": {"code": event.code, "message": event.message,
                                          "type": "server_error"}})
    except ChatrefError as exc:
        yield sse_data({"error": {"code": exc.code, "message": exc.message,
                                  "type": "server_error"}})
    except Exception:
        log.exception("chat completion stream failed unexpectedly")
        yield sse_data({"error": {"code": "internal_error", "type": "server_error",
                                  "message": "chatref failed unexpectedly; see its log"}})
