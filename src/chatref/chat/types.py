"""What the chat flow takes in and what it streams out; no web or SDK types.

A turn streams ``TurnStarted``, then ``TextDelta``s, then ``CitationsReady``, then either
``TurnDone`` or ``TurnFailed`` (a model failure after some text: the partial answer is kept).
``Citation`` is the store's type (store/types.py), re-exported here: the answer streamed and the
answer stored cite with the same object.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from chatref.llm.base import ChatMessage, Usage
from chatref.retrieval.types import Passage
from chatref.store.types import Citation

__all__ = [
    "Answer", "AnswerMode", "ChatRequest", "Citation", "CitationsReady", "TextDelta", "TurnDone",
    "TurnEvent", "TurnFailed", "TurnStarted", "cite",
]

AnswerMode = Literal["model", "extractive"]


@dataclass(frozen=True)
class ChatRequest:
    """One user turn.

    With ``conversation_id`` the history comes from the store and only the last message is new;
    without it the earlier ``messages`` are the history (as OpenAI clients send it) and, when
    ``persist`` is true, a new conversation is created.
    """

    messages: Sequence[ChatMessage]
    user_id: str = "local"
    conversation_id: str | None = None
    persist: bool = True


def cite(number: int, passage: Passage) -> Citation:
    """The citation ``[number]`` of an answer that used ``passage``."""
    return Citation(number, passage.chunk_id, passage.doc_id, passage.source, passage.title,
                    passage.page, passage.section, passage.text)


@dataclass(frozen=True)
class TurnStarted:
    conversation_id: str | None
    user_message_id: str | None


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class CitationsReady:
    citations: list[Citation]


@dataclass(frozen=True)
class TurnDone:
    finish_reason: str
    usage: Usage
    mode: AnswerMode
    message_id: str | None = None
    model: str | None = None


@dataclass(frozen=True)
class TurnFailed:
    code: str
    message: str
    message_id: str | None = None


TurnEvent = TurnStarted | TextDelta | CitationsReady | TurnDone | TurnFailed


@dataclass
class Answer:
    """A whole answer, for callers that do not stream (the non-streaming OpenAI endpoint)."""

    text: str = ""
    citations: list[Citation] = field(default_factory=list)
    finish_reason: str = "stop"
    usage: Usage = field(default_factory=Usage)
    mode: AnswerMode = "model"
    conversation_id: str | None = None
    message_id: str | None = None
    error: TurnFailed | None = None
