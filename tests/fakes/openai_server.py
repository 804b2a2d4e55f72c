"""The Azure OpenAI double: a real HTTP server on 127.0.0.1 speaking the wire protocol, with faults.

It speaks the real wire protocol — the Azure v1 API (``/openai/v1/``), Azure deployment paths
with a dated ``api-version``, OpenAI's ``/v1`` paths, JSON and SSE streaming, usage chunks
(reasoning tokens included), OpenAI/Azure error bodies (content filter included) — and refuses
what the service refuses: bodies the v1 API's OpenAPI document rejects (tests/fakes/openai_spec.py),
unknown api-versions and routes, and, when its deployments are reasoning models
(``model_family="reasoning"``), ``max_tokens`` and a non-default ``temperature``
(chatref.ops.fakerules). A reasoning deployment spends ``reasoning_tokens`` of the token limit
before its answer, as the real one does. It can be told,
per request or from now on, to fail in the ways real regions fail: a status code with its
``Retry-After`` / ``retry-after-ms`` / ``x-ratelimit-reset-*`` headers, a hang before the first
byte, a slow first token, a connection dropped after N chunks, a malformed body. It records every
request it received so a test can assert the prompt the model saw. It is built on the pieces of
``chatref.ops.fakeregion`` (the product keeps only what ``chatref drill failover`` needs). See
tests/fakes/README.md. In a conftest.py::

    from tests.fakes.openai_server import fake_openai, fake_openai_server  # noqa: F401

    with FakeOpenAIServer(answer="Hello there.") as fake:
        fake.enqueue(Behaviour(status=429, headers={"retry-after": "20"}))
        ...  # point a client at fake.url (Azure) or fake.openai_base_url (/v1)
        assert fake.requests[-1].body["messages"][0]["role"] == "system"

Admin HTTP API (for a fake running in another process): ``GET /_fake/requests``,
``POST /_fake/default`` (a Behaviour as JSON), ``POST /_fake/enqueue`` (a Behaviour or a list),
``POST /_fake/reset``, ``GET /_fake/health``. ``GET /_fake/msi/token`` plays App Service's
managed-identity endpoint: point ``IDENTITY_ENDPOINT`` at it (with any ``IDENTITY_HEADER``) and
``DefaultAzureCredential`` gets tokens ``fake-entra-token-1``, ``-2``, ... from it.

Standalone (benchmarks, manual runs)::

    python -m tests.fakes.openai_server --port 8011 --tokens-per-s 50
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import pytest

from chatref.ops.fakeregion import (
    DropConnection,
    LoopbackServer,
    Receive,
    Scope,
    Send,
    StreamScript,
    count_prompt_tokens,
    lifespan,
    read_body,
    send_json,
    split_tokens,
    stream_completion,
    usage_of,
    wait_or_disconnect,
)
from chatref.ops.fakerules import (
    NOT_FOUND,
    ChatRoute,
    api_version_refusal,
    body_refusal,
    route_of,
)
from tests.fakes.openai_spec import ChatCompletionsSpec

__all__ = [
    "DEFAULT_ANSWER",
    "Behaviour",
    "FakeOpenAIServer",
    "RecordedRequest",
    "fake_openai",
    "fake_openai_server",
    "fake_regions",
    "split_tokens",
]

DEFAULT_ANSWER = "This is the fake model's answer [1]."
FAKE_API_KEY = "fake-key-for-tests"
DEFAULT_REASONING_TOKENS = 64  # what a reasoning deployment thinks per answer, by default

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
    ``reasoning_tokens`` is what a reasoning deployment thinks before answering (None: the
    server's default); they count against ``max_completion_tokens``, and when they use it all
    the answer is empty with finish reason ``length``, as on the real service.
    ``answers_by_system`` answers a request whose system message starts with one of its keys
    with that key's answer instead of ``answer`` (the load test gives chatref's follow-up
    rewrite, whose instructions it imports, a one-line question instead of a whole answer).
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
    reasoning_tokens: int | None = None
    answers_by_system: dict[str, str] = field(default_factory=dict)

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
        """The deployment named: in the path (dated api-version) or as ``model`` (v1 API)."""
        match = re.match(r"^/openai/deployments/([^/]+)/", self.path)
        if match:
            return match.group(1)
        if self.path.startswith("/openai/v1/"):
            return str(self.body.get("model")) if self.body.get("model") else None
        return None

    @property
    def messages(self) -> list[dict[str, Any]]:
        value = self.body.get("messages", [])
        return value if isinstance(value, list) else []

    @property
    def prompt_text(self) -> str:
        """Every message's content, joined: handy for 'the model saw the passage' asserts."""
        return "\n".join(str(m.get("content", "")) for m in self.messages)


class FakeOpenAIState:
    """The scriptable part, shared by the ASGI app, the Python handle and the admin API."""

    def __init__(self, *, answer: str, tokens_per_s: float | None, api_key: str | None,
                 deployments: set[str] | None, model_family: str = "chat") -> None:
        self.model_family = model_family
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


def _openai_error(status: int, code: str | None, message: str | None) -> dict[str, Any]:
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


class FakeOpenAIApp:
    """The ASGI application (raw ASGI: it needs to control bytes and drop sockets)."""

    def __init__(self, state: FakeOpenAIState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        method: str = scope["method"]
        raw = await read_body(receive)
        if path.startswith("/_fake/"):
            query = scope.get("query_string", b"").decode("latin-1")
            await self._admin(method, path, query, raw, send)
            return
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            body = {}
        body = body if isinstance(body, dict) else {}
        route = route_of(method, path, body)
        if route is None:
            await send_json(send, *NOT_FOUND)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope.get("query_string", b"").decode("latin-1")
        behaviour = self.state.next_behaviour()
        self.state.record(RecordedRequest(method, path, query, headers, body, time.time(),
                                          behaviour))
        if behaviour.hang_s > 0:
            await wait_or_disconnect(receive, behaviour.hang_s)
        if (problem := self._refuse(headers, query, route)) is not None:
            await send_json(send, *problem)
            return
        if behaviour.content_filter:
            await send_json(send, 400, _content_filter_body(), behaviour.headers)
            return
        if behaviour.status != 200:
            await send_json(send, behaviour.status,
                             _openai_error(behaviour.status, behaviour.error_code,
                                         behaviour.error_message), behaviour.headers)
            return
        if (problem := self._invalid_body(body, route)) is not None:
            await send_json(send, *problem)
            return
        if body.get("stream"):
            await self._stream(send, receive, body, behaviour, route)
        else:
            await self._complete(send, receive, body, behaviour, route.deployment)

    def _refuse(self, headers: dict[str, str], query: str,
                route: ChatRoute) -> tuple[int, dict[str, Any]] | None:
        """The route's checks, in the service's order: api-version, deployment, key."""
        if (problem := api_version_refusal(route, query, self.state.model_family)) is not None:
            return problem
        if route.api != "openai" and self.state.deployments is not None \
                and route.deployment not in self.state.deployments:
            return 404, _openai_error(404, None, None)
        given = headers.get("api-key") or headers.get("authorization", "").removeprefix("Bearer ")
        if not given or (self.state.api_key is not None and given != self.state.api_key):
            return 401, _openai_error(401, None, None)
        return None

    def _invalid_body(self, body: dict[str, Any],
                      route: ChatRoute) -> tuple[int, dict[str, Any]] | None:
        """The body against the v1 API's schema (Azure routes), then the model family's rules."""
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            return 400, _openai_error(400, "invalid_request_error",
                                      "'messages' is a required property")
        if route.api != "openai":
            errors = ChatCompletionsSpec.load().body_errors(
                body, deployment_in_path=route.api == "deployments")
            if errors:
                unknown = ChatCompletionsSpec.unknown_argument(body, errors[0])
                message = (f"Unrecognized request argument supplied: {unknown}" if unknown
                           else f"Invalid request: {errors[0]}")
                return 400, {"error": {"message": message, "type": "invalid_request_error",
                                       "param": unknown, "code": None}}
        return body_refusal(body, self.state.model_family)

    def _pace(self, behaviour: Behaviour) -> float:
        if behaviour.chunk_delay_s is not None:
            return behaviour.chunk_delay_s
        return 1.0 / self.state.tokens_per_s if self.state.tokens_per_s else 0.0

    def _answer(self, body: dict[str, Any], behaviour: Behaviour) -> tuple[list[str], str, int]:
        """The answer's chunks, finish reason and reasoning tokens, within the token limit."""
        answer = behaviour.answer if behaviour.answer is not None else self.state.answer
        system = next((str(m.get("content")) for m in body.get("messages") or []
                       if isinstance(m, dict) and m.get("role") in ("system", "developer")), "")
        answer = next((scripted for prefix, scripted in behaviour.answers_by_system.items()
                       if system.startswith(prefix)), answer)
        tokens = [t for t in split_tokens(answer) if t]
        reasoning = behaviour.reasoning_tokens
        if reasoning is None:
            reasoning = DEFAULT_REASONING_TOKENS if self.state.model_family == "reasoning" else 0
        finish = behaviour.finish_reason
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        if isinstance(limit, int) and reasoning + len(tokens) > limit:
            reasoning = min(reasoning, limit)
            tokens, finish = tokens[:limit - reasoning], "length"
        return tokens, finish, reasoning

    async def _complete(self, send: Send, receive: Receive, body: dict[str, Any],
                        behaviour: Behaviour, model: str) -> None:
        tokens, finish, reasoning = self._answer(body, behaviour)
        answer = "".join(tokens)
        delay = behaviour.first_token_delay_s + self._pace(behaviour) * len(tokens)
        if delay > 0:
            await wait_or_disconnect(receive, delay)
        if behaviour.drop_after_chunks is not None:
            raise DropConnection
        if behaviour.malformed:
            await send_json(send, 200, {"object": "chat.completion", "choices": "none"})
            return
        prompt_tokens = count_prompt_tokens(body)
        await send_json(send, 200, {
            "id": f"chatcmpl-{uuid.uuid4().hex[:20]}", "object": "chat.completion",
            "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "finish_reason": finish,
                         "message": {"role": "assistant", "content": answer}}],
            "usage": usage_of(prompt_tokens, len(tokens), reasoning),
        }, behaviour.headers)

    async def _stream(self, send: Send, receive: Receive, body: dict[str, Any],
                      behaviour: Behaviour, route: ChatRoute) -> None:
        tokens, finish, reasoning = self._answer(body, behaviour)
        options = body.get("stream_options") or {}
        await stream_completion(send, receive, StreamScript(
            tokens=tokens, model=route.deployment, azure=route.api != "openai",
            prompt_tokens=count_prompt_tokens(body),
            include_usage=isinstance(options, dict) and bool(options.get("include_usage")),
            finish_reason=finish,
            first_token_delay_s=behaviour.first_token_delay_s, pace_s=self._pace(behaviour),
            drop_after_chunks=behaviour.drop_after_chunks, malformed=behaviour.malformed,
            headers=behaviour.headers, reasoning_tokens=reasoning))

    async def _admin(self, method: str, path: str, query: str, raw: bytes, send: Send) -> None:
        state = self.state
        try:
            if path == "/_fake/health":
                await send_json(send, 200, {"status": "ok"})
            elif path == "/_fake/msi/token":
                # App Service's managed-identity endpoint (IDENTITY_ENDPOINT/IDENTITY_HEADER)
                state.tokens_issued += 1
                state.token_requests.append(query)
                await send_json(send, 200, {
                    "access_token": f"fake-entra-token-{state.tokens_issued}",
                    "expires_on": str(int(time.time()) + 3600), "token_type": "Bearer",
                    "resource": "https://cognitiveservices.azure.com"})
            elif path == "/_fake/requests" and method == "GET":
                await send_json(send, 200, {"requests": [
                    {"method": r.method, "path": r.path, "query": r.query, "headers": r.headers,
                     "body": r.body, "received_at": r.received_at,
                     "behaviour": asdict(r.behaviour)} for r in state.requests]})
            elif path == "/_fake/reset" and method == "POST":
                state.reset()
                await send_json(send, 200, {"status": "reset"})
            elif path == "/_fake/default" and method == "POST":
                state.set_default(Behaviour.from_json(json.loads(raw or b"{}")))
                await send_json(send, 200, {"default": asdict(state.default)})
            elif path == "/_fake/enqueue" and method == "POST":
                data = json.loads(raw or b"{}")
                items = data if isinstance(data, list) else [data]
                state.enqueue(*(Behaviour.from_json(item) for item in items))
                await send_json(send, 200, {"queued": len(items)})
            else:
                await send_json(send, 404, {"error": {"code": "404", "message": path}})
        except (ValueError, TypeError) as exc:
            await send_json(send, 400, {"error": {"code": "bad_admin_request",
                                                   "message": str(exc)}})


class FakeOpenAIServer(LoopbackServer):
    """The fake served by uvicorn on 127.0.0.1 in a background thread.

    ``url`` is the Azure OpenAI resource endpoint, ``openai_base_url`` the ``/v1`` base URL.
    ``enqueue`` scripts the next requests (first in, first used); ``set_default`` changes every
    request after the queue runs out; ``requests`` is what was received.
    """

    def __init__(self, *, answer: str = DEFAULT_ANSWER, tokens_per_s: float | None = None,
                 api_key: str | None = None, deployments: set[str] | None = None,
                 model_family: str = "chat", port: int = 0) -> None:
        self.state = FakeOpenAIState(answer=answer, tokens_per_s=tokens_per_s, api_key=api_key,
                                     deployments=deployments, model_family=model_family)
        super().__init__(FakeOpenAIApp(self.state), port=port, name="fake-openai")

    def start(self) -> FakeOpenAIServer:
        super().start()
        return self

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- addresses ---------------------------------------------------------------------------
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


@pytest.fixture(scope="session")
def fake_openai_server() -> Iterator[FakeOpenAIServer]:
    """One fake server for the whole session (starting uvicorn costs ~50 ms)."""
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def fake_openai(fake_openai_server: FakeOpenAIServer) -> Iterator[FakeOpenAIServer]:
    """The session's fake, reset before and after each test: default answer, empty queue and log."""
    fake_openai_server.reset(answer=DEFAULT_ANSWER)
    fake_openai_server.state.tokens_per_s = None
    fake_openai_server.state.api_key = None
    fake_openai_server.state.deployments = None
    fake_openai_server.state.model_family = "chat"
    yield fake_openai_server
    fake_openai_server.reset(answer=DEFAULT_ANSWER)


@pytest.fixture
def fake_regions() -> Iterator[Callable[..., FakeOpenAIServer]]:
    """A factory of extra fake servers (one per simulated region), stopped after the test."""
    started: list[FakeOpenAIServer] = []

    def start(**kwargs: Any) -> FakeOpenAIServer:
        server = FakeOpenAIServer(**kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the fake Azure OpenAI server on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    parser.add_argument("--answer", default=DEFAULT_ANSWER)
    parser.add_argument("--tokens-per-s", type=float, default=None)
    parser.add_argument("--api-key", default=None, help="require this key (default: any)")
    parser.add_argument("--model-family", choices=("chat", "reasoning"), default="chat",
                        help="play a chat model (gpt-4.1) or a reasoning model (gpt-5.x)")
    args = parser.parse_args(argv)
    server = FakeOpenAIServer(answer=args.answer, tokens_per_s=args.tokens_per_s,
                              api_key=args.api_key, model_family=args.model_family,
                              port=args.port).start()
    print(f"fake OpenAI listening on {server.url} (Azure) and {server.openai_base_url}",
          flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    server.stop()


if __name__ == "__main__":
    main()
