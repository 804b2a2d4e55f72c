"""Fake regions for ``chatref drill failover``: a chat-completions server on 127.0.0.1 with faults.

Only what the drill needs lives here: a streaming chat-completions endpoint (the Azure v1 API,
deployment paths and OpenAI's ``/v1``) that answers a fixed text and refuses what Azure refuses
(ops/fakerules.py: unknown routes and api-versions, and for ``model_family="reasoning"`` the
``max_tokens`` and ``temperature`` a reasoning model rejects), a ``Fault`` to fail the way real
regions fail (an error status with its headers, a slow first token, a connection dropped after N
chunks), the requests it received, and, with ``upstream``, forwarding of healthy requests to a
real endpoint (ops/faultproxy.py) so real traffic meets the faults. The full test double, with
content filters, non-streaming answers, malformed bodies and an admin API, is
tests/fakes/openai_server.py, built on the pieces below (``LoopbackServer``,
``stream_completion``, ``send_json``...). Example::

    with FakeRegion(answer="one two three") as region:
        region.set_fault(status=429, headers={"retry-after": "120"})
        ...  # point an EndpointConfig at region.url
        assert len(region.requests) == 1
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from chatref.ops.fakerules import AZURE_CHAT_PATH, refusal, route_of
from chatref.ops.faultproxy import Upstream, forward

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

__all__ = ["AZURE_CHAT_PATH", "FakeRegion", "Fault", "LoopbackServer", "StreamScript"]


@dataclass(frozen=True)
class Fault:
    """How a region answers: the default answers normally (status 200, no delay, no drop)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    first_token_delay_s: float = 0.0
    drop_after_chunks: int | None = None


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    query: str
    headers: dict[str, str]
    body: dict[str, Any]
    received_at: float


class DropConnection(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised inside an app to make uvicorn close the socket mid-response."""


class _DropFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DropConnection)


def split_tokens(text: str) -> list[str]:
    """Split an answer into stream chunks: one word plus its trailing whitespace each.

    >>> split_tokens("one two  three")
    ['one ', 'two  ', 'three']
    """
    return re.findall(r"\s*\S+\s*", text) or [text]


def error_body(status: int, code: str | None = None, message: str | None = None) -> dict[str, Any]:
    """An OpenAI/Azure-shaped error document."""
    return {"error": {"code": code or str(status), "message": message or f"HTTP {status}",
                      "type": None, "param": None}}


def count_prompt_tokens(body: dict[str, Any]) -> int:
    messages = body.get("messages", [])
    if not isinstance(messages, list):
        return 0
    return sum(len(str(m.get("content", "")).split()) + 4 for m in messages if isinstance(m, dict))


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def wait_or_disconnect(receive: Receive, seconds: float) -> None:
    """Sleep ``seconds``, returning early when the client hangs up (so hangs end with tests)."""

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(disconnected(), seconds)
    except TimeoutError:
        return
    raise DropConnection  # the client is gone: nothing left to send


async def send_json(send: Send, status: int, payload: dict[str, Any],
                    extra_headers: dict[str, str] | None = None) -> None:
    data = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in (extra_headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data, "more_body": False})


async def lifespan(receive: Receive, send: Send,
                   on_shutdown: Callable[[], Awaitable[None]] | None = None) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if on_shutdown is not None:
                await on_shutdown()
            await send({"type": "lifespan.shutdown.complete"})
            return


@dataclass(frozen=True)
class StreamScript:
    """One streamed answer, as the wire shows it (what ``stream_completion`` sends)."""

    tokens: list[str]
    model: str
    azure: bool
    prompt_tokens: int
    include_usage: bool
    finish_reason: str = "stop"
    first_token_delay_s: float = 0.0
    pace_s: float = 0.0
    drop_after_chunks: int | None = None
    malformed: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    reasoning_tokens: int = 0  # hidden tokens a reasoning model spent (counted in usage)


def usage_of(prompt_tokens: int, visible_tokens: int, reasoning_tokens: int) -> dict[str, Any]:
    """The usage object: completion tokens include the reasoning ones, detailed apart."""
    completion = visible_tokens + reasoning_tokens
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion,
            "total_tokens": prompt_tokens + completion,
            "completion_tokens_details": {"reasoning_tokens": reasoning_tokens}}


async def stream_completion(send: Send, receive: Receive, script: StreamScript) -> None:
    """Send one SSE chat-completion stream: chunks, finish reason, usage, ``[DONE]``."""
    completion_id = f"chatcmpl-{uuid.uuid4().hex[:20]}"
    created = int(time.time())
    headers = [(b"content-type", b"text/event-stream; charset=utf-8"),
               (b"cache-control", b"no-cache")]
    headers += [(k.encode(), v.encode()) for k, v in script.headers.items()]
    await send({"type": "http.response.start", "status": 200, "headers": headers})

    async def event(payload: dict[str, Any] | str) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        await send({"type": "http.response.body", "body": f"data: {data}\n\n".encode(),
                    "more_body": True})

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                "model": script.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    if script.azure:  # Azure sends the prompt's filter results first, with no choices
        await event({"id": "", "object": "", "created": 0, "model": "", "choices": [],
                     "prompt_filter_results": [{"prompt_index": 0,
                                                "content_filter_results": {}}]})
    await event(chunk({"role": "assistant", "content": ""}))
    if script.malformed:
        await event('{"choices": [{"delta": {"content": "unterminated')
        await event("[DONE]")
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    if script.first_token_delay_s > 0:
        await wait_or_disconnect(receive, script.first_token_delay_s)
    drop = script.drop_after_chunks
    for index, token in enumerate(script.tokens):
        if drop is not None and index >= drop:
            raise DropConnection
        if index and script.pace_s > 0:
            await asyncio.sleep(script.pace_s)
        await event(chunk({"content": token}))
    if drop is not None and len(script.tokens) <= drop:
        raise DropConnection
    await event(chunk({}, script.finish_reason))
    if script.include_usage:
        await event({"id": completion_id, "object": "chat.completion.chunk", "created": created,
                     "model": script.model, "choices": [],
                     "usage": usage_of(script.prompt_tokens, len(script.tokens),
                                       script.reasoning_tokens)})
    await event("[DONE]")
    await send({"type": "http.response.body", "body": b"", "more_body": False})


class LoopbackServer:
    """Serve one ASGI app with uvicorn on 127.0.0.1 (port 0: a free one) in a background thread."""

    def __init__(self, app: App, *, port: int = 0, name: str = "fake") -> None:
        self._app = app
        self._port = port
        self._name = name
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> LoopbackServer:
        logger = logging.getLogger("uvicorn.error")
        if not any(isinstance(f, _DropFilter) for f in logger.filters):
            logger.addFilter(_DropFilter())
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose
        # proto says TCP, and without it every keep-alive response waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", self._port))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(self._app, log_config=None, access_log=False, lifespan="on",
                                timeout_graceful_shutdown=1, timeout_keep_alive=30,
                                log_level="warning")
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                        name=f"{self._name}-{self._port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the {self._name} server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"


REGION_REASONING_TOKENS = 64  # what a reasoning region reports having thought, per answer


class _RegionApp:
    """The ASGI app of one fake region (raw ASGI: it needs to control bytes and drop sockets)."""

    def __init__(self, answer: str, upstream: Upstream | None, model_family: str) -> None:
        self.answer = answer
        self.upstream = upstream
        self.model_family = model_family
        self.fault = Fault()
        self.requests: list[ReceivedRequest] = []
        self.lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send, self.upstream.aclose if self.upstream else None)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        raw = await read_body(receive)
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            body = {}
        body = body if isinstance(body, dict) else {}
        route = route_of(scope["method"], path, body)
        if self.upstream is not None and scope["method"] == "POST" \
                and path.endswith("/chat/completions"):
            route = route or route_of("POST", "/v1/chat/completions", body)  # upstream decides
        if route is None:
            await send_json(send, 404, error_body(404, message="Resource not found"))
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope.get("query_string", b"").decode("latin-1")
        with self.lock:
            fault = self.fault
            self.requests.append(ReceivedRequest(path, query, headers, body, time.time()))
        if fault.status != 200:
            await send_json(send, fault.status, error_body(fault.status), fault.headers)
        elif self.upstream is None and (
                refused := refusal(route, query, body, self.model_family)) is not None:
            await send_json(send, *refused)
        elif self.upstream is not None:
            await forward(self.upstream, path=path, query=query, headers=headers, body=raw,
                          send=send, first_token_delay_s=fault.first_token_delay_s,
                          drop_after_chunks=fault.drop_after_chunks, drop=DropConnection)
        else:
            options = body.get("stream_options") or {}
            await stream_completion(send, receive, StreamScript(
                tokens=split_tokens(self.answer), model=route.deployment,
                azure=route.api != "openai", prompt_tokens=count_prompt_tokens(body),
                include_usage=isinstance(options, dict) and bool(options.get("include_usage")),
                first_token_delay_s=fault.first_token_delay_s,
                drop_after_chunks=fault.drop_after_chunks,
                reasoning_tokens=REGION_REASONING_TOKENS if self.model_family == "reasoning"
                else 0))


class FakeRegion(LoopbackServer):
    """A fake region (``upstream=None``) or a fault-injecting proxy in front of a real endpoint.

    ``url`` is what an ``EndpointConfig.endpoint`` points at; ``set_fault`` changes how every
    request from now on is answered; ``requests`` is what was received. ``model_family`` is
    that of the deployment the region plays (``reasoning``: gpt-5 rules, reasoning usage).
    """

    def __init__(self, *, answer: str = "", upstream: str | None = None,
                 model_family: str = "chat") -> None:
        self._region = _RegionApp(answer, Upstream(upstream) if upstream else None,
                                  model_family)
        super().__init__(self._region, name="fake-region")

    def start(self) -> FakeRegion:
        super().start()
        return self

    def __enter__(self) -> FakeRegion:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def set_fault(self, **changes: Any) -> None:
        with self._region.lock:
            self._region.fault = Fault(**changes)

    def reset(self) -> None:
        """Answer normally again and forget the requests received."""
        with self._region.lock:
            self._region.fault = Fault()
            self._region.requests.clear()

    def clear_requests(self) -> None:
        with self._region.lock:
            self._region.requests.clear()

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._region.lock:
            return list(self._region.requests)
