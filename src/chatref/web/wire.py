"""The chat flow's events on the wire: one encoder per format, shared by every route that speaks it.

- ``ChatEvents``: our own server-sent events (POST /api/chat): ``conversation``, ``delta``s,
  ``citations``, then ``done`` or ``error``.
- ``OpenAIChunks``: OpenAI's ``chat.completion.chunk`` events (POST /v1/chat/completions with
  ``stream``), citations in the final chunk's ``delta.context`` as Azure OpenAI "on your data"
  sends them, optional usage chunk, ``[DONE]``.
- ``openai_completion``: the same answer as one ``chat.completion`` (without ``stream``).

``encode_turn`` runs a turn's events through an encoder and turns an exception raised while
streaming (after the 200 went out, so no status can tell it any more) into the format's own error
event. The terminal output of ``chatref ask`` is cli/terminal.py.

>>> encoder = ChatEvents()
>>> encoder.encode(TextDelta("Backups are kept 35 days [1]."))
[b'event: delta\\ndata: {"text":"Backups are kept 35 days [1]."}\\n\\n']
>>> encoder.failure("internal_error", "chatref failed unexpectedly; see its log")[0][:13]
b'event: error\\n'
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Any, Protocol

from chatref.chat.types import (
    Answer,
    CitationsReady,
    TextDelta,
    TurnDone,
    TurnEvent,
    TurnFailed,
    TurnStarted,
)
from chatref.errors import ChatrefError
from chatref.llm.base import Usage
from chatref.store.types import Citation
from chatref.web.schemas import (
    ChatCompletionOut,
    CitationOut,
    CompletionChoice,
    CompletionMessage,
    UsageOut,
)
from chatref.web.sse import sse_data, sse_event

log = logging.getLogger(__name__)

MODEL_ID = "chatref"
INTERNAL_ERROR = "chatref failed unexpectedly; see its log"


class TurnEncoder(Protocol):
    """One wire format: the bytes for each event of a turn, and for a failure mid-stream."""

    def opening(self) -> list[bytes]:
        """What is sent before the first event."""
        ...

    def encode(self, event: TurnEvent) -> list[bytes]: ...

    def failure(self, code: str, message: str) -> list[bytes]:
        """The format's error event, for an exception raised while the turn streamed."""
        ...


async def encode_turn(
    events: AsyncGenerator[TurnEvent, None], encoder: TurnEncoder
) -> AsyncIterator[bytes]:
    """The turn's events in ``encoder``'s format; an exception becomes the format's error event."""
    for chunk in encoder.opening():
        yield chunk
    try:
        async with contextlib.aclosing(events):
            async for event in events:
                for chunk in encoder.encode(event):
                    yield chunk
    except ChatrefError as exc:
        log.warning("chat stream failed: %s", exc.message)
        for chunk in encoder.failure(exc.code, exc.message):
            yield chunk
    except Exception:
        log.exception("chat stream failed unexpectedly")
        for chunk in encoder.failure("internal_error", INTERNAL_ERROR):
            yield chunk


def citations_json(citations: Sequence[Citation]) -> list[dict[str, Any]]:
    return [CitationOut.from_citation(c).model_dump() for c in citations]


def usage_json(usage: Usage) -> dict[str, int]:
    return UsageOut.from_usage(usage).model_dump()


class ChatEvents:
    """Our server-sent events for POST /api/chat (documented in the route's OpenAPI text)."""

    def opening(self) -> list[bytes]:
        return []

    def encode(self, event: TurnEvent) -> list[bytes]:
        match event:
            case TextDelta(text=text):
                return [sse_event("delta", {"text": text})]
            case TurnStarted():
                return [sse_event("conversation", {"id": event.conversation_id,
                                                   "user_message_id": event.user_message_id})]
            case CitationsReady(citations=citations):
                return [sse_event("citations", citations_json(citations))]
            case TurnDone():
                return [sse_event("done", {
                    "finish_reason": event.finish_reason, "usage": usage_json(event.usage),
                    "message_id": event.message_id, "mode": event.mode, "model": event.model,
                })]
            case TurnFailed():
                return [self._error(event.code, event.message, event.message_id)]
        raise TypeError(f"not a turn event: {event!r}")  # pragma: no cover (exhaustive above)

    def failure(self, code: str, message: str) -> list[bytes]:
        return [self._error(code, message, None)]

    @staticmethod
    def _error(code: str, message: str, message_id: str | None) -> bytes:
        return sse_event("error", {"code": code, "message": message, "message_id": message_id})


class OpenAIChunks:
    """OpenAI's streaming chat completion: ``chat.completion.chunk`` events, then ``[DONE]``.

    The role comes in the first chunk, each text delta in its own chunk, the citations (held
    until the end) in the final chunk with the finish reason; with ``include_usage`` a last chunk
    with no choices carries the usage, as OpenAI's ``stream_options`` asks.
    """

    def __init__(self, completion_id: str, created: int, *, include_usage: bool = False) -> None:
        self.completion_id = completion_id
        self.created = created
        self.include_usage = include_usage
        self._citations: list[Citation] = []

    def opening(self) -> list[bytes]:
        return [self._chunk({"role": "assistant", "content": ""})]

    def encode(self, event: TurnEvent) -> list[bytes]:
        match event:
            case TextDelta(text=text):
                return [self._chunk({"content": text})]
            case CitationsReady(citations=citations):
                self._citations = list(citations)
                return []
            case TurnDone():
                chunks = [self._chunk({"context": {"citations": citations_json(self._citations)}},
                                      event.finish_reason)]
                if self.include_usage:
                    chunks.append(sse_data({**self._envelope(), "choices": [],
                                            "usage": usage_json(event.usage)}))
                return [*chunks, sse_data("[DONE]")]
            case TurnFailed():
                return self.failure(event.code, event.message)
            case TurnStarted():
                return []
        raise TypeError(f"not a turn event: {event!r}")  # pragma: no cover (exhaustive above)

    def failure(self, code: str, message: str) -> list[bytes]:
        return [sse_data({"error": {"code": code, "message": message, "type": "server_error"}})]

    def _envelope(self) -> dict[str, Any]:
        return {"id": self.completion_id, "object": "chat.completion.chunk",
                "created": self.created, "model": MODEL_ID}

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        return sse_data({**self._envelope(), "choices": [
            {"index": 0, "delta": delta, "finish_reason": finish_reason}
        ]})


def openai_completion(answer: Answer, completion_id: str, created: int) -> ChatCompletionOut:
    """A whole answer as OpenAI's non-streaming ``chat.completion``."""
    return ChatCompletionOut(
        id=completion_id, created=created, model=MODEL_ID,
        choices=[CompletionChoice(
            message=CompletionMessage(content=answer.text,
                                      context={"citations": citations_json(answer.citations)}),
            finish_reason=answer.finish_reason,
        )],
        usage=UsageOut.from_usage(answer.usage),
    )
