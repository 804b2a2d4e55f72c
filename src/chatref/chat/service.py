"""The chat flow: one grounded turn, as a service with no web framework or SDK types inside.

1 load the conversation; 2 rewrite the question into a standalone query (with a model and some
history; otherwise the question itself); 3 retrieve passages; 4 compose the prompt; 5 generate,
streaming (no model, or no endpoint answering: an extractive answer); 6 stream deltas and
citations, persist the turn (question and answer in one durable write, before ``TurnDone``),
report it to the observer.

``start_turn`` does everything that can fail because of the request (bad input, unknown
conversation) before anything is streamed, so the web layer can still answer 4xx.
``ChatTurn.events`` then streams; model failures become events, never exceptions.

A dependency that is down degrades the turn instead of failing it, whatever the backend and
whatever it raised: with the search index unreachable the answer says that sources are
unavailable, cites nothing and does not call the model (an answer it could not ground);
with the conversation store unreachable the turn is answered without the stored history and the
answer says that it was not saved (``TurnDone.message_id`` is then None). ``chatref drill
dependencies`` rehearses both.

>>> service = ChatService(retriever, store, model=None, limits=ChatLimits())
>>> turn = await service.start_turn(ChatRequest([ChatMessage("user", "How do I rotate keys?")]))
>>> async for event in turn.events(): ...
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from chatref.chat.extractive import MODEL_UNAVAILABLE_NOTICE, NO_MODEL_NOTICE, extractive_answer
from chatref.chat.prompt import cited_numbers, compose_prompt, compose_rewrite_prompt
from chatref.chat.tokens import estimate_message_tokens, estimate_tokens
from chatref.chat.types import (
    Answer,
    AnswerMode,
    ChatRequest,
    Citation,
    CitationsReady,
    TextDelta,
    TurnDone,
    TurnEvent,
    TurnFailed,
    TurnStarted,
    cite,
)
from chatref.errors import ChatrefError, ContentFilteredError, InputError, ModelError
from chatref.llm.base import ChatMessage, ChatModel, ModelDelta, ModelEvent, Usage
from chatref.retrieval.types import Passage, SearchMode
from chatref.settings import Settings
from chatref.store.types import (
    ConversationStore,
    MessageStatus,
    NewAnswer,
    StoredMessage,
    new_id,
)

log = logging.getLogger(__name__)

CONTENT_FILTERED_MESSAGE = (
    "I can't help with that: the request or the answer was blocked by the content safety "
    "filter. Please rephrase your question."
)
CONTENT_FILTERED_TAIL = "\n\n*The rest of this answer was withheld by the content safety filter.*"
SOURCES_UNAVAILABLE_MESSAGE = (
    "*The document search is unavailable right now, so I can't answer from your documents or "
    "cite any source. Please try again in a few minutes.*"
)
HISTORY_UNAVAILABLE_NOTICE = (
    "*Earlier messages of this conversation could not be loaded, so this answer does not take "
    "them into account.*\n\n"
)
NOT_SAVED_NOTICE = (
    "\n\n*This conversation could not be saved right now: this answer is not in your "
    "history.*"
)
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


@dataclass(frozen=True)
class TurnRecord:
    """What happened in one turn, for telemetry."""

    mode: AnswerMode
    status: MessageStatus
    finish_reason: str
    usage: Usage
    model: str | None
    passages: int
    first_token_s: float | None
    total_s: float
    user_id: str = "local"  # whose budget the tokens count against (quota.py)


TurnObserver = Callable[[TurnRecord], None]


@dataclass
class _Draft:
    parts: list[str] = field(default_factory=list)
    mode: AnswerMode = "model"
    status: MessageStatus = "complete"
    finish_reason: str = "stop"
    usage: Usage | None = None
    model: str | None = None
    cited: list[int] | None = None  # None: find [n] in the text
    failure: TurnFailed | None = None
    first_token_at: float | None = None

    @property
    def text(self) -> str:
        return "".join(self.parts)


async def _awaited(awaitable: Awaitable[StoredMessage]) -> StoredMessage:
    return await awaitable


@contextlib.asynccontextmanager
async def _closing(stream: AsyncIterator[ModelEvent]) -> AsyncIterator[None]:
    """Close the model's stream (and its HTTP response) however the loop over it ends."""
    try:
        yield
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()


def _describe(exc: BaseException) -> str:
    return exc.message if isinstance(exc, ChatrefError) else f"{type(exc).__name__}: {exc}"


def _title(question: str) -> str:
    title = " ".join(question.split())
    if len(title) > TITLE_MAX_CHARS:
        title = title[: TITLE_MAX_CHARS - 1].rstrip() + "…"
    return title


class ChatTurn:
    """One prepared turn: passages retrieved, prompt composed, question stored; ready to stream."""

    def __init__(
        self,
        service: ChatService,
        request: ChatRequest,
        *,
        question: str,
        query: str,
        passages: list[Passage],
        prompt: list[ChatMessage],
        conversation_id: str | None,
        user_message_id: str | None,
        new_title: str | None,
        started_at: float,
        sources_unavailable: bool = False,
        history_unavailable: bool = False,
    ) -> None:
        self._service = service
        self.sources_unavailable = sources_unavailable
        self.history_unavailable = history_unavailable
        self.request = request
        self.question = question
        self.query = query
        self.passages = passages
        self.prompt = prompt
        self.conversation_id = conversation_id
        self.user_message_id = user_message_id
        self.new_title = new_title
        self._started_at = started_at

    async def events(self) -> AsyncGenerator[TurnEvent, None]:
        """Stream the turn. If the consumer goes away mid-answer, the partial answer is stored
        with status ``stopped``."""
        yield TurnStarted(self.conversation_id, self.user_message_id)
        draft = _Draft()
        finished = False
        try:
            async for delta in self._generate(draft):
                if draft.first_token_at is None:
                    draft.first_token_at = time.perf_counter()
                yield delta
            finished = True
        finally:
            if not finished:
                draft.status = "stopped"
                draft.finish_reason = "stopped"
                self._service._persist_in_background(self, draft)
        citations = self._citations(draft)
        try:
            message_id = await self._service._persist(self, draft, citations)
        except Exception as exc:  # any store, any error: the answer stands, unsaved
            log.warning("the turn could not be stored (%s); answered without saving",
                        _describe(exc))
            message_id = None
            draft.parts.append(NOT_SAVED_NOTICE)
            yield TextDelta(NOT_SAVED_NOTICE)
        yield CitationsReady(citations)
        usage = self._usage(draft)
        if draft.failure is not None:
            yield TurnFailed(draft.failure.code, draft.failure.message, message_id)
        else:
            yield TurnDone(draft.finish_reason, usage, draft.mode, message_id, draft.model)

    async def _generate(self, draft: _Draft) -> AsyncIterator[TextDelta]:
        if self.history_unavailable:
            draft.parts.append(HISTORY_UNAVAILABLE_NOTICE)
            yield TextDelta(HISTORY_UNAVAILABLE_NOTICE)
        if self.sources_unavailable:
            async for delta in self._no_sources(draft):
                yield delta
            return
        model = self._service.model
        if model is None:
            async for delta in self._extractive(draft, NO_MODEL_NOTICE):
                yield delta
            return
        draft.model = model.name
        try:
            stream = model.stream(self.prompt, max_tokens=self._service.limits.max_answer_tokens)
            async with _closing(stream):
                async for event in stream:
                    if isinstance(event, ModelDelta):
                        if event.text:
                            draft.parts.append(event.text)
                            yield TextDelta(event.text)
                        continue
                    draft.finish_reason = event.finish_reason
                    draft.usage = event.usage
                    if event.endpoint:
                        draft.model = f"{model.name}@{event.endpoint}"
                    if event.finish_reason == "content_filter":
                        draft.status = "filtered"
                        tail = CONTENT_FILTERED_TAIL if draft.parts else CONTENT_FILTERED_MESSAGE
                        draft.parts.append(tail)
                        yield TextDelta(tail)
        except ContentFilteredError:
            draft.status = "filtered"
            draft.finish_reason = "content_filter"
            tail = CONTENT_FILTERED_TAIL if draft.parts else CONTENT_FILTERED_MESSAGE
            draft.parts.append(tail)
            yield TextDelta(tail)
        except ModelError as exc:
            if not draft.parts:
                log.warning("model failed before answering (%s); answering extractively", exc.code)
                async for delta in self._extractive(draft, MODEL_UNAVAILABLE_NOTICE):
                    yield delta
                return
            log.warning("model failed mid-answer (%s); keeping the partial answer", exc.code)
            draft.status = "error"
            draft.finish_reason = "error"
            draft.failure = TurnFailed(
                exc.code,
                f"The model stopped answering part-way ({exc.message}). The partial answer was "
                "kept; ask again to retry.",
            )

    async def _no_sources(self, draft: _Draft) -> AsyncIterator[TextDelta]:
        """Search is down: say so, cite nothing, and do not ask the model for an answer it
        could not ground in any document."""
        draft.mode = "extractive"
        draft.status = "extractive"
        draft.finish_reason = "stop"
        draft.usage = Usage(0, 0)
        draft.cited = []
        draft.parts.append(SOURCES_UNAVAILABLE_MESSAGE)
        yield TextDelta(SOURCES_UNAVAILABLE_MESSAGE)

    async def _extractive(self, draft: _Draft, notice: str) -> AsyncIterator[TextDelta]:
        answer = extractive_answer(self.query, self.passages, notice=notice)
        draft.mode = "extractive"
        draft.status = "extractive"
        draft.finish_reason = "stop"
        draft.usage = Usage(0, 0)
        draft.cited = answer.cited
        for line in answer.text.splitlines(keepends=True):
            draft.parts.append(line)
            yield TextDelta(line)

    def _citations(self, draft: _Draft) -> list[Citation]:
        numbers = (
            draft.cited if draft.cited is not None
            else cited_numbers(draft.text, len(self.passages))
        )
        return [cite(n, self.passages[n - 1]) for n in numbers]

    def _usage(self, draft: _Draft) -> Usage:
        if draft.usage is not None:
            return draft.usage
        return Usage(
            prompt_tokens=sum(estimate_message_tokens(m) for m in self.prompt),
            completion_tokens=estimate_tokens(draft.text),
        )

    def record(self, draft: _Draft) -> TurnRecord:
        now = time.perf_counter()
        return TurnRecord(
            mode=draft.mode, status=draft.status, finish_reason=draft.finish_reason,
            usage=self._usage(draft), model=draft.model, passages=len(self.passages),
            first_token_s=(None if draft.first_token_at is None
                           else draft.first_token_at - self._started_at),
            total_s=now - self._started_at, user_id=self.request.user_id,
        )


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
        self.observer = observer
        self._background: set[asyncio.Task[StoredMessage]] = set()

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
        history_unavailable = False
        if request.conversation_id is not None:
            try:
                stored = await self.store.get_messages(request.user_id, request.conversation_id)
            except InputError:  # an unknown conversation stays a 404
                raise
            except Exception as exc:  # any store, any error: answer without the history
                log.warning("conversation history unavailable (%s); answering without it",
                            _describe(exc))
                stored, history_unavailable = [], True
            history = [
                ChatMessage(m.role, m.content) for m in stored if m.content and m.role
            ]
        else:
            history = [m for m in request.messages[:-1] if m.role != "system"]
        query = await self._standalone_query(question, history)
        sources_unavailable = False
        try:
            passages = await self.retriever.search(query, top_k=self.limits.top_k)
        except InputError:
            raise
        except Exception as exc:  # any index, any error: say sources are unavailable
            log.warning("search unavailable (%s); answering without sources", _describe(exc))
            passages, sources_unavailable = [], True
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
                conversation_id = new_id()
                new_title = _title(question)
        return ChatTurn(
            self, request, question=question, query=query, passages=passages, prompt=prompt,
            conversation_id=conversation_id, user_message_id=user_message_id,
            new_title=new_title, started_at=started_at,
            sources_unavailable=sources_unavailable, history_unavailable=history_unavailable,
        )

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

    # --- persistence ------------------------------------------------------------------------

    def _new_answer(self, draft: _Draft, citations: Sequence[Citation], usage: Usage) -> NewAnswer:
        return NewAnswer(
            content=draft.text, status=draft.status, finish_reason=draft.finish_reason,
            model=draft.model, prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            citations=citations,
        )

    async def _persist(
        self, turn: ChatTurn, draft: _Draft, citations: Sequence[Citation]
    ) -> str | None:
        self._observe(turn, draft)
        if not turn.request.persist:
            return None
        stored = await self._append_turn(
            turn, self._new_answer(draft, citations, turn._usage(draft))
        )
        return stored.id

    def _append_turn(self, turn: ChatTurn, answer: NewAnswer) -> Awaitable[StoredMessage]:
        if turn.conversation_id is None or turn.user_message_id is None:
            raise RuntimeError("a persisted turn always has its ids")
        return self.store.append_turn(
            turn.request.user_id, turn.conversation_id, question=turn.question,
            question_id=turn.user_message_id, answer=answer, new_title=turn.new_title,
        )

    def _persist_in_background(self, turn: ChatTurn, draft: _Draft) -> None:
        """Store a stopped answer without awaiting: the caller is being cancelled or closed."""
        self._observe(turn, draft)
        if not turn.request.persist:
            return
        answer = self._new_answer(draft, turn._citations(draft), turn._usage(draft))
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # closed outside a loop (interpreter shutdown): nothing to do
            return
        task = loop.create_task(_awaited(self._append_turn(turn, answer)))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _observe(self, turn: ChatTurn, draft: _Draft) -> None:
        if self.observer is None:
            return
        try:
            self.observer(turn.record(draft))
        except Exception:  # telemetry must never break a turn
            log.exception("turn observer failed")

    async def drain(self) -> None:
        """Wait for answers still being stored in the background (call before closing)."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
