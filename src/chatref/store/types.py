"""The conversation-store seam: stored rows and the ``ConversationStore`` Protocol.

The embedded default is one SQLite file (store/sqlite_store.py); Azure Table Storage is the
production implementation. Rows here are what is stored; the HTTP API has its own schemas
(web/schemas.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

MessageRole = Literal["user", "assistant"]
# complete: the model finished; extractive: answered from passages without a model;
# stopped: the client went away mid-answer; error: the model failed mid-answer (partial text kept);
# filtered: the model's content filter refused.
MessageStatus = Literal["complete", "extractive", "stopped", "error", "filtered"]
Rating = Literal["up", "down"]


def new_id() -> str:
    """A new conversation or message id (random, 32 hex digits)."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Citation:
    """One numbered source of an answer: ``number`` is the n of ``[n]`` in the answer.

    The chat flow streams these and the store keeps them, copied whole so they survive
    re-indexing: one type for both, defined here because the chat flow imports the store and
    the store imports nothing above it (``chatref.chat.types.cite`` builds one from a passage).
    """

    number: int
    chunk_id: str
    doc_id: str
    source: str
    title: str
    page: int | None
    section: str | None
    text: str


@dataclass(frozen=True)
class StoredMessage:
    id: str
    conversation_id: str
    seq: int
    role: MessageRole
    content: str
    created_at: float
    status: MessageStatus = "complete"
    finish_reason: str | None = None
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    citations: tuple[Citation, ...] = ()
    feedback: StoredFeedback | None = None


@dataclass(frozen=True)
class StoredFeedback:
    message_id: str
    rating: Rating
    comment: str | None
    created_at: float


@dataclass(frozen=True)
class Conversation:
    id: str
    user_id: str
    title: str
    created_at: float
    updated_at: float
    message_count: int = 0


@dataclass(frozen=True)
class ConversationWithMessages:
    conversation: Conversation
    messages: list[StoredMessage] = field(default_factory=list)


@dataclass(frozen=True)
class ConversationPage:
    """One page of a user's conversations, most recently active first.

    ``next_cursor`` is opaque (each backend has its own: an offset for SQLite, Table Storage's
    continuation token); pass it back to get the next page. ``None``: this was the last page.
    """

    conversations: list[Conversation]
    next_cursor: str | None = None


@dataclass(frozen=True)
class NewAnswer:
    """An assistant answer to append to a conversation."""

    content: str
    status: MessageStatus
    finish_reason: str | None = None
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    citations: Sequence[Citation] = ()


class ConversationStore(Protocol):
    """Conversations, their messages, the citations of each answer and feedback on answers.

    Every write is durable once the coroutine returns: the API acknowledges a turn only after it.
    Every read and write is scoped to ``user_id``; another user's conversation or message is "not
    found" (``NotFoundError``), exactly like one that does not exist. Backend failures surface as
    ``StoreError``; an invalid ``cursor`` as ``InputError``. One contract suite
    (tests/store/test_contract.py) runs against every implementation.
    """

    @property
    def backend(self) -> dict[str, str]:
        """What this store is, for /health/ready and logs: a ``kind`` and where it keeps its data
        (a path, an endpoint and table), never a secret."""
        ...

    async def list_conversations(
        self, user_id: str, *, limit: int = 50, cursor: str | None = None
    ) -> ConversationPage:
        """Up to ``limit`` conversations, most recently active first, from ``cursor`` on."""
        ...

    async def get_conversation(self, user_id: str, conversation_id: str) -> Conversation: ...

    async def get_messages(self, user_id: str, conversation_id: str) -> list[StoredMessage]: ...

    async def rename_conversation(
        self, user_id: str, conversation_id: str, title: str
    ) -> Conversation: ...

    async def delete_conversation(self, user_id: str, conversation_id: str) -> None: ...

    async def delete_conversations_older_than(self, cutoff: float) -> int:
        """Retention, for every user: delete the conversations last active before ``cutoff``
        (epoch seconds) with everything they hold; return how many were deleted."""
        ...

    async def append_turn(
        self,
        user_id: str,
        conversation_id: str,
        *,
        question: str,
        question_id: str,
        answer: NewAnswer,
        new_title: str | None = None,
    ) -> StoredMessage:
        """Store a question and its answer in one durable write; return the stored answer.

        With ``new_title`` the conversation is created (with ``conversation_id``) in the same
        write; without it, it must exist.
        """
        ...

    async def set_feedback(
        self, user_id: str, message_id: str, rating: Rating, comment: str | None
    ) -> StoredFeedback: ...

    async def check_writable(self) -> None:
        """Raise ``StoreError`` unless a write would succeed now (for /health/ready)."""
        ...

    async def aclose(self) -> None: ...
