"""POST /api/chat: one grounded turn, streamed as server-sent events (encoded in web/wire.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from chatref.chat.service import ChatService
from chatref.chat.types import ChatRequest
from chatref.llm.base import ChatMessage
from chatref.web.deps import current_user, get_chat
from chatref.web.schemas import ChatIn, ErrorResponse
from chatref.web.sse import SSE_HEADERS
from chatref.web.wire import ChatEvents, encode_turn

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
        encode_turn(turn.events(), ChatEvents()), media_type="text/event-stream",
        headers=SSE_HEADERS,
    )
