"""/api/conversations and feedback: the stored history of the calling user."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from chatref.errors import InputError
from chatref.store.types import ConversationStore
from chatref.web.deps import current_user, get_store
from chatref.web.schemas import (
    ConversationDetail,
    ConversationList,
    ConversationOut,
    ErrorResponse,
    FeedbackIn,
    FeedbackOut,
    MessageOut,
    RenameIn,
)

router = APIRouter(tags=["conversations"])
Store = Annotated[ConversationStore, Depends(get_store)]
User = Annotated[str, Depends(current_user)]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No such conversation or message."}
}


@router.get("/api/conversations")
async def list_conversations(
    store: Store, user_id: User,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(min_length=1, max_length=2000)] = None,
) -> ConversationList:
    """The caller's conversations, most recently active first. When ``next_cursor`` is set, pass
    it back as ``cursor`` for the next page."""
    page = await store.list_conversations(user_id, limit=limit, cursor=cursor)
    return ConversationList(
        conversations=[ConversationOut.from_row(r) for r in page.conversations],
        next_cursor=page.next_cursor,
    )


@router.get("/api/conversations/{conversation_id}", responses=_NOT_FOUND)
async def get_conversation(conversation_id: str, store: Store, user_id: User) -> ConversationDetail:
    """One conversation with its messages, each answer's citations and feedback."""
    conversation = await store.get_conversation(user_id, conversation_id)
    messages = await store.get_messages(user_id, conversation_id)
    return ConversationDetail(
        **ConversationOut.from_row(conversation).model_dump(),
        messages=[MessageOut.from_row(m) for m in messages],
    )


@router.patch("/api/conversations/{conversation_id}", responses=_NOT_FOUND)
async def rename_conversation(
    conversation_id: str, body: RenameIn, store: Store, user_id: User
) -> ConversationOut:
    """Give a conversation a new title."""
    title = " ".join(body.title.split())
    if not title:
        raise InputError("title: must contain some text")
    return ConversationOut.from_row(
        await store.rename_conversation(user_id, conversation_id, title)
    )


@router.delete("/api/conversations/{conversation_id}", status_code=204, responses=_NOT_FOUND)
async def delete_conversation(conversation_id: str, store: Store, user_id: User) -> Response:
    """Delete a conversation with its messages, citations and feedback."""
    await store.delete_conversation(user_id, conversation_id)
    return Response(status_code=204)


@router.put("/api/messages/{message_id}/feedback", responses=_NOT_FOUND)
async def set_feedback(
    message_id: str, body: FeedbackIn, store: Store, user_id: User
) -> FeedbackOut:
    """Rate an answer up or down, with an optional comment (a new rating replaces the old)."""
    comment = body.comment.strip() if body.comment else None
    return FeedbackOut.from_row(
        await store.set_feedback(user_id, message_id, body.rating, comment or None)
    )
