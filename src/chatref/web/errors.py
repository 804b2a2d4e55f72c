"""The one HTTP error translator: every error becomes ``{"error": {"code", "message"}}``.

``HTTP_STATUS`` is the one table from ``chatref.errors`` to HTTP statuses (the errors themselves
know nothing of HTTP); a class not in it takes its nearest ancestor's status.
Request validation failures (malformed JSON, a missing field, a wrong type) become 400 with the
failing field named. Anything unexpected is logged and answered 500 without internals.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from chatref.errors import (
    AuthenticationError,
    ChatrefError,
    ConfigurationError,
    ConflictError,
    ContentFilteredError,
    IdentityProviderError,
    IndexError_,
    InputError,
    ModelError,
    ModelUnavailableError,
    NotFoundError,
    NotReadyError,
    PermissionDeniedError,
    RateLimitedError,
    SourceError,
    StoreError,
)

log = logging.getLogger(__name__)

HTTP_STATUS: dict[type[ChatrefError], int] = {
    ChatrefError: 500,
    ConfigurationError: 500,
    NotReadyError: 503,
    InputError: 400,
    NotFoundError: 404,
    ConflictError: 409,
    AuthenticationError: 401,
    PermissionDeniedError: 403,
    RateLimitedError: 429,
    IdentityProviderError: 503,
    IndexError_: 503,
    StoreError: 503,
    SourceError: 502,
    ModelError: 502,
    ContentFilteredError: 400,
    ModelUnavailableError: 503,
}


def status_for(error: ChatrefError) -> int:
    """The HTTP status of ``error``: its class's entry in ``HTTP_STATUS``, else its nearest
    ancestor's."""
    for cls in type(error).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _location(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    text = ""
    for part in parts:
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text or "request body"


def describe_validation_error(exc: RequestValidationError) -> str:
    problems = []
    for error in exc.errors()[:5]:
        if error.get("type") == "json_invalid":
            problems.append(f"the body is not valid JSON ({error.get('ctx', {}).get('error')})")
            continue
        problems.append(f"{_location(tuple(error.get('loc', ())))}: {error.get('msg')}")
    return "; ".join(problems) or "the request is not valid"


def _allowed_methods(request: Request) -> list[str]:
    """Every method the routes at this path answer (Starlette's own 405 names only the first
    matching route's, and /api/conversations/{id} is three routes)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match != Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ChatrefError)
    async def chatref_error(request: Request, exc: ChatrefError) -> JSONResponse:
        status = status_for(exc)
        if status >= 500:
            log.warning("%s %s failed: %s", request.method, request.url.path, exc.message)
        return error_response(status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, "invalid_request", describe_validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}.get(
            exc.status_code, "http_error")
        message = str(exc.detail)
        if exc.status_code == 404:
            message = f"no such endpoint: {request.method} {request.url.path}"
        response = error_response(exc.status_code, code, message)
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:  # RFC 9110: Allow lists every method of the resource
            response.headers["Allow"] = ", ".join(_allowed_methods(request))
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed unexpectedly", request.method, request.url.path)
        return error_response(500, "internal_error", "chatref failed unexpectedly; see its log")
