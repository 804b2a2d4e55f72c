"""A fake Azure AI Search service: a real HTTP server on 127.0.0.1 speaking the 2024-07-01 REST API.

Every request is validated against the official Swagger (search_spec.py, copies in specs/) before
it is served: a request the service would reject gets the service's 400 and is kept in
``rejected`` so tests can assert the client sent none. Served operations:

- ``PUT/GET/DELETE /indexes('NAME')``, ``GET /indexes``: index definitions (schema checks and the
  service's rule that existing fields cannot change; ``@odata.etag``).
- ``POST /indexes('NAME')/docs/search.index``: upload, merge, mergeOrUpload, delete; 200 when
  every action succeeded, else 207 with each key's ``status``/``statusCode``/``errorMessage``;
  at most 1,000 actions and 16 MiB a request (413 beyond, as the service).
- ``POST /indexes('NAME')/docs/search.post.search``: text, vector queries, hybrid fusion,
  semantic ranking, filter, select, top, skip, orderby, count (search_engine.py).
- ``GET /indexes('NAME')/docs/$count``.

Auth: the ``api-key`` header (any non-empty key unless built with ``api_key=``) or a bearer
token. Faults: ``enqueue(Fault(...))`` scripts the next matching requests (429/503 with
Retry-After, 207 with failed keys, a delay). See tests/fakes/README.md.

    with FakeSearchServer(api_key="k") as fake:
        fake.url        # AZURE_SEARCH_ENDPOINT
        fake.enqueue(Fault(status=503), Fault(fail_keys=2, operation="index"))
"""

from __future__ import annotations

import asyncio
import json
import socket
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import uvicorn

from tests.fakes.search_engine import FakeIndex, SearchServiceError
from tests.fakes.search_spec import API_VERSION, SearchSpec
from tests.fakes.tls import LocalCertificate, make_local_certificate

MAX_ACTIONS = 1000
MAX_BODY_BYTES = 16 * 1024 * 1024


@dataclass
class Fault:
    """What the next matching request gets instead of a plain answer.

    ``operation``: None (any), or one of ``put_index``, ``get_index``, ``index`` (document
    batches), ``search``, ``count``. ``status``: an HTTP status sent with an error body (429 and
    503 with ``retry_after_s`` as Retry-After). ``fail_keys``: a 207 in which the first that many
    actions fail with ``fail_status`` (the others are applied). ``delay_s``: wait first.
    """

    status: int | None = None
    retry_after_s: float | None = None
    fail_keys: int = 0
    fail_status: int = 503
    delay_s: float = 0.0
    operation: str | None = None


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    operation: str
    status: int = 0
    service_ms: float = 0.0


@dataclass
class SearchState:
    api_key: str | None = None
    indexes: dict[str, FakeIndex] = field(default_factory=dict)
    faults: deque[Fault] = field(default_factory=deque)
    requests: list[Received] = field(default_factory=list)
    rejected: list[tuple[Received, list[str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_fault(self, operation: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.operation in (None, operation):
                    self.faults.remove(fault)
                    return fault
        return None


def _operation(method: str, path: str) -> str:
    if path.endswith("/docs/search.index"):
        return "index"
    if path.endswith("/docs/search.post.search") or path.endswith("/docs"):
        return "search"
    if path.endswith("/docs/$count"):
        return "count"
    if path.startswith("/indexes(") and path.endswith(")") and "/" not in path[1:]:
        return {"PUT": "put_index", "GET": "get_index", "DELETE": "delete_index"}.get(method,
                                                                                   method)
    return f"{method} {path}"


def _error(status: int, message: str, code: str = "") -> tuple[int, dict[str, Any]]:
    return status, {"error": {"code": code, "message": message}}


class FakeSearchApp:
    """The ASGI app; state shared with the test through ``FakeSearchServer``."""

    def __init__(self, state: SearchState) -> None:
        self.state = state
        self.spec = SearchSpec.load()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        started = time.perf_counter()
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        method, path = scope["method"], scope["path"]
        if path == "/_fake/timings":  # for benchmarks in another process: not part of the API
            with self.state.lock:
                timings = [[r.operation, r.service_ms] for r in self.state.requests]
                self.state.requests.clear()
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": json.dumps(timings).encode()})
            return
        query = dict(parse_qsl(scope["query_string"].decode(), keep_blank_values=True))
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        operation = _operation(method, path)
        extra: dict[str, str] = {}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        status, payload = self._serve(method, path, query, headers, raw, body, operation, extra)
        rejected = extra.pop("_rejected", None)
        fault_delay = extra.pop("_delay", None)
        if fault_delay:
            await asyncio.sleep(float(fault_delay))
        service_ms = (time.perf_counter() - started) * 1000
        record = Received(method, path, query, headers, body, operation, status, service_ms)
        with self.state.lock:
            self.state.requests.append(record)
            if rejected:
                self.state.rejected.append((record, payload["error"]["message"].split("; ")))
        data = b"" if payload is None else json.dumps(payload).encode()
        response_headers = [
            (b"content-type", b"application/json; odata.metadata=minimal; charset=utf-8"),
            (b"request-id", str(uuid.uuid4()).encode()),
            (b"elapsed-time", str(int(service_ms)).encode()),
            (b"odata-version", b"4.0"),
        ]
        response_headers += [(k.encode(), v.encode()) for k, v in extra.items()]
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": data})

    def _serve(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
               raw: bytes, body: Any, operation: str, extra: dict[str, str]
               ) -> tuple[int, Any]:
        key = headers.get("api-key")
        bearer = headers.get("authorization", "").startswith("Bearer ")
        if not key and not bearer:
            return _error(401, "Authentication is required (api-key header or a bearer token).")
        if key and self.state.api_key is not None and key != self.state.api_key:
            return _error(403, "Access denied: the api-key is not valid for this service.")
        if len(raw) > MAX_BODY_BYTES:
            return _error(413, "The request is too large: at most 16 MB.", "RequestTooLarge")
        problems = self.spec.check(method, path, query, headers, body)
        if isinstance(body, str):
            problems.append("the body is not JSON")
        if problems:
            extra["_rejected"] = "1"
            return self._reject(problems)
        fault = self.state.next_fault(operation)
        if fault is not None:
            if fault.delay_s:
                extra["_delay"] = str(fault.delay_s)
            if fault.status is not None:
                if fault.retry_after_s is not None:
                    extra["retry-after"] = str(int(fault.retry_after_s))
                return _error(fault.status, f"injected fault {fault.status}",
                              "ServiceUnavailable" if fault.status == 503 else "Throttled")
        try:
            with self.state.lock:
                return self._dispatch(method, path, query, headers, body, operation, fault)
        except SearchServiceError as exc:
            return _error(exc.status, exc.message, exc.code)

    def _reject(self, problems: list[str]) -> tuple[int, Any]:
        status, payload = _error(400, "; ".join(problems), "InvalidRequest")
        return status, payload

    def _index(self, path: str) -> tuple[str, FakeIndex]:
        name = path.split("('", 1)[1].split("')", 1)[0]
        index = self.state.indexes.get(name)
        if index is None:
            raise SearchServiceError(404, f"No index with the name '{name}' was found in the "
                                          "service 'fake'.", "ResourceNotFound")
        return name, index

    def _dispatch(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
                  body: Any, operation: str, fault: Fault | None) -> tuple[int, Any]:
        if operation == "put_index":
            name = path.split("('", 1)[1].split("')", 1)[0]
            if body.get("name") != name:
                raise SearchServiceError(400, "The index name in the body does not match the "
                                              "URL.")
            definition = {k: v for k, v in body.items() if not k.startswith("@odata")}
            existing = self.state.indexes.get(name)
            if existing is None:
                self.state.indexes[name] = FakeIndex.create(definition)
                status = 201
            else:
                existing.update(definition)
                status = 200
            if headers.get("prefer") == "return=minimal":
                return 204, None
            return status, self._definition(name)
        if operation == "get_index":
            self._index(path)
            return 200, self._definition(path.split("('", 1)[1].split("')", 1)[0])
        if operation == "delete_index":
            name = path.split("('", 1)[1].split("')", 1)[0]
            if self.state.indexes.pop(name, None) is None:
                return 404, None
            return 204, None
        if method == "GET" and path == "/indexes":
            return 200, {"value": [self._definition(n) for n in self.state.indexes]}
        if operation == "count":
            return 200, len(self._index(path)[1].docs)
        if operation == "search":
            _name, index = self._index(path)
            return 200, index.search(body)
        if operation == "index":
            return self._batch(path, body, fault)
        return _error(501, f"{method} {path} is valid but not implemented by the fake")

    def _definition(self, name: str) -> dict[str, Any]:
        index = self.state.indexes[name]
        return {"@odata.context": "http://fake/$metadata#indexes/$entity",
                "@odata.etag": f'"0x{index.etag:X}"', **index.definition}

    def _batch(self, path: str, body: Any, fault: Fault | None) -> tuple[int, Any]:
        _name, index = self._index(path)
        actions = body["value"]
        if not actions:
            raise SearchServiceError(400, "The request is invalid. Details: actions : No indexing "
                                          "actions found in the request.")
        if len(actions) > MAX_ACTIONS:
            raise SearchServiceError(413, f"The request contains {len(actions)} actions; at most "
                                          f"{MAX_ACTIONS} are allowed in one batch.")
        for action in actions:
            index.check_document(action)
        failing = fault.fail_keys if fault is not None else 0
        results = []
        for position, action in enumerate(actions):
            if position < failing:
                key = str(action.get(index.key_field))
                results.append({"key": key, "status": False, "statusCode": fault.fail_status,
                                "errorMessage": "injected failure"} if fault else {})
                continue
            key, status, message = index.apply(action)
            results.append({"key": key, "status": status < 300, "statusCode": status,
                            "errorMessage": message})
        all_ok = all(r["status"] for r in results)
        return (200 if all_ok else 207), {"value": results}


class FakeSearchServer:
    """The fake service served by uvicorn on 127.0.0.1 (a free port) in a background thread."""

    def __init__(self, *, api_key: str | None = None, port: int = 0,
                 certificate: LocalCertificate | None = None) -> None:
        self.state = SearchState(api_key=api_key)
        self._port = port
        if certificate is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="fake-search-tls-")
            certificate = make_local_certificate(Path(self._tmp.name))
        self.certificate = certificate
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FakeSearchServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", self._port))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(FakeSearchApp(self.state), log_config=None, access_log=False,
                                lifespan="on", timeout_graceful_shutdown=1, log_level="warning",
                                ssl_certfile=str(self.certificate.cert_file),
                                ssl_keyfile=str(self.certificate.key_file))
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                        name=f"fake-search-{self._port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake Azure AI Search server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeSearchServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        self.close()

    def close(self) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            tmp.cleanup()
            self._tmp = None

    @property
    def url(self) -> str:
        """The endpoint (HTTPS: the SDK refuses plain HTTP); trust ``ca_file``."""
        return f"https://127.0.0.1:{self._port}"

    @property
    def ca_file(self) -> str:
        return str(self.certificate.cert_file)

    def enqueue(self, *faults: Fault) -> None:
        with self.state.lock:
            self.state.faults.extend(faults)

    def reset_faults(self) -> None:
        with self.state.lock:
            self.state.faults.clear()

    def reset(self) -> None:
        with self.state.lock:
            self.state.indexes.clear()
            self.state.faults.clear()
            self.state.requests.clear()
            self.state.rejected.clear()

    @property
    def requests(self) -> list[Received]:
        with self.state.lock:
            return list(self.state.requests)

    @property
    def rejected(self) -> list[tuple[Received, list[str]]]:
        with self.state.lock:
            return list(self.state.rejected)

    def documents(self, index: str) -> dict[str, dict[str, Any]]:
        with self.state.lock:
            return {k: dict(v) for k, v in self.state.indexes[index].docs.items()}


FAKE_SEARCH_KEY = "fake-search-key-for-tests"


@pytest.fixture(scope="session")
def fake_search_server() -> Iterator[FakeSearchServer]:
    with FakeSearchServer(api_key=FAKE_SEARCH_KEY) as server:
        yield server
        server.close()


@pytest.fixture
def fake_search(fake_search_server: FakeSearchServer) -> Iterator[FakeSearchServer]:
    """The session's fake, emptied before the test; the test fails if the client sent a request
    the service would have rejected."""
    fake_search_server.reset()
    yield fake_search_server
    rejected = fake_search_server.rejected
    fake_search_server.reset()
    assert not rejected, f"requests the service would reject: {rejected}"


def main(argv: list[str] | None = None) -> None:
    """Serve a fake until SIGTERM/Ctrl-C: prints ``URL CA_FILE`` on one line."""
    import argparse
    import signal

    parser = argparse.ArgumentParser(description="The fake Azure AI Search on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--api-key", default=FAKE_SEARCH_KEY)
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with FakeSearchServer(api_key=args.api_key, port=args.port) as server:
        print(server.url, server.ca_file, flush=True)
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()


__all__ = ["API_VERSION", "FAKE_SEARCH_KEY", "Fault", "FakeSearchServer", "fake_search",
           "fake_search_server"]
