"""Authentication and authorisation in front of every route (ASGI middleware).

Each request is classified by path before any route runs, so a new route is protected by
default and unknown paths answer 401 before 404 (no route discovery without credentials):

| path                                          | local (loopback) | token / easyauth          |
| --------------------------------------------- | ---------------- | ------------------------- |
| ``/health/live``, ``/static/*``, docs assets  | open             | open                      |
| ``/health/ready``                             | full details     | open; details to operator |
| ``/metrics``, ``/docs``, ``/openapi.json``... | open             | operator role             |
| everything else (UI, ``/api``, ``/v1``)       | the local user   | signed in (+ required role)|

In ``local`` mode only loopback clients are served, whatever address the server listens on.
The caller is stored in ``scope["state"]["principal"]``; ``web.deps.current_user`` reads it.
Failures are answered here with the usual JSON error; 401s carry ``WWW-Authenticate``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatref.errors import (
    AuthenticationError,
    ChatrefError,
    IdentityProviderError,
    PermissionDeniedError,
)
from chatref.identity.config import IdentityConfig, is_loopback
from chatref.identity.easyauth import principal_from_header
from chatref.identity.principal import LOCAL_PRINCIPAL, Principal
from chatref.identity.tokens import TokenValidator

PUBLIC_PATHS = frozenset({"/health/live", "/favicon.ico"})
PUBLIC_PREFIXES = ("/static/", "/docs-assets/")
OPERATOR_PATHS = frozenset({"/metrics", "/docs", "/docs/oauth2-redirect", "/redoc",
                            "/openapi.json"})
READY_PATH = "/health/ready"
PRINCIPAL_HEADER = "x-ms-client-principal"


def classify(path: str) -> str:
    """``public``, ``ready``, ``operator`` or ``user``.

    >>> classify("/health/live"), classify("/openapi.json"), classify("/api/conversations")
    ('public', 'operator', 'user')
    """
    if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
        return "public"
    if path == READY_PATH:
        return "ready"
    if path in OPERATOR_PATHS:
        return "operator"
    return "user"


def is_operator(principal: Principal | None, config: IdentityConfig) -> bool:
    """Local mode's one user is the operator; elsewhere the operator app role decides."""
    if principal is None:
        return False
    return principal.source == "local" or principal.has_role(config.operator_role)


async def send_error(send: Send, error: ChatrefError, headers: dict[str, str] | None = None,
                     *, status: int | None = None) -> None:
    """Answer with the app's JSON error shape, from outside the routes (``status``: the error
    table's, unless given)."""
    from chatref.web.errors import status_for

    body = json.dumps({"error": {"code": error.code, "message": error.message}}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status or status_for(error),
                "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _challenge(error: AuthenticationError, had_credentials: bool) -> dict[str, str]:
    # RFC 6750: no error code when the request carried no credentials at all.
    if not had_credentials:
        return {"WWW-Authenticate": 'Bearer realm="chatref"'}
    description = error.message.replace('"', "'").replace("\\", "/")
    return {"WWW-Authenticate":
            f'Bearer realm="chatref", error="invalid_token", error_description="{description}"'}


class AuthMiddleware:
    """Authenticate, then authorise by path class (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, config: IdentityConfig,
                 validator: TokenValidator | None = None) -> None:
        if config.mode == "token" and validator is None:
            raise ValueError("token mode needs a TokenValidator")
        self.app = app
        self.config = config
        self.validator = validator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kind = classify(scope["path"])
        if self.config.mode == "local":
            client = scope.get("client")
            if client is None or not is_loopback(str(client[0])):
                await send_error(send, PermissionDeniedError(
                    "this chatref runs in local mode (CHATREF_AUTH_MODE=local) and serves "
                    "loopback clients only"))
                return
            await self._forward(scope, receive, send, LOCAL_PRINCIPAL, kind)
            return
        if kind == "public":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            principal = await self._authenticate(headers)
        except AuthenticationError as exc:
            if kind == "ready":  # anyone may ask whether it is ready, not why
                await self._forward(scope, receive, send, None, kind)
                return
            had = bool(headers.get("authorization") or headers.get(PRINCIPAL_HEADER))
            await send_error(send, exc, _challenge(exc, had))
            return
        except IdentityProviderError as exc:
            await send_error(send, exc, {"Retry-After": "30"})
            return
        if kind == "operator" and not is_operator(principal, self.config):
            await send_error(send, PermissionDeniedError(
                f"this endpoint needs the operator app role {self.config.operator_role}"))
            return
        if kind == "user" and not principal.has_role(self.config.required_role):
            await send_error(send, PermissionDeniedError(
                f"chatref needs the app role {self.config.required_role}; ask its owners for it"))
            return
        await self._forward(scope, receive, send, principal, kind)

    async def _authenticate(self, headers: Headers) -> Principal:
        if self.config.mode == "easyauth":
            return principal_from_header(headers.get(PRINCIPAL_HEADER))
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("sign-in required: send an Entra ID access token as "
                                      "'Authorization: Bearer <token>'")
        assert self.validator is not None  # noqa: S101 - checked in __init__
        return await self.validator.validate(token.strip())

    async def _forward(self, scope: Scope, receive: Receive, send: Send,
                       principal: Principal | None, kind: str) -> None:
        scope.setdefault("state", {})["principal"] = principal
        if kind != "ready" or is_operator(principal, self.config):
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _ready_without_details(send))


def _ready_without_details(send: Send) -> Send:
    """Rewrite a /health/ready answer to say only ready or not (no endpoints, models, errors)."""
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def filtered(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        if message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        status = int(start.get("status", 500))
        try:
            state = json.loads(b"".join(chunks)).get("status")
        except (ValueError, AttributeError):
            state = None
        if state not in ("ready", "not_ready"):
            state = "ready" if status == 200 else "not_ready"
        body = json.dumps({"status": state, "checks": {}}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return filtered
