"""One prepared chat turn, streaming: it owns its draft answer, citations, usage and persistence.

``ChatService.start_turn`` (chat/service.py) prepares a ``TurnPlan`` (question, search query,
passages, prompt, ids) and hands it, with what the turn needs to answer and store
(``TurnDeps``), to a ``ChatTurn``. ``ChatTurn.events`` then streams; model failures become
events, never exceptions. The question and its answer are stored in one durable write before
``TurnDone``; a consumer that goes away mid-answer leaves the partial answer stored as
``stopped``, written in the background (``BackgroundWrites``, drained at shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from chatref.chat.extractive import MODEL_UNAVAILABLE_NOTICE, NO_MODEL_NOTICE, extractive_answer
from chatref.chat.prompt import cited_numbers
from chatref.chat.tokens import estimate_message_tokens, estimate_tokens
from chatref.chat.types import (
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
from chatref.errors import ChatrefError, ContentFilteredError, ModelError
from chatref.llm.base import ChatMessage, ChatModel, ModelDelta, ModelDone, ModelEvent, Usage
from chatref.retrieval.types import Passage
from chatref.store.types import ConversationStore, MessageStatus, NewAnswer, StoredMessage

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


def describe(exc: BaseException) -> str:
    """An error for a log line: our own message, or the type and text of anyone else's."""
    return exc.message if isinstance(exc, ChatrefError) else f"{type(exc).__name__}: {exc}"


class BackgroundWrites:
    """Writes that outlive the request that started them (a stopped answer), awaited by
    ``drain`` before the store closes."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[object]] = set()

    def start(self, write: Callable[[], Awaitable[object]]) -> None:
        """Run ``write()`` as a task of the running loop; outside a loop (interpreter shutdown)
        there is nothing left to write to."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return

        async def run() -> object:
            return await write()

        task = loop.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


@dataclass(frozen=True)
class TurnPlan:
    """What ``ChatService.start_turn`` prepared: everything the turn answers from."""

    request: ChatRequest
    question: str
    query: str
    passages: list[Passage]
    prompt: list[ChatMessage]
    conversation_id: str | None
    user_message_id: str | None  # None: the turn is not stored (``request.persist`` false)
    new_title: str | None  # set: the turn starts a new conversation with this title
    started_at: float
    sources_unavailable: bool = False
    history_unavailable: bool = False


@dataclass(frozen=True)
class TurnDeps:
    """What a turn answers with and stores into."""

    store: ConversationStore
    model: ChatModel | None
    max_answer_tokens: int
    writes: BackgroundWrites
    observer: TurnObserver | None = None


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

    def add(self, text: str) -> TextDelta:
        self.parts.append(text)
        return TextDelta(text)

    def answered_without_model(self, cited: list[int]) -> None:
        self.mode = self.status = "extractive"
        self.finish_reason = "stop"
        self.usage = Usage(0, 0)
        self.cited = cited

    def filtered(self) -> TextDelta:
        self.status, self.finish_reason = "filtered", "content_filter"
        return self.add(CONTENT_FILTERED_TAIL if self.parts else CONTENT_FILTERED_MESSAGE)


@contextlib.asynccontextmanager
async def _closing(stream: AsyncIterator[ModelEvent]) -> AsyncIterator[None]:
    """Close the model's stream (and its HTTP response) however the loop over it ends."""
    try:
        yield
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()


class ChatTurn:
    """One prepared turn: passages retrieved, prompt composed, ids chosen; ready to stream once."""

    def __init__(self, plan: TurnPlan, deps: TurnDeps) -> None:
        self.plan = plan
        self._deps = deps
        self._draft = _Draft()

    @property
    def conversation_id(self) -> str | None:
        return self.plan.conversation_id

    async def events(self) -> AsyncGenerator[TurnEvent, None]:
        """Stream the turn. If the consumer goes away mid-answer, the partial answer is stored
        with status ``stopped``."""
        plan, draft = self.plan, self._draft
        yield TurnStarted(plan.conversation_id, plan.user_message_id)
        finished = False
        try:
            async for delta in self._generate():
                if draft.first_token_at is None:
                    draft.first_token_at = time.perf_counter()
                yield delta
            finished = True
        finally:
            if not finished:
                draft.status = draft.finish_reason = "stopped"
                self._persist_in_background()
        try:
            message_id = await self._persist()
        except Exception as exc:  # any store, any error: the answer stands, unsaved
            log.warning("the turn could not be stored (%s); answered without saving",
                        describe(exc))
            message_id = None
            yield draft.add(NOT_SAVED_NOTICE)
        yield CitationsReady(self._citations())
        if draft.failure is not None:
            yield TurnFailed(draft.failure.code, draft.failure.message, message_id)
        else:
            yield TurnDone(draft.finish_reason, self._usage(), draft.mode, message_id, draft.model)

    # --- the answer -------------------------------------------------------------------------

    async def _generate(self) -> AsyncIterator[TextDelta]:
        plan, draft, model = self.plan, self._draft, self._deps.model
        if plan.history_unavailable:
            yield draft.add(HISTORY_UNAVAILABLE_NOTICE)
        if plan.sources_unavailable:
            # Search is down: say so, cite nothing, and do not ask the model for an answer it
            # could not ground in any document.
            draft.answered_without_model(cited=[])
            yield draft.add(SOURCES_UNAVAILABLE_MESSAGE)
        elif model is None:
            async for delta in self._extractive(NO_MODEL_NOTICE):
                yield delta
        else:
            async for delta in self._from_model(model):
                yield delta

    async def _from_model(self, model: ChatModel) -> AsyncIterator[TextDelta]:
        draft = self._draft
        draft.model = model.name
        try:
            stream = model.stream(self.plan.prompt, max_tokens=self._deps.max_answer_tokens)
            async with _closing(stream):
                async for event in stream:
                    if isinstance(event, ModelDelta):
                        if event.text:
                            yield draft.add(event.text)
                    elif self._model_done(model, event):
                        yield draft.filtered()
        except ContentFilteredError:
            yield draft.filtered()
        except ModelError as exc:
            if not draft.parts:
                log.warning("model failed before answering (%s); answering extractively", exc.code)
                async for delta in self._extractive(MODEL_UNAVAILABLE_NOTICE):
                    yield delta
                return
            log.warning("model failed mid-answer (%s); keeping the partial answer", exc.code)
            draft.status = draft.finish_reason = "error"
            draft.failure = TurnFailed(
                exc.code,
                f"The model stopped answering part-way ({exc.message}). The partial answer was "
                "kept; ask again to retry.",
            )

    def _model_done(self, model: ChatModel, event: ModelDone) -> bool:
        """Record the end of the model's answer; True if its content filter cut it."""
        draft = self._draft
        draft.finish_reason = event.finish_reason
        draft.usage = event.usage
        if event.endpoint:
            draft.model = f"{model.name}@{event.endpoint}"
        return event.finish_reason == "content_filter"

    async def _extractive(self, notice: str) -> AsyncIterator[TextDelta]:
        answer = extractive_answer(self.plan.query, self.plan.passages, notice=notice)
        self._draft.answered_without_model(cited=answer.cited)
        for line in answer.text.splitlines(keepends=True):
            yield self._draft.add(line)

    def _citations(self) -> list[Citation]:
        draft, passages = self._draft, self.plan.passages
        numbers = draft.cited
        if numbers is None:
            numbers = cited_numbers(draft.text, len(passages))
        return [cite(n, passages[n - 1]) for n in numbers]

    def _usage(self) -> Usage:
        """The model's count; estimated when it gave none (it broke off, or was not asked)."""
        if self._draft.usage is not None:
            return self._draft.usage
        return Usage(
            prompt_tokens=sum(estimate_message_tokens(m) for m in self.plan.prompt),
            completion_tokens=estimate_tokens(self._draft.text),
        )

    # --- persistence and telemetry ----------------------------------------------------------

    async def _persist(self) -> str | None:
        """Store the question and its answer in one write; the answer's id (None: not stored)."""
        self._observe()
        if not self.plan.request.persist:
            return None
        stored = await self._append_turn()
        return stored.id

    def _persist_in_background(self) -> None:
        """Store a stopped answer without awaiting: the consumer is being cancelled or closed."""
        self._observe()
        if self.plan.request.persist:
            self._deps.writes.start(self._append_turn)

    async def _append_turn(self) -> StoredMessage:
        plan, draft, usage = self.plan, self._draft, self._usage()
        if plan.conversation_id is None or plan.user_message_id is None:
            raise RuntimeError("a persisted turn always has its ids")
        answer = NewAnswer(
            content=draft.text, status=draft.status, finish_reason=draft.finish_reason,
            model=draft.model, prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens, citations=self._citations(),
        )
        return await self._deps.store.append_turn(
            plan.request.user_id, plan.conversation_id, question=plan.question,
            question_id=plan.user_message_id, answer=answer, new_title=plan.new_title,
        )

    def _observe(self) -> None:
        if self._deps.observer is None:
            return
        try:
            self._deps.observer(self._record())
        except Exception:  # telemetry must never break a turn
            log.exception("turn observer failed")

    def _record(self) -> TurnRecord:
        draft, started_at = self._draft, self.plan.started_at
        return TurnRecord(
            mode=draft.mode, status=draft.status, finish_reason=draft.finish_reason,
            usage=self._usage(), model=draft.model, passages=len(self.plan.passages),
            first_token_s=(None if draft.first_token_at is None
                           else draft.first_token_at - started_at),
            total_s=time.perf_counter() - started_at, user_id=self.plan.request.user_id,
        )
