"""One chat-model endpoint through the official ``openai`` SDK: Azure OpenAI or OpenAI-compatible.

The SDK's own retries are off (``max_retries=0``): retrying and failing over is the router's job
(llm/router.py), which needs to see every failure at once. The body follows the endpoint's model
family (llm/families.py): ``max_tokens`` and ``temperature`` for chat models;
``max_completion_tokens`` (answer plus reasoning allowance) and ``reasoning_effort`` for
reasoning models, which refuse the former. Azure endpoints use the v1 API unless a dated
api-version is configured (llm/clients.py). SDK errors are translated here, at the
boundary, into ``chatref.errors``: the content filter into ``ContentFilteredError``, anything
else before the first token into ``ModelEndpointError`` (with the cool-down the endpoint asked
for), anything after it into ``ModelStreamInterruptedError`` carrying the partial text.
Example::

    model = OpenAIChatModel.from_config(EndpointConfig(name="eastus", endpoint=url,
                                                       deployment="chat", api_key=key,
                                                       model_family="reasoning"))
    async for event in model.stream([ChatMessage("user", "hi")], max_tokens=100):
        ...
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2
import openai
from openai import AsyncOpenAI

from chatref.azure_credentials import CognitiveServicesTokens
from chatref.errors import (
    ContentFilteredError,
    ModelEndpointError,
    ModelError,
    ModelStreamInterruptedError,
)
from chatref.llm.base import (
    ChatMessage,
    EndpointHealth,
    ModelDelta,
    ModelDone,
    ModelEvent,
    ModelHealth,
    Usage,
    complete_from_stream,
)
from chatref.llm.clients import azure_openai_client
from chatref.llm.config import DEFAULT_API_VERSION, EndpointConfig
from chatref.llm.families import request_fields
from chatref.llm.retry_hints import cool_down_from_headers
from chatref.llm.sse import StreamErrorEvent, parse_line
from chatref.telemetry import Telemetry

_NO_KEY = "no-key"  # OpenAI-compatible servers that need none still get a non-empty header


class _StreamEnded(Exception):  # noqa: N818 - a signal for _map_errors, never seen outside
    """The body ended without a finish reason."""


@dataclass
class _Attempt:
    """What one stream has produced so far: what the error mapping and the metrics need."""

    started: float = field(default_factory=time.perf_counter)
    parts: list[str] = field(default_factory=list)
    ttft_s: float | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    outcome: str = "success"


class OpenAIChatModel:
    """A ``ChatModel`` for one endpoint. Build it with ``from_config``."""

    def __init__(self, client: AsyncOpenAI, *, name: str, model: str, kind: str = "paygo",
                 endpoint_url: str = "", first_token_timeout_s: float | None = None,
                 telemetry: Telemetry | None = None,
                 token_provider: CognitiveServicesTokens | None = None,
                 model_family: str = "chat", reasoning_effort: str | None = None,
                 reasoning_budget_tokens: int = 0, api_version: str | None = None) -> None:
        self._client = client
        self._name = name
        self._model = model
        self.model_family = model_family
        self.reasoning_effort = reasoning_effort
        self.reasoning_budget_tokens = reasoning_budget_tokens
        self.api_version = api_version
        self.kind = kind
        self.endpoint_url = endpoint_url
        self.first_token_timeout_s = first_token_timeout_s
        self.telemetry = telemetry
        self._token_provider = token_provider

    @classmethod
    def from_config(cls, config: EndpointConfig, *, client_id: str | None = None,
                    telemetry: Telemetry | None = None) -> OpenAIChatModel:
        """Build the SDK client for ``config``; no key on Azure means an Entra ID token."""
        timeout = openai.Timeout(config.read_timeout_s, connect=config.timeout_s)
        api_key = config.api_key.get_secret_value() if config.api_key else None
        token_provider: CognitiveServicesTokens | None = None
        client: AsyncOpenAI
        api_version = None
        if config.is_azure:
            if api_key is None:
                token_provider = CognitiveServicesTokens(client_id)
            api_version = config.api_version or DEFAULT_API_VERSION
            client = azure_openai_client(config.endpoint, api_version=api_version,
                                         api_key=api_key, token_provider=token_provider,
                                         max_retries=0, timeout=timeout)
        else:
            client = AsyncOpenAI(base_url=config.endpoint, api_key=api_key or _NO_KEY,
                                 max_retries=0, timeout=timeout)
        return cls(client, name=config.name, model=config.deployment_or_model, kind=config.kind,
                   endpoint_url=config.endpoint, first_token_timeout_s=config.first_token_timeout_s,
                   telemetry=telemetry, token_provider=token_provider,
                   model_family=config.model_family, reasoning_effort=config.reasoning_effort,
                   reasoning_budget_tokens=config.reasoning_budget_tokens,
                   api_version=api_version)

    @property
    def name(self) -> str:
        return self._name

    async def stream(self, messages: Sequence[ChatMessage], *, max_tokens: int,
                     temperature: float = 0.0) -> AsyncGenerator[ModelEvent, None]:
        """``max_tokens`` bounds the visible answer; a reasoning model ignores ``temperature``
        (it accepts only its default) and gets ``max_tokens`` plus its reasoning allowance."""
        attempt = _Attempt()
        fields = request_fields(self.model_family, max_tokens=max_tokens, temperature=temperature,
                                reasoning_effort=self.reasoning_effort,
                                reasoning_budget_tokens=self.reasoning_budget_tokens)
        try:
            with self._map_errors(attempt):
                async with self._first_token_timer() as timer:
                    # The SDK builds the request, authenticates and turns an error status into
                    # its exceptions; the lines of the body are parsed by llm/sse.py.
                    async with self._client.chat.completions.with_streaming_response.create(
                            model=self._model, messages=[_wire(m) for m in messages],
                            stream=True, stream_options={"include_usage": True},
                            **fields) as response:  # type: ignore[call-overload]
                        async for line in response.iter_lines():
                            chunk = parse_line(line)
                            if chunk is None:
                                continue
                            if chunk.done:
                                break
                            attempt.usage = chunk.usage or attempt.usage
                            attempt.finish_reason = chunk.finish_reason or attempt.finish_reason
                            if chunk.text:
                                if attempt.ttft_s is None:
                                    attempt.ttft_s = time.perf_counter() - attempt.started
                                    timer.reschedule(None)
                                attempt.parts.append(chunk.text)
                                yield ModelDelta(chunk.text)
                if attempt.finish_reason is None:
                    raise _StreamEnded
            if attempt.finish_reason == "length" and not attempt.parts:
                raise self._no_room_to_answer(attempt)
            if attempt.finish_reason == "content_filter":
                attempt.outcome = "content_filter"
            yield ModelDone(finish_reason=attempt.finish_reason, usage=attempt.usage,
                            endpoint=self._name)
        except ModelError as exc:
            attempt.outcome = _outcome(exc)
            raise
        finally:
            self._record(attempt)

    def _no_room_to_answer(self, attempt: _Attempt) -> ModelEndpointError:
        """The token limit ran out before any visible text: with a reasoning model, its
        reasoning used the whole allowance. Another region would do the same (bad_request)."""
        reasoning = attempt.usage.reasoning_tokens if attempt.usage else 0
        hint = (f"the reasoning ({reasoning} tokens) used the whole allowance: raise "
                "reasoning_budget_tokens or lower reasoning_effort"
                if self.model_family == "reasoning" else "raise the answer's token limit")
        return ModelEndpointError(f"{self._name}: no answer within the token limit: {hint}",
                                  endpoint=self._name, reason="bad_request")

    def _first_token_timer(self) -> asyncio.Timeout:
        """Bounds the wait for the first token (request included); disarmed when it arrives."""
        if not self.first_token_timeout_s:
            return asyncio.timeout(None)
        return asyncio.timeout(self.first_token_timeout_s)

    @contextmanager
    def _map_errors(self, attempt: _Attempt) -> Iterator[None]:
        """Every failure of a stream as a ``chatref.errors`` error, decided in this one place
        (httpx's ``map_httpcore_exceptions``): before the first token an endpoint error the
        router may fail over from, after it an interruption carrying the partial text."""
        try:
            yield
        except TimeoutError as exc:  # only the first-token timer raises it (the SDK has its own)
            raise ModelEndpointError(
                f"{self._name}: no first token within {self.first_token_timeout_s} s",
                endpoint=self._name, reason="first_token_timeout") from exc
        except openai.OpenAIError as exc:
            raise self._broken(attempt, exc, translate_error(exc, self._name)) from exc
        except _StreamEnded as exc:
            raise self._broken(attempt, exc, ModelEndpointError(
                f"{self._name}: the stream ended without an answer", endpoint=self._name,
                reason="connection")) from exc
        except (httpx2.HTTPError, StreamErrorEvent) as exc:  # reading the body (httpx2: the SDK's)
            raise self._broken(attempt, exc, ModelEndpointError(
                f"{self._name}: the stream failed: {exc}", endpoint=self._name,
                reason="connection")) from exc
        except ValueError as exc:  # a body that is not what the API promises (bad JSON)
            raise self._broken(attempt, exc, ModelEndpointError(
                f"{self._name}: malformed response: {exc}", endpoint=self._name,
                reason="server_error")) from exc

    def _broken(self, attempt: _Attempt, exc: Exception, before_any_token: ModelError
                ) -> ModelError:
        if not attempt.parts:
            return before_any_token
        return ModelStreamInterruptedError(
            f"{self._name}: the answer broke off after {len(attempt.parts)} chunks: "
            f"{type(exc).__name__}", partial_text="".join(attempt.parts), endpoint=self._name)

    def _record(self, attempt: _Attempt) -> None:
        if self.telemetry is None:
            return
        usage = attempt.usage or Usage()
        self.telemetry.model_request(
            self._name, outcome=attempt.outcome, duration_s=time.perf_counter() - attempt.started,
            ttft_s=attempt.ttft_s, prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens, reasoning_tokens=usage.reasoning_tokens)

    async def complete(self, messages: Sequence[ChatMessage], *, max_tokens: int,
                       temperature: float = 0.0) -> str:
        return await complete_from_stream(self, messages, max_tokens=max_tokens,
                                          temperature=temperature)

    def refresh_credentials(self) -> bool:
        """Drop a cached Entra ID token (after a 401). False when there is nothing to refresh."""
        if self._token_provider is None:
            return False
        self._token_provider.refresh()
        return True

    async def health(self) -> ModelHealth:
        endpoint = EndpointHealth(
            name=self._name, kind=self.kind, endpoint=self.endpoint_url, model=self._model,
            auth="entra_id" if self._token_provider is not None else "key",
            model_family=self.model_family, api_version=self.api_version,
            reasoning_effort=self.reasoning_effort)
        return ModelHealth(status="ok", ready=True, endpoints=[endpoint])

    async def aclose(self) -> None:
        await self._client.close()
        if self._token_provider is not None:
            await self._token_provider.aclose()


def translate_error(exc: openai.OpenAIError, endpoint: str) -> ModelError:
    """An SDK error before the first token, as a ``chatref.errors`` error."""
    if isinstance(exc, openai.APITimeoutError):
        return ModelEndpointError(f"{endpoint}: timed out", endpoint=endpoint, reason="timeout")
    if isinstance(exc, openai.APIConnectionError):
        return ModelEndpointError(f"{endpoint}: connection failed: {exc}", endpoint=endpoint,
                                  reason="connection")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        code = getattr(exc, "code", None)
        if status == 400 and code == "content_filter":
            return ContentFilteredError(f"{endpoint}: the content filter refused the prompt")
        reason = _reason_for_status(status)
        retry_after = cool_down_from_headers(exc.response.headers, throttled=status == 429)
        hint = _FAMILY_HINTS.get((code, getattr(exc, "param", None)), "") if status == 400 else ""
        return ModelEndpointError(f"{endpoint}: HTTP {status} {code or ''}: {_message(exc)}{hint}",
                                  endpoint=endpoint, reason=reason, http_status=status,
                                  retry_after_s=retry_after)
    return ModelEndpointError(f"{endpoint}: {type(exc).__name__}: {exc}", endpoint=endpoint,
                              reason="server_error")


# A 400 that means the configured model family is not the deployment's (llm/families.py).
_TO_REASONING = (" (the deployment is a reasoning model: set model_family \"reasoning\" for this "
                 "endpoint, or CHATREF_LLM_MODEL_FAMILY=reasoning)")
_FAMILY_HINTS: dict[tuple[str | None, str | None], str] = {
    ("unsupported_parameter", "max_tokens"): _TO_REASONING,
    ("unsupported_value", "temperature"): _TO_REASONING,
    ("unsupported_parameter", "temperature"): _TO_REASONING,
    ("unsupported_parameter", "reasoning_effort"): (
        " (the deployment is not a reasoning model: set model_family \"chat\" for this "
        "endpoint)"),
}


def _reason_for_status(status: int) -> str:
    if status == 408:
        return "timeout"
    if status == 429:
        return "throttled"
    if status in (401, 403):
        return "auth"
    if status == 404:
        return "not_found"
    if status >= 500:
        return "server_error"
    return "bad_request"


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])[:300]
    return exc.message[:300]


def _outcome(exc: ModelError) -> str:
    if isinstance(exc, ContentFilteredError):
        return "content_filter"
    if isinstance(exc, ModelStreamInterruptedError):
        return "interrupted"
    if isinstance(exc, ModelEndpointError):
        return exc.reason
    return "server_error"


def _wire(message: ChatMessage) -> Any:
    return {"role": message.role, "content": message.content}
