"""A stand-in for App Service Authentication ("Easy Auth") in front of a chatref server.

A reverse proxy on 127.0.0.1 (uvicorn, a free port) that behaves as the app_service module
configures the platform: it drops any ``X-MS-CLIENT-PRINCIPAL*`` header a client sends, knows
callers by a bearer token (``tokens``: token -> oid, standing in for Entra ID tokens that Easy
Auth validates) or by its session cookie, and then sends the principal to the app; the UI
without a session is redirected to ``/.auth/login/aad``; ``/api``, ``/v1`` and ``/health/live``
go to the app unauthenticated (the app answers 401 itself). Example::

    with EasyAuthFront(app_url, tokens={"t1": "oid-alice"}) as front:
        httpx.get(f"{front.url}/api/conversations", headers={"Authorization": "Bearer t1"})
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from chatref.identity.easyauth import encode_principal

SESSION_COOKIE = "AppServiceAuthSession"
PASS_THROUGH = ("/api/", "/v1/", "/health/live", "/.auth/")


class EasyAuthFront:
    def __init__(self, app_url: str, *, tokens: dict[str, str] | None = None,
                 roles: dict[str, tuple[str, ...]] | None = None) -> None:
        self.app_url = app_url
        self.tokens = dict(tokens or {})
        self.roles = dict(roles or {})
        self.sessions: dict[str, str] = {}
        self._http: httpx.AsyncClient | None = None

        @asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            async with httpx.AsyncClient(base_url=app_url, timeout=60) as http:
                self._http = http
                yield

        app = Starlette(lifespan=lifespan, routes=[Route("/{path:path}", self._handle, methods=[
            "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])])
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False,
                                                     log_level="warning"))
        self._sock = sock
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the Easy Auth front did not start")
            time.sleep(0.01)

    def _user(self, request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token in self.tokens:
            return self.tokens[token]
        return self.sessions.get(request.cookies.get(SESSION_COOKIE, ""))

    async def _handle(self, request: Request) -> Response:
        path = request.url.path
        if path == "/.auth/login/aad":  # the test signs in as ?user=<oid>
            session = f"s-{len(self.sessions) + 1}"
            self.sessions[session] = request.query_params.get("user", "")
            response = RedirectResponse("/", status_code=302)
            response.set_cookie(SESSION_COOKIE, session, httponly=True)
            return response
        user = self._user(request)
        if user is None and not path.startswith(PASS_THROUGH):
            return RedirectResponse(f"/.auth/login/aad?post_login_redirect_uri={path}", 302)
        headers = [(k, v) for k, v in request.headers.items()
                   if not k.lower().startswith("x-ms-client-principal")
                   and k.lower() not in ("host", "authorization", "content-length")]
        if user is not None:
            headers.append(("x-ms-client-principal",
                            encode_principal(user, roles=self.roles.get(user, ()))))
        assert self._http is not None
        upstream = await self._http.send(self._http.build_request(
            request.method, path, params=request.query_params, headers=headers,
            content=await request.body()), stream=True)
        drop = {"content-length", "transfer-encoding", "connection"}
        return StreamingResponse(
            upstream.aiter_raw(), status_code=upstream.status_code,
            headers={k: v for k, v in upstream.headers.items() if k.lower() not in drop},
            background=BackgroundTask(upstream.aclose))

    def close(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> EasyAuthFront:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
