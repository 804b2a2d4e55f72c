"""The OpenAPI document says what the app really answers (schemathesis checks it in make test).

FastAPI documents 422 for request validation, but chatref's one error handler answers 400 with
``{"error": {...}}``; and the middlewares answer for every route: 400 (Host not allowed), 401
and 403 (authentication, roles, loopback-only local mode, cross-site writes), 413 (body too
large), 429 (per-user limits, chat routes) and 503 (the identity provider is unreachable).
``install_openapi`` rewrites the generated document once, so each operation lists them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from chatref.web.auth import classify
from chatref.web.ratelimit import CHAT_ROUTES

ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}}}},
}
WRITE_METHODS = {"post", "put", "patch", "delete"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace 422 by 400 and add the middlewares' answers to every operation."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("ErrorResponse", ERROR_SCHEMA)
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path, operations in schema.get("paths", {}).items():
        kind = classify(path)
        for method, operation in operations.items():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            responses.pop("422", None)
            extra = {"400": "Bad input (named in the message), or a Host not allowed."}
            if kind != "public":
                extra["401"] = "Not signed in, or the token is not valid (WWW-Authenticate)."
                extra["403"] = ("Signed in without the app role; a non-loopback client in "
                                "local mode; or a cross-site write.")
                extra["503"] = "The identity provider's signing keys cannot be fetched."
            if method in WRITE_METHODS:
                extra["403"] = extra.get("403", "A cross-site write (Origin / Sec-Fetch-Site).")
                extra["413"] = "The request body is larger than the message limits allow."
            if method == "post" and path in CHAT_ROUTES:
                extra["429"] = ("A per-user limit (named in the message); Retry-After says "
                                "when to try again.")
            for status, description in extra.items():
                responses.setdefault(status, _error(description))
    return schema


def install_openapi(app: FastAPI) -> None:
    """Serve the rewritten document at /openapi.json (built once, on first request)."""
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(get_openapi(
                title=app.title, version=app.version, summary=app.summary,
                description=app.description, routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
