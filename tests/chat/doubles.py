"""Protocol-level stand-ins for the chat-flow unit tests.

These implement the ``ChatModel`` and ``PassageSearch`` Protocols directly (like httpx's
MockTransport); they patch nothing. End-to-end tests use the real retriever over a real index and
the fake OpenAI server in tests/fakes/ instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field

from chatref.errors import ModelError
from chatref.llm.base import (
    ChatMessage,
    EndpointHealth,
    ModelDelta,
    ModelDone,
    ModelEvent,
    ModelHealth,
    Usage,
)
from chatref.retrieval.types import Passage, SearchMode


def passage(n: int, text: str, *, title: str = "Ops guide", source: str = "docs/ops.md",
            section: str | None = "Keys", page: int | None = None) -> Passage:
    return Passage(chunk_id=f"chunk-{n}", doc_id="doc-1", source=source, title=title, page=page,
                   section=section, text=text, score=1.0 / n)


@dataclass
class FixedSearch:
    passages: list[Passage]
    queries: list[str] = field(default_factory=list)

    async def search(
        self, query: str, *, top_k: int = 5, mode: SearchMode = "hybrid"
    ) -> list[Passage]:
        self.queries.append(query)
        return self.passages[:top_k]


@dataclass
class ScriptedModel:
    """Streams ``pieces``; raises ``fail_before``/``fail_after`` where asked."""

    pieces: list[str] = field(default_factory=lambda: ["Rotate ", "keys ", "monthly [1]."])
    finish_reason: str = "stop"
    usage: Usage | None = field(default_factory=lambda: Usage(100, 5))
    fail_before: ModelError | None = None
    fail_after: ModelError | None = None
    rewrite: str = "rewritten query"
    pause_s: float = 0.0
    prompts: list[list[ChatMessage]] = field(default_factory=list)
    rewrites: list[list[ChatMessage]] = field(default_factory=list)
    closed_streams: int = 0

    @property
    def name(self) -> str:
        return "scripted"

    async def stream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, temperature: float = 0.0
    ) -> AsyncGenerator[ModelEvent, None]:
        self.prompts.append(list(messages))
        try:
            if self.fail_before is not None:
                raise self.fail_before
            for piece in self.pieces:
                if self.pause_s:
                    await asyncio.sleep(self.pause_s)
                yield ModelDelta(piece)
            if self.fail_after is not None:
                raise self.fail_after
            yield ModelDone(self.finish_reason, self.usage, endpoint="east")
        finally:
            self.closed_streams += 1

    async def complete(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, temperature: float = 0.0
    ) -> str:
        self.rewrites.append(list(messages))
        if self.fail_before is not None:
            raise self.fail_before
        return self.rewrite

    def refresh_credentials(self) -> bool:
        return False

    async def health(self) -> ModelHealth:
        return ModelHealth(status="ok", ready=True, endpoints=[EndpointHealth(name=self.name)])

    async def aclose(self) -> None:
        return None
