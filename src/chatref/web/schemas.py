"""The HTTP API's request and response models (separate from the stored rows in store/types.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chatref.llm.base import Usage
from chatref.store.types import Citation, Conversation, StoredFeedback, StoredMessage


class ErrorBody(BaseModel):
    code: str = Field(description="Machine-readable error code, e.g. invalid_request, not_found.")
    message: str = Field(description="What is wrong, naming the input, and what to do.")


class ErrorResponse(BaseModel):
    error: ErrorBody


# --- /api/chat ---------------------------------------------------------------------------------


class MessageIn(BaseModel):
    role: Literal["user", "assistant", "system"]
    content: str


class ChatIn(BaseModel):
    """A question, with the history (no ``conversation_id``) or in a stored conversation."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"messages": [{"role": "user", "content": "How are keys rotated?"}]}]
        }
    )
    messages: list[MessageIn] = Field(
        min_length=1,
        description="The conversation so far; the last message is the user's question. With "
        "conversation_id only the last message is used (the history is stored)."
    )
    conversation_id: str | None = Field(
        default=None, description="Continue this stored conversation; omit to start a new one."
    )


class CitationOut(BaseModel):
    id: int = Field(description="The n of [n] in the answer.")
    source: str
    title: str
    page: int | None
    section: str | None
    text: str
    chunk_id: str
    doc_id: str

    @classmethod
    def from_citation(cls, citation: Citation) -> CitationOut:
        return cls(id=citation.number, source=citation.source, title=citation.title,
                   page=citation.page, section=citation.section, text=citation.text,
                   chunk_id=citation.chunk_id, doc_id=citation.doc_id)


# --- /api/conversations ----------------------------------------------------------------------


class ConversationOut(BaseModel):
    id: str
    title: str
    created_at: float
    updated_at: float
    message_count: int

    @classmethod
    def from_row(cls, row: Conversation) -> ConversationOut:
        return cls(id=row.id, title=row.title, created_at=row.created_at,
                   updated_at=row.updated_at, message_count=row.message_count)


class ConversationList(BaseModel):
    conversations: list[ConversationOut]
    next_cursor: str | None = Field(
        default=None, description="Pass back as `cursor` for the next page; null on the last."
    )


class FeedbackOut(BaseModel):
    rating: Literal["up", "down"]
    comment: str | None
    created_at: float

    @classmethod
    def from_row(cls, row: StoredFeedback) -> FeedbackOut:
        return cls(rating=row.rating, comment=row.comment, created_at=row.created_at)


class MessageOut(BaseModel):
    id: str
    role: Literal["user", "assistant"]
    content: str
    status: str = Field(description="complete, extractive, stopped, error or filtered.")
    created_at: float
    citations: list[CitationOut]
    feedback: FeedbackOut | None

    @classmethod
    def from_row(cls, row: StoredMessage) -> MessageOut:
        return cls(
            id=row.id, role=row.role, content=row.content, status=row.status,
            created_at=row.created_at,
            citations=[CitationOut.from_citation(c) for c in row.citations],
            feedback=FeedbackOut.from_row(row.feedback) if row.feedback else None,
        )


class ConversationDetail(ConversationOut):
    messages: list[MessageOut]


class RenameIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)


class FeedbackIn(BaseModel):
    rating: Literal["up", "down"]
    comment: str | None = Field(default=None, max_length=2000)


# --- /v1/chat/completions (OpenAI-compatible) --------------------------------------------------


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class OpenAIMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text or "" for part in self.content if part.type == "text")


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class ChatCompletionIn(BaseModel):
    """The subset of OpenAI's chat-completions request chatref honours; other fields are ignored
    (the model, temperature and token limit are the server's)."""

    model_config = ConfigDict(extra="allow")
    model: str | None = None
    messages: list[OpenAIMessageIn] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None


class CompletionMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    context: dict[str, Any] = Field(
        default_factory=dict,
        description="chatref's grounding, in Azure OpenAI 'on your data' shape: citations.",
    )


class CompletionChoice(BaseModel):
    index: int = 0
    message: CompletionMessage
    finish_reason: str


class CompletionTokensDetails(BaseModel):
    reasoning_tokens: int


class UsageOut(BaseModel):
    """OpenAI's usage shape: ``completion_tokens`` includes a reasoning model's hidden
    ``completion_tokens_details.reasoning_tokens`` (billed, never streamed)."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    completion_tokens_details: CompletionTokensDetails

    @classmethod
    def from_usage(cls, usage: Usage) -> UsageOut:
        return cls(prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
                   total_tokens=usage.total_tokens,
                   completion_tokens_details=CompletionTokensDetails(
                       reasoning_tokens=usage.reasoning_tokens))


class ChatCompletionOut(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: UsageOut


class ModelOut(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "chatref"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]


# --- health ------------------------------------------------------------------------------------


class Live(BaseModel):
    status: Literal["ok"] = "ok"


class Check(BaseModel):
    ok: bool
    detail: dict[str, Any] = Field(default_factory=dict)


class Ready(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, Check]
    # CHATREF_BUILD: the release's commit in a released image (the operator's answer only).
    build: str | None = None
