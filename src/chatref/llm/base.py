"""The chat-model seam.

``ChatModel`` is what the chat flow calls; implementations are the single OpenAI/Azure OpenAI
endpoint (llm/openai_model.py) and the multi-endpoint router (llm/router.py). No model configured
means no ``ChatModel`` at all: the chat flow then answers extractively.

A stream yields ``ModelDelta`` events and ends with exactly one ``ModelDone``. Errors:
``ContentFilteredError`` when the model's filter refuses before any token; ``ModelError`` (or a
subclass) for anything else. A failure after some deltas raises ``ModelError`` mid-stream; the
caller keeps what it already relayed.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from chatref.llm.circuit import CircuitState

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True)
class Usage:
    """Tokens of one answer. ``completion_tokens`` includes a reasoning model's hidden
    ``reasoning_tokens`` (billed as output, never shown)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class ModelDelta:
    text: str


@dataclass(frozen=True)
class ModelDone:
    finish_reason: str  # "stop", "length", "content_filter", ...
    usage: Usage | None = None
    endpoint: str | None = None  # name of the endpoint that answered


ModelEvent = ModelDelta | ModelDone


@dataclass(frozen=True)
class EndpointHealth:
    """One endpoint as /health/ready shows it; the router adds its routing state."""

    name: str
    kind: str = "paygo"
    endpoint: str = ""
    model: str = ""
    auth: Literal["entra_id", "key", "none"] = "none"
    model_family: str = "chat"
    api_version: str | None = None  # Azure only: "v1" or a dated version
    reasoning_effort: str | None = None
    priority: int = 1
    weight: float = 1.0
    circuit: CircuitState = "closed"
    usable: bool = True
    cool_down_s: float = 0.0
    consecutive_failures: int = 0
    config_error: str | None = None
    last_error: str | None = None
    outcomes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelHealth:
    """A chat model's state. ``ready`` is False only when no endpoint is correctly configured;
    ``status`` is ``ok`` (every endpoint usable), ``degraded`` (some out) or ``unavailable``
    (all out: chats are answered extractively until one comes back)."""

    status: Literal["ok", "degraded", "unavailable"]
    ready: bool
    endpoints: list[EndpointHealth]
    problems: list[str] = field(default_factory=list)


class ChatModel(Protocol):
    """A streaming chat-completion model."""

    @property
    def name(self) -> str: ...

    def stream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, temperature: float = 0.0
    ) -> AsyncGenerator[ModelEvent, None]:
        """Deltas, then one ModelDone. An async generator, so callers may ``aclosing()`` it."""
        ...

    async def complete(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, temperature: float = 0.0
    ) -> str:
        """The whole answer at once (used for query rewriting)."""
        ...

    async def health(self) -> ModelHealth:
        """The model's state, for /health/ready and the failover drill."""
        ...

    def refresh_credentials(self) -> bool:
        """Drop cached Entra ID tokens (the router calls it after a 401); False when the model
        holds none (a key, or no authentication)."""
        ...

    async def aclose(self) -> None: ...


async def complete_from_stream(
    model: ChatModel, messages: Sequence[ChatMessage], *, max_tokens: int,
    temperature: float = 0.0,
) -> str:
    """``ChatModel.complete`` for any model: the text of its ``stream``, joined."""
    parts: list[str] = []
    async for event in model.stream(messages, max_tokens=max_tokens, temperature=temperature):
        if isinstance(event, ModelDelta):
            parts.append(event.text)
    return "".join(parts)
