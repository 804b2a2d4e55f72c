"""One chat-model endpoint through the official ``openai`` SDK: Azure OpenAI or OpenAI-compatible.

The SDK's own retries are off (``max_retries=0``): retrying and failing over is the router's job
(llm/router.py), which needs to see every failure at once. SDK errors are translated here, at the
boundary, into ``chatref.errors``: the content filter into ``ContentFilteredError``, anything
else before the first token into ``ModelEndpointError`` (with the cool-down the endpoint asked
for), anything after it into ``ModelStreamInterruptedError`` carrying the partial text.
Example::

    model = OpenAIChatModel.from_config(EndpointConfig(name="eastus", endpoint=url,
                                                       deployment="gpt-4o", api_key=key))
    async for event in model.stream([ChatMessage("user", "hi")], max_tokens=100):
        ...
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any

import httpx2
import openai
from openai import AsyncAzureOpenAI, AsyncOpenAI

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
)
from chatref.llm.config import DEFAULT_API_VERSION, EndpointConfig
from chatref.llm.retry_hints import cool_down_from_headers
from chatref.telemetry import Telemetry

COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default"
_NO_KEY = "no-key"  # OpenAI-compatible servers that need none still get a non-empty header


class _EntraTokenProvider:
    """Bearer tokens from DefaultAzureCredential; ``refresh`` starts over with a new credential.

    The synchronous credential is used (through a worker thread) because azure-identity's async
    credentials need aiohttp; tokens are cached, so the thread hop is rare work. A refresh
    builds a new credential because the old one's token cache would hand back the same token.
    """

    def __init__(self, client_id: str | None) -> None:
        self._client_id = client_id
        self._credential, self._provider = self._new()

    def _new(self) -> tuple[Any, Callable[[], str]]:
        from azure.identity import DefaultAzureCredential, get_bearer_token_provider

        credential = DefaultAzureCredential(managed_identity_client_id=self._client_id)
        return credential, get_bearer_token_provider(credential, COGNITIVE_SERVICES_SCOPE)

    async def __call__(self) -> str:
        return await asyncio.to_thread(self._provider)

    def refresh(self) -> None:
        old = self._credential
        self._credential, self._provider = self._new()
        old.close()

    async def aclose(self) -> None:
        self._credential.close()


class _StreamErrorEvent(Exception):
    """An ``error`` object sent inside the event stream."""


class OpenAIChatModel:
    """A ``ChatModel`` for one endpoint. Build it with ``from_config``."""

    def __init__(self, client: AsyncOpenAI, *, name: str, model: str, kind: str = "paygo",
                 endpoint_url: str = "", first_token_timeout_s: float | None = None,
                 telemetry: Telemetry | None = None,
                 token_provider: _EntraTokenProvider | None = None) -> None:
        self._client = client
        self._name = name
        self._model = model
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
        token_provider: _EntraTokenProvider | None = None
        client: AsyncOpenAI
        if config.is_azure:
            if api_key is None:
                token_provider = _EntraTokenProvider(client_id)
            client = AsyncAzureOpenAI(
                azure_endpoint=config.endpoint,
                api_version=config.api_version or DEFAULT_API_VERSION, api_key=api_key,
                azure_ad_token_provider=token_provider, max_retries=0, timeout=timeout)
        else:
            client = AsyncOpenAI(base_url=config.endpoint, api_key=api_key or _NO_KEY,
                                 max_retries=0, timeout=timeout)
        return cls(client, name=config.name, model=config.deployment_or_model, kind=config.kind,
                   endpoint_url=config.endpoint, first_token_timeout_s=config.first_token_timeout_s,
                   telemetry=telemetry, token_provider=token_provider)

    @property
    def name(self) -> str:
        return self._name

    async def stream(self, messages: Sequence[ChatMessage], *, max_tokens: int,
                     temperature: float = 0.0) -> AsyncGenerator[ModelEvent, None]:
        started = time.perf_counter()
        deadline = (asyncio.get_running_loop().time() + self.first_token_timeout_s
                    if self.first_token_timeout_s else None)
        parts: list[str] = []
        ttft_s: float | None = None
        finish_reason: str | None = None
        usage: Usage | None = None
        outcome = "success"
        request: Any = None
        try:
            try:
                # The SDK builds the request, authenticates and turns an error status into its
                # exceptions; the SSE lines are parsed here, because building the SDK's model
                # objects for every chunk was two thirds of the CPU of relaying an answer.
                async with asyncio.timeout_at(deadline):
                    request = self._client.chat.completions.with_streaming_response.create(
                        model=self._model, messages=[_wire(m) for m in messages],
                        max_tokens=max_tokens, temperature=temperature, stream=True,
                        stream_options={"include_usage": True})
                    response = await request.__aenter__()
                lines = response.iter_lines().__aiter__()
                while True:
                    try:
                        if ttft_s is None:
                            async with asyncio.timeout_at(deadline):
                                line = await lines.__anext__()
                        else:
                            line = await lines.__anext__()
                    except StopAsyncIteration:
                        break
                    if not line.startswith("data:"):
                        continue  # blank separators, comments, event names
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    chunk = json.loads(data)
                    if not isinstance(chunk, dict):
                        raise ValueError(f"a stream chunk that is not an object: {data[:80]}")
                    if chunk.get("error"):
                        raise _StreamErrorEvent(str(chunk["error"])[:200])
                    if chunk.get("usage"):
                        usage = Usage(int(chunk["usage"].get("prompt_tokens") or 0),
                                      int(chunk["usage"].get("completion_tokens") or 0))
                    for choice in chunk.get("choices") or ():
                        content = (choice.get("delta") or {}).get("content")
                        if content:
                            if ttft_s is None:
                                ttft_s = time.perf_counter() - started
                            parts.append(content)
                            yield ModelDelta(content)
                        if choice.get("finish_reason"):
                            finish_reason = choice["finish_reason"]
            # failures while reading the body (the SDK sends its requests with httpx2)
            except (httpx2.HTTPError, _StreamErrorEvent) as exc:
                if parts:
                    raise ModelStreamInterruptedError(
                        f"{self._name}: the answer broke off after {len(parts)} chunks: "
                        f"{type(exc).__name__}", partial_text="".join(parts),
                        endpoint=self._name) from exc
                raise ModelEndpointError(f"{self._name}: the stream failed: {exc}",
                                         endpoint=self._name, reason="connection") from exc
            except TimeoutError as exc:
                raise ModelEndpointError(
                    f"{self._name}: no first token within {self.first_token_timeout_s} s",
                    endpoint=self._name, reason="first_token_timeout") from exc
            except openai.OpenAIError as exc:
                raise self._translate(exc, parts) from exc
            except ValueError as exc:  # a body that is not what the API promises (bad JSON)
                if parts:
                    raise ModelStreamInterruptedError(
                        f"{self._name}: malformed stream: {type(exc).__name__}",
                        partial_text="".join(parts), endpoint=self._name) from exc
                raise ModelEndpointError(f"{self._name}: malformed response: {exc}",
                                         endpoint=self._name, reason="server_error") from exc
            if finish_reason is None:
                if parts:
                    raise ModelStreamInterruptedError(
                        f"{self._name}: the stream ended without a finish reason",
                        partial_text="".join(parts), endpoint=self._name)
                raise ModelEndpointError(f"{self._name}: the stream ended without an answer",
                                         endpoint=self._name, reason="connection")
            if finish_reason == "content_filter":
                outcome = "content_filter"
            yield ModelDone(finish_reason=finish_reason, usage=usage, endpoint=self._name)
        except ModelError as exc:
            outcome = _outcome(exc)
            raise
        finally:
            if request is not None:
                await request.__aexit__(None, None, None)
            if self.telemetry is not None:
                self.telemetry.model_request(
                    self._name, outcome=outcome, duration_s=time.perf_counter() - started,
                    ttft_s=ttft_s, prompt_tokens=usage.prompt_tokens if usage else 0,
                    completion_tokens=usage.completion_tokens if usage else 0)

    async def complete(self, messages: Sequence[ChatMessage], *, max_tokens: int,
                       temperature: float = 0.0) -> str:
        parts: list[str] = []
        async for event in self.stream(messages, max_tokens=max_tokens, temperature=temperature):
            if isinstance(event, ModelDelta):
                parts.append(event.text)
        return "".join(parts)

    def refresh_credentials(self) -> bool:
        """Drop a cached Entra ID token (after a 401). False when there is nothing to refresh."""
        if self._token_provider is None:
            return False
        self._token_provider.refresh()
        return True

    async def health(self) -> ModelHealth:
        endpoint = EndpointHealth(
            name=self._name, kind=self.kind, endpoint=self.endpoint_url, model=self._model,
            auth="entra_id" if self._token_provider is not None else "key")
        return ModelHealth(status="ok", ready=True, endpoints=[endpoint])

    async def aclose(self) -> None:
        await self._client.close()
        if self._token_provider is not None:
            await self._token_provider.aclose()

    def _translate(self, exc: openai.OpenAIError, parts: list[str]) -> ModelError:
        if parts:
            return ModelStreamInterruptedError(
                f"{self._name}: the answer broke off after {len(parts)} chunks: "
                f"{type(exc).__name__}", partial_text="".join(parts), endpoint=self._name)
        return translate_error(exc, self._name)


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
        return ModelEndpointError(f"{endpoint}: HTTP {status} {code or ''}: {_message(exc)}",
                                  endpoint=endpoint, reason=reason, http_status=status,
                                  retry_after_s=retry_after)
    return ModelEndpointError(f"{endpoint}: {type(exc).__name__}: {exc}", endpoint=endpoint,
                              reason="server_error")


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
