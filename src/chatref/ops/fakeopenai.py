"""A fault-injecting Azure OpenAI / OpenAI-compatible server for tests, benchmarks and drills.

It speaks the real wire protocol on 127.0.0.1 — Azure deployment paths and ``/v1`` paths, JSON and
SSE streaming, usage chunks, OpenAI/Azure error bodies (content filter included) — and can be told,
per request or from now on, to fail in the ways real regions fail: a status code with its
``Retry-After`` / ``retry-after-ms`` / ``x-ratelimit-reset-*`` headers, a hang before the first
byte, a slow first token, a connection dropped after N chunks. It records every request it
received so a test can assert the prompt the model saw.

It lives in the package (not only in tests/) because ``chatref drill failover`` stands up fake
regions from it. Example::

    with FakeOpenAIServer(answer="Hello there.") as fake:
        fake.enqueue(Behaviour(status=429, headers={"retry-after": "20"}))
        ...  # point a client at fake.url (Azure) or fake.openai_base_url (/v1)
        assert fake.requests[-1].body["messages"][0]["role"] == "system"

Admin HTTP API (for a fake running in another process): ``GET /_fake/requests``,
``POST /_fake/default`` (a Behaviour as JSON), ``POST /_fake/enqueue`` (a Behaviour or a list),
``POST /_fake/reset``, ``GET /_fake/health``. ``GET /_fake/msi/token`` plays App Service's
managed-identity endpoint: point ``IDENTITY_ENDPOINT`` at it (with any ``IDENTITY_HEADER``) and
``DefaultAzureCredential`` gets tokens ``fake-entra-token-1``, ``-2``, ... from it.
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
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import uvicorn

from chatref.ops.faultproxy import Upstream, forward

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

DEFAULT_ANSWER = "This is the fake model's answer [1]."

_ERROR_CODES: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "The request is invalid."),
    401: ("401", "Access denied due to invalid subscription key or wrong API endpoint. Make sure "
                 "to provide a valid key for an active subscription and use a correct regional "
                 "API endpoint for your resource."),
    403: ("403", "Principal does not have access to API/Operation."),
    404: ("DeploymentNotFound", "The API deployment for this resource does not exist. If you "
                                "created the deployment within the last 5 minutes, please wait a "
                                "moment and try again."),
    408: ("timeout", "The operation was timeout."),
    429: ("429", "Requests to the ChatCompletions_Create Operation under Azure OpenAI API have "
                 "exceeded the token rate limit of your current pricing tier. Please retry "
                 "after the time given in the Retry-After header."),
    500: ("InternalServerError", "The server had an error while processing your request."),
    502: ("BadGateway", "Bad gateway."),
    503: ("ServiceUnavailable", "The service is temporarily unable to process your request."),
    504: ("GatewayTimeout", "The server did not respond in time."),
}


@dataclass
class Behaviour:
    """How the fake answers one request. The default answers normally.

    ``status`` other than 200 answers an error body (``error_code``/``error_message`` override
    the usual ones) with ``headers``. ``content_filter=True`` answers Azure's prompt-filter 400.
    ``finish_reason="content_filter"`` streams ``answer`` then stops with that reason.
    ``hang_s`` waits before sending anything (status line included); ``first_token_delay_s``
    sends the headers then waits before the first content chunk; ``chunk_delay_s`` paces the
    chunks (None: the server's pace); ``drop_after_chunks`` closes the connection after that many
    content chunks (stream) or before the body (non-stream). ``malformed`` answers 200 with a
    body that is not what the API promises (a broken JSON chunk or document).
    """

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    error_code: str | None = None
    error_message: str | None = None
    content_filter: bool = False
    answer: str | None = None
    finish_reason: str = "stop"
    hang_s: float = 0.0
    first_token_delay_s: float = 0.0
    chunk_delay_s: float | None = None
    drop_after_chunks: int | None = None
    malformed: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Behaviour:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown behaviour fields: {sorted(unknown)}")
        return cls(**data)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received, as it arrived."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: dict[str, Any]
    received_at: float
    behaviour: Behaviour

    @property
    def deployment(self) -> str | None:
        match = re.match(r"^/openai/deployments/([^/]+)/", self.path)
        return match.group(1) if match else None

    @property
    def messages(self) -> list[dict[str, Any]]:
        value = self.body.get("messages", [])
        return value if isinstance(value, list) else []

    @property
    def prompt_text(self) -> str:
        """Every message's content, joined: handy for 'the model saw the passage' asserts."""
        return "\n".join(str(m.get("content", "")) for m in self.messages)


class _DropConnection(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised inside the app to make uvicorn close the socket mid-response."""


class _DropFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, _DropConnection)


def _quiet_uvicorn() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropFilter) for f in logger.filters):
        logger.addFilter(_DropFilter())


def split_tokens(text: str) -> list[str]:
    """Split an answer into stream chunks: one word plus its trailing whitespace each."""
    return re.findall(r"\s*\S+\s*", text) or [text]


class FakeOpenAIState:
    """The scriptable part, shared by the ASGI app, the Python handle and the admin API."""

    def __init__(self, *, answer: str, tokens_per_s: float | None, api_key: str | None,
                 deployments: set[str] | None, upstream: Upstream | None = None) -> None:
        self.upstream = upstream
        self.tokens_issued = 0
        self.token_requests: list[str] = []
        self.answer = answer
        self.tokens_per_s = tokens_per_s
        self.api_key = api_key
        self.deployments = deployments
        self._lock = threading.Lock()
        self._default = Behaviour()
        self._queue: deque[Behaviour] = deque()
        self._requests: list[RecordedRequest] = []

    def set_default(self, behaviour: Behaviour) -> None:
        with self._lock:
            self._default = behaviour

    def enqueue(self, *behaviours: Behaviour) -> None:
        with self._lock:
            self._queue.extend(behaviours)

    def reset(self) -> None:
        with self._lock:
            self._default = Behaviour()
            self._queue.clear()
            self._requests.clear()
            self.tokens_issued = 0
            self.token_requests.clear()

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def next_behaviour(self) -> Behaviour:
        with self._lock:
            return self._queue.popleft() if self._queue else self._default

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def default(self) -> Behaviour:
        with self._lock:
            return self._default


def _error_body(status: int, code: str | None, message: str | None) -> dict[str, Any]:
    default_code, default_message = _ERROR_CODES.get(status, (str(status), f"HTTP {status}"))
    return {"error": {"code": code or default_code, "message": message or default_message,
                      "type": None, "param": None}}


def _content_filter_body() -> dict[str, Any]:
    safe = {"filtered": False, "severity": "safe"}
    return {"error": {
        "message": "The response was filtered due to the prompt triggering Azure OpenAI's content "
                   "management policy. Please modify your prompt and retry.",
        "type": None, "param": "prompt", "code": "content_filter", "status": 400,
        "innererror": {
            "code": "ResponsibleAIPolicyViolation",
            "content_filter_result": {
                "hate": safe, "self_harm": safe, "sexual": safe,
                "violence": {"filtered": True, "severity": "medium"},
                "jailbreak": {"filtered": False, "detected": False},
            },
        },
    }}


def _count_prompt_tokens(body: dict[str, Any]) -> int:
    messages = body.get("messages", [])
    if not isinstance(messages, list):
        return 0
    return sum(len(str(m.get("content", "")).split()) + 4 for m in messages if isinstance(m, dict))


class FakeOpenAIApp:
    """The ASGI application (raw ASGI: it needs to control bytes and drop sockets)."""

    def __init__(self, state: FakeOpenAIState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    if self.state.upstream is not None:
                        await self.state.upstream.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        method: str = scope["method"]
        raw = await _read_body(receive)
        if path.startswith("/_fake/"):
            query = scope.get("query_string", b"").decode("latin-1")
            await self._admin(method, path, query, raw, send)
            return
        azure = re.fullmatch(r"/openai/deployments/([^/]+)/chat/completions", path)
        upstream = self.state.upstream
        is_chat = azure or path == "/v1/chat/completions" or (
            upstream is not None and path.endswith("/chat/completions"))
        if method != "POST" or not is_chat:
            await _send_json(send, 404, {"error": {"code": "404", "message": "Resource not found"}})
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope.get("query_string", b"").decode("latin-1")
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            body = {}
        behaviour = self.state.next_behaviour()
        self.state.record(RecordedRequest(method, path, query, headers, body, time.time(),
                                          behaviour))
        if behaviour.hang_s > 0:
            await _wait_or_disconnect(receive, behaviour.hang_s)
        if upstream is not None and behaviour.status == 200 and not behaviour.content_filter:
            await forward(upstream, path=path, query=query, headers=headers, body=raw, send=send,
                          first_token_delay_s=behaviour.first_token_delay_s,
                          drop_after_chunks=behaviour.drop_after_chunks, drop=_DropConnection)
            return
        if upstream is None and (problem := self._refuse(headers, query, azure)) is not None:
            await _send_json(send, problem[0], problem[1])
            return
        if behaviour.content_filter:
            await _send_json(send, 400, _content_filter_body(), behaviour.headers)
            return
        if behaviour.status != 200:
            await _send_json(send, behaviour.status,
                             _error_body(behaviour.status, behaviour.error_code,
                                         behaviour.error_message), behaviour.headers)
            return
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            await _send_json(send, 400, _error_body(400, "invalid_request_error",
                                                    "'messages' is a required property"))
            return
        model = azure.group(1) if azure else str(body.get("model", "fake-model"))
        if body.get("stream"):
            await self._stream(send, receive, body, behaviour, model, azure is not None)
        else:
            await self._complete(send, receive, body, behaviour, model)

    def _refuse(self, headers: dict[str, str], query: str,
                azure: re.Match[str] | None) -> tuple[int, dict[str, Any]] | None:
        if azure and "api-version=" not in query:
            return 404, {"error": {"code": "404", "message": "Resource not found"}}
        if azure and self.state.deployments is not None \
                and azure.group(1) not in self.state.deployments:
            return 404, _error_body(404, None, None)
        given = headers.get("api-key") or headers.get("authorization", "").removeprefix("Bearer ")
        if not given or (self.state.api_key is not None and given != self.state.api_key):
            return 401, _error_body(401, None, None)
        return None

    def _pace(self, behaviour: Behaviour) -> float:
        if behaviour.chunk_delay_s is not None:
            return behaviour.chunk_delay_s
        return 1.0 / self.state.tokens_per_s if self.state.tokens_per_s else 0.0

    async def _complete(self, send: Send, receive: Receive, body: dict[str, Any],
                        behaviour: Behaviour, model: str) -> None:
        answer = behaviour.answer if behaviour.answer is not None else self.state.answer
        tokens = split_tokens(answer)
        delay = behaviour.first_token_delay_s + self._pace(behaviour) * len(tokens)
        if delay > 0:
            await _wait_or_disconnect(receive, delay)
        if behaviour.drop_after_chunks is not None:
            raise _DropConnection
        if behaviour.malformed:
            await _send_json(send, 200, {"object": "chat.completion", "choices": "none"})
            return
        prompt_tokens = _count_prompt_tokens(body)
        await _send_json(send, 200, {
            "id": f"chatcmpl-{uuid.uuid4().hex[:20]}", "object": "chat.completion",
            "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "finish_reason": behaviour.finish_reason,
                         "message": {"role": "assistant", "content": answer}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(tokens),
                      "total_tokens": prompt_tokens + len(tokens)},
        }, behaviour.headers)

    async def _stream(self, send: Send, receive: Receive, body: dict[str, Any],
                      behaviour: Behaviour, model: str, azure: bool) -> None:
        answer = behaviour.answer if behaviour.answer is not None else self.state.answer
        tokens = split_tokens(answer)
        pace = self._pace(behaviour)
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:20]}"
        created = int(time.time())
        headers = [(b"content-type", b"text/event-stream; charset=utf-8"),
                   (b"cache-control", b"no-cache")]
        headers += [(k.encode(), v.encode()) for k, v in behaviour.headers.items()]
        await send({"type": "http.response.start", "status": 200, "headers": headers})

        async def event(payload: dict[str, Any] | str) -> None:
            data = payload if isinstance(payload, str) else json.dumps(payload)
            await send({"type": "http.response.body", "body": f"data: {data}\n\n".encode(),
                        "more_body": True})

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                    "model": model, "choices": [{"index": 0, "delta": delta,
                                                 "finish_reason": finish}]}

        if azure:  # Azure sends the prompt's filter results first, with no choices
            await event({"id": "", "object": "", "created": 0, "model": "", "choices": [],
                         "prompt_filter_results": [{"prompt_index": 0,
                                                    "content_filter_results": {}}]})
        await event(chunk({"role": "assistant", "content": ""}))
        if behaviour.malformed:
            await event('{"choices": [{"delta": {"content": "unterminated')
            await event("[DONE]")
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        if behaviour.first_token_delay_s > 0:
            await _wait_or_disconnect(receive, behaviour.first_token_delay_s)
        for index, token in enumerate(tokens):
            if behaviour.drop_after_chunks is not None and index >= behaviour.drop_after_chunks:
                raise _DropConnection
            if index and pace > 0:
                await asyncio.sleep(pace)
            await event(chunk({"content": token}))
        if behaviour.drop_after_chunks is not None and len(tokens) <= behaviour.drop_after_chunks:
            raise _DropConnection
        await event(chunk({}, behaviour.finish_reason))
        options = body.get("stream_options") or {}
        if isinstance(options, dict) and options.get("include_usage"):
            prompt_tokens = _count_prompt_tokens(body)
            await event({"id": completion_id, "object": "chat.completion.chunk",
                         "created": created, "model": model, "choices": [],
                         "usage": {"prompt_tokens": prompt_tokens,
                                   "completion_tokens": len(tokens),
                                   "total_tokens": prompt_tokens + len(tokens)}})
        await event("[DONE]")
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _admin(self, method: str, path: str, query: str, raw: bytes, send: Send) -> None:
        state = self.state
        try:
            if path == "/_fake/health":
                await _send_json(send, 200, {"status": "ok"})
            elif path == "/_fake/msi/token":
                # App Service's managed-identity endpoint (IDENTITY_ENDPOINT/IDENTITY_HEADER)
                state.tokens_issued += 1
                state.token_requests.append(query)
                await _send_json(send, 200, {
                    "access_token": f"fake-entra-token-{state.tokens_issued}",
                    "expires_on": str(int(time.time()) + 3600), "token_type": "Bearer",
                    "resource": "https://cognitiveservices.azure.com"})
            elif path == "/_fake/requests" and method == "GET":
                await _send_json(send, 200, {"requests": [
                    {"method": r.method, "path": r.path, "query": r.query, "headers": r.headers,
                     "body": r.body, "received_at": r.received_at,
                     "behaviour": asdict(r.behaviour)} for r in state.requests]})
            elif path == "/_fake/reset" and method == "POST":
                state.reset()
                await _send_json(send, 200, {"status": "reset"})
            elif path == "/_fake/default" and method == "POST":
                state.set_default(Behaviour.from_json(json.loads(raw or b"{}")))
                await _send_json(send, 200, {"default": asdict(state.default)})
            elif path == "/_fake/enqueue" and method == "POST":
                data = json.loads(raw or b"{}")
                items = data if isinstance(data, list) else [data]
                state.enqueue(*(Behaviour.from_json(item) for item in items))
                await _send_json(send, 200, {"queued": len(items)})
            else:
                await _send_json(send, 404, {"error": {"code": "404", "message": path}})
        except (ValueError, TypeError) as exc:
            await _send_json(send, 400, {"error": {"code": "bad_admin_request",
                                                   "message": str(exc)}})


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _wait_or_disconnect(receive: Receive, seconds: float) -> None:
    """Sleep ``seconds``, returning early when the client hangs up (so hangs end with tests)."""

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(disconnected(), seconds)
    except TimeoutError:
        return
    raise _DropConnection  # the client is gone: nothing left to send


async def _send_json(send: Send, status: int, payload: dict[str, Any],
                     extra_headers: dict[str, str] | None = None) -> None:
    data = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in (extra_headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data, "more_body": False})


class FakeOpenAIServer:
    """A fake region: the app served by uvicorn on 127.0.0.1 in a background thread.

    ``url`` is the Azure OpenAI resource endpoint, ``openai_base_url`` the ``/v1`` base URL.
    With ``upstream`` (an origin, e.g. ``https://aoai-swc.openai.azure.com``) it is a
    fault-injecting proxy: requests whose behaviour is a plain 200 go to the real endpoint.
    ``enqueue`` scripts the next requests (first in, first used); ``set_default`` changes every
    request after the queue runs out; ``requests`` is what was received.
    """

    def __init__(self, *, answer: str = DEFAULT_ANSWER, tokens_per_s: float | None = None,
                 api_key: str | None = None, deployments: set[str] | None = None,
                 port: int = 0, upstream: str | None = None) -> None:
        self.state = FakeOpenAIState(answer=answer, tokens_per_s=tokens_per_s, api_key=api_key,
                                     deployments=deployments,
                                     upstream=Upstream(upstream) if upstream else None)
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FakeOpenAIServer:
        _quiet_uvicorn()
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose
        # proto says TCP, and without it every keep-alive response waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", self._port))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(FakeOpenAIApp(self.state), log_config=None, access_log=False,
                                lifespan="on", timeout_graceful_shutdown=1,
                                timeout_keep_alive=30, log_level="warning")
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                        name=f"fake-openai-{self._port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake OpenAI server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- addresses ---------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    # --- scripting ---------------------------------------------------------------------------
    def enqueue(self, *behaviours: Behaviour) -> None:
        self.state.enqueue(*behaviours)

    def set_default(self, behaviour: Behaviour | None = None, **changes: Any) -> None:
        self.state.set_default(replace(behaviour or Behaviour(), **changes))

    def reset(self, *, answer: str | None = None) -> None:
        self.state.reset()
        if answer is not None:
            self.state.answer = answer

    @property
    def answer(self) -> str:
        return self.state.answer

    @answer.setter
    def answer(self, value: str) -> None:
        self.state.answer = value

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.state.requests

    @property
    def last_request(self) -> RecordedRequest:
        requests = self.state.requests
        if not requests:
            raise LookupError("the fake OpenAI server has received no request")
        return requests[-1]
