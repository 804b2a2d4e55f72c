"""POST /api/chat: one grounded turn, streamed as server-sent events."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from chatref.chat.service import ChatService, ChatTurn
from chatref.chat.types import (
    ChatRequest,
    CitationsReady,
    TextDelta,
    TurnDone,
    TurnFailed,
    TurnStarted,
)
from chatref.errors import ChatrefError
from chatref.llm.base import ChatMessage
from chatref.web.deps import current_user, get_chat
from chatref.web.schemas import ChatIn, CitationOut, ErrorResponse
from chatref.web.sse import SSE_HEADERS, sse_event

log = logging.getLogger(__name__)
router = APIRouter(tags=["chat"])

_SSE_DOC = """\
Events, in order: `conversation` `{"id", "user_message_id"}`; `delta` `{"text"}` (many);
`citations` `[{"id", "source", "title", "page", "section", "text", ...}]` (the sources the
answer cites, `id` being the n of `[n]`); then `done`
`{"finish_reason", "usage", "message_id", "mode", "model"}` or, when the model fails part-way,
`error` `{"code", "message", "message_id"}` (the partial answer is stored, marked `error`)."""


@router.post(
    "/api/chat",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": _SSE_DOC},
        400: {"model": ErrorResponse, "description": "Bad input (named in the message)."},
        404: {"model": ErrorResponse, "description": "Unknown conversation_id."},
    },
)
async def chat(
    body: ChatIn,
    chat: Annotated[ChatService, Depends(get_chat)],
    user_id: Annotated[str, Depends(current_user)],
) -> StreamingResponse:
    """Answer the last user message from the indexed documents, streaming.

    Without `conversation_id` a new conversation is stored; with it, the stored history is used.
    With no model configured (or none reachable) the answer is extractive: quoted passages,
    labelled as such, with the same citations. Errors in the request are answered 4xx before
    any event is sent.
    """
    request = ChatRequest(
        [ChatMessage(m.role, m.content) for m in body.messages],
        user_id=user_id, conversation_id=body.conversation_id,
    )
    turn = await chat.start_turn(request)
    return StreamingResponse(
        stream_turn(turn), media_type="text/event-stream", headers=SSE_HEADERS
    )


async def stream_turn(turn: ChatTurn) -> AsyncIterator[bytes]:
    try:
        async for event in turn.events():
            if isinstance(event, TextDelta):
                yield sse_event("delta", {"text": event.text})
            elif isinstance(event, TurnStarted):
                yield sse_event(
                    "conversation",
                    {"id": event.conversation_id, "user_message_id": event.user_message_id},
                )
            elif isinstance(event, CitationsReady):
                yield sse_event(
                    "citations",
                    [CitationOut.from_citation(c).model_dump() for c in event.citations],
                )
            elif isinstance(event, TurnDone):
                yield sse_event("done", {
                    "finish_reason": event.finish_reason,
                    "usage": {
                        "prompt_tokens": event.usage.prompt_tokens,
                        "completion_tokens": event.usage.completion_tokens,
                        "total_tokens": event.usage.total_tokens,
                    },
                    "message_id": event.message_id,
                    "mode": event.mode,
                    "model": event.model,
                })
            elif isinstance(event, TurnFailed):
                yield sse_event("error", {"code": event.code, "message": event.message,
                                          "message_id": event.message_id})
    except ChatrefError as exc:
        log.warning("chat stream failed: %s", exc.message)
        yield sse_event("error", {"code": exc.code, "message": exc.message, "message_id": None})
    except Exception:
        log.exception("chat stream failed unexpectedly")
        yield sse_event("error", {"code": "internal_error",
                                  "message": "chatref failed unexpectedly; see its log",
                                  "message_id": None})
