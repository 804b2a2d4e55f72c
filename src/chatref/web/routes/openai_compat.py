"""OpenAI-compatible chat completions, grounded like /api/chat, so OpenAI clients can use chatref.

Stateless, as OpenAI's API is: the client sends the whole conversation each time and nothing is
stored. System and developer messages are accepted but do not replace chatref's own rules (they
are not sent to the model); the model, temperature and token limit are the server's. Citations
travel in ``choices[0].message.context.citations`` (streaming: in the final chunk's
``delta.context``), the shape Azure OpenAI's "on your data" uses.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from chatref.chat.service import ChatService
from chatref.chat.types import ChatRequest
from chatref.errors import ModelStreamInterruptedError
from chatref.llm.base import ChatMessage, Role
from chatref.web.deps import current_user, get_chat
from chatref.web.schemas import (
    ChatCompletionIn,
    ChatCompletionOut,
    ErrorResponse,
    ModelList,
    ModelOut,
)
from chatref.web.sse import SSE_HEADERS
from chatref.web.wire import MODEL_ID, OpenAIChunks, encode_turn, openai_completion

router = APIRouter(tags=["openai-compatible"])
_ROLES: dict[str, Role] = {"user": "user", "assistant": "assistant", "system": "system",
                           "developer": "system"}


def _request(body: ChatCompletionIn, user_id: str) -> ChatRequest:
    messages = [ChatMessage(_ROLES[m.role], m.text()) for m in body.messages if m.role in _ROLES]
    return ChatRequest(messages, user_id=user_id, persist=False)


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
        encoder = OpenAIChunks(completion_id, created, include_usage=include_usage)
        return StreamingResponse(
            encode_turn(turn.events(), encoder), media_type="text/event-stream",
            headers=SSE_HEADERS,
        )
    answer = await chat.answer(request)
    if answer.error is not None:  # the model broke off mid-answer (a partial answer is kept)
        raise ModelStreamInterruptedError(answer.error.message, partial_text=answer.text)
    return openai_completion(answer, completion_id, created)
