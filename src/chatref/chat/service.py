"""The chat flow: one grounded turn, as a service with no web framework or SDK types inside.

1 load the conversation; 2 rewrite the question into a standalone query (with a model and some
history; otherwise the question itself); 3 retrieve passages; 4 compose the prompt; 5 generate,
streaming (no model, or no endpoint answering: an extractive answer); 6 stream deltas and
citations, persist the turn (question and answer in one durable write, before ``TurnDone``),
report it to the observer.

``start_turn`` does everything that can fail because of the request (bad input, unknown
conversation) before anything is streamed, so the web layer can still answer 4xx.
``ChatTurn.events`` (chat/turn.py) then streams; model failures become events, never exceptions.

A dependency that is down degrades the turn instead of failing it, whatever the backend and
whatever it raised: with the search index unreachable the answer says that sources are
unavailable, cites nothing and does not call the model (an answer it could not ground);
with the conversation store unreachable the turn is answered without the stored history and the
answer says that it was not saved (``TurnDone.message_id`` is then None). ``chatref drill
dependencies`` rehearses both.

For example (an illustration, not run as a doctest)::

    service = ChatService(retriever, store, model=None, limits=ChatLimits())
    turn = await service.start_turn(ChatRequest([ChatMessage("user", "How do I rotate keys?")]))
    async for event in turn.events(): ...
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from chatref.chat.prompt import compose_prompt, compose_rewrite_prompt
from chatref.chat.turn import (
    BackgroundWrites,
    ChatTurn,
    TurnDeps,
    TurnObserver,
    TurnPlan,
    describe,
)
from chatref.chat.types import (
    Answer,
    ChatRequest,
    CitationsReady,
    TextDelta,
    TurnDone,
    TurnFailed,
)
from chatref.errors import InputError, ModelError
from chatref.llm.base import ChatMessage, ChatModel
from chatref.retrieval.types import Passage, SearchMode
from chatref.settings import Settings
from chatref.store.types import ConversationStore, new_id

log = logging.getLogger(__name__)

REWRITE_MAX_TOKENS = 64
TITLE_MAX_CHARS = 80


class PassageSearch(Protocol):
    """What the chat flow needs from retrieval (``chatref.retrieval.retriever.Retriever``)."""

    async def search(
        self, query: str, *, top_k: int = 5, mode: SearchMode = "hybrid"
    ) -> list[Passage]: ...


@dataclass(frozen=True)
class ChatLimits:
    top_k: int = 5
    max_message_chars: int = 8000
    max_messages: int = 100
    history_token_budget: int = 3000
    max_answer_tokens: int = 800

    @classmethod
    def from_settings(cls, settings: Settings) -> ChatLimits:
        return cls(
            top_k=settings.chatref_top_k,
            max_message_chars=settings.chatref_max_message_chars,
            max_messages=settings.chatref_max_messages,
            history_token_budget=settings.chatref_history_token_budget,
            max_answer_tokens=settings.chatref_max_answer_tokens,
        )


def _title(question: str) -> str:
    title = " ".join(question.split())
    if len(title) > TITLE_MAX_CHARS:
        title = title[: TITLE_MAX_CHARS - 1].rstrip() + "…"
    return title


class ChatService:
    """Grounded chat turns over a retriever, a conversation store and an optional model."""

    def __init__(
        self,
        retriever: PassageSearch,
        store: ConversationStore,
        model: ChatModel | None,
        limits: ChatLimits,
        *,
        observer: TurnObserver | None = None,
    ) -> None:
        self.retriever = retriever
        self.store = store
        self.model = model
        self.limits = limits
        self._writes = BackgroundWrites()
        self._deps = TurnDeps(store, model, limits.max_answer_tokens, self._writes, observer)

    def validate(self, messages: Sequence[ChatMessage]) -> str:
        """The new question, or an ``InputError`` naming what is wrong with ``messages``."""
        limits = self.limits
        if not messages:
            raise InputError("messages: at least one message is required")
        if len(messages) > limits.max_messages:
            raise InputError(
                f"messages: {len(messages)} messages is more than the limit of "
                f"{limits.max_messages}"
            )
        for position, message in enumerate(messages):
            if len(message.content) > limits.max_message_chars:
                raise InputError(
                    f"messages[{position}].content: {len(message.content)} characters is more "
                    f"than the limit of {limits.max_message_chars}"
                )
        last = messages[-1]
        if last.role != "user":
            raise InputError(
                f"messages[{len(messages) - 1}].role: the last message must be the user's "
                f"question, not {last.role!r}"
            )
        if not last.content.strip():
            raise InputError(f"messages[{len(messages) - 1}].content: the question is empty")
        return last.content.strip()

    async def start_turn(self, request: ChatRequest) -> ChatTurn:
        """Validate, load history, rewrite, retrieve and compose the prompt."""
        started_at = time.perf_counter()
        question = self.validate(request.messages)
        history, history_unavailable = await self._history(request)
        query = await self._standalone_query(question, history)
        passages, sources_unavailable = await self._passages(query)
        prompt = compose_prompt(
            question, passages, history, history_budget_tokens=self.limits.history_token_budget
        )
        conversation_id = request.conversation_id
        user_message_id: str | None = None
        new_title: str | None = None
        if request.persist:
            # Ids are chosen now; the question is stored with its answer, in one write, when the
            # turn ends (nothing touches the disk before the first token).
            user_message_id = new_id()
            if conversation_id is None:
                conversation_id, new_title = new_id(), _title(question)
        plan = TurnPlan(
            request, question=question, query=query, passages=passages, prompt=prompt,
            conversation_id=conversation_id, user_message_id=user_message_id,
            new_title=new_title, started_at=started_at,
            sources_unavailable=sources_unavailable, history_unavailable=history_unavailable,
        )
        return ChatTurn(plan, self._deps)

    async def answer(self, request: ChatRequest) -> Answer:
        """A whole turn at once, for callers that do not stream."""
        turn = await self.start_turn(request)
        answer = Answer(conversation_id=turn.conversation_id)
        parts: list[str] = []
        async for event in turn.events():
            if isinstance(event, TextDelta):
                parts.append(event.text)
            elif isinstance(event, CitationsReady):
                answer.citations = event.citations
            elif isinstance(event, TurnDone):
                answer.finish_reason = event.finish_reason
                answer.usage = event.usage
                answer.mode = event.mode
                answer.message_id = event.message_id
            elif isinstance(event, TurnFailed):
                answer.error = event
                answer.finish_reason = "error"
                answer.message_id = event.message_id
        answer.text = "".join(parts)
        return answer

    async def drain(self) -> None:
        """Wait for answers still being stored in the background (call before closing)."""
        await self._writes.drain()

    async def _history(self, request: ChatRequest) -> tuple[list[ChatMessage], bool]:
        """The turn's history and whether it was unavailable: from the store with a
        ``conversation_id`` (an unknown one stays a 404), else the request's earlier messages."""
        if request.conversation_id is None:
            return [m for m in request.messages[:-1] if m.role != "system"], False
        try:
            stored = await self.store.get_messages(request.user_id, request.conversation_id)
        except InputError:
            raise
        except Exception as exc:  # any store, any error: answer without the history
            log.warning("conversation history unavailable (%s); answering without it",
                        describe(exc))
            return [], True
        return [ChatMessage(m.role, m.content) for m in stored if m.content and m.role], False

    async def _passages(self, query: str) -> tuple[list[Passage], bool]:
        """The passages for ``query`` and whether search was unavailable."""
        try:
            return await self.retriever.search(query, top_k=self.limits.top_k), False
        except InputError:
            raise
        except Exception as exc:  # any index, any error: say sources are unavailable
            log.warning("search unavailable (%s); answering without sources", describe(exc))
            return [], True

    async def _standalone_query(self, question: str, history: Sequence[ChatMessage]) -> str:
        if self.model is None or not history:
            return question
        prompt = compose_rewrite_prompt(
            question, history, history_budget_tokens=self.limits.history_token_budget
        )
        try:
            rewritten = await self.model.complete(prompt, max_tokens=REWRITE_MAX_TOKENS)
        except ModelError as exc:
            log.warning("query rewrite failed (%s); searching with the question as asked",
                        exc.code)
            return question
        rewritten = " ".join(rewritten.split()).strip("\"'")
        return rewritten or question
