"""A cap on request body size, checked before anything parses the body.

Pydantic would otherwise read and parse a body of any size before the message limits
(CHATREF_MAX_MESSAGES x CHATREF_MAX_MESSAGE_CHARS) could refuse it. The cap is what the largest
valid request could need (four bytes per character, plus room for the JSON around it). An
oversized body gets a 413 with the usual error shape, whether it declares its length or not.
"""

from __future__ import annotations

import json

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatref.settings import Settings

JSON_OVERHEAD_BYTES = 64 * 1024


def max_body_bytes(settings: Settings) -> int:
    per_message = settings.chatref_max_message_chars * 4 + 64
    return settings.chatref_max_messages * per_message + JSON_OVERHEAD_BYTES


def _too_large_message(limit_bytes: int) -> str:
    return (f"the request body is larger than {limit_bytes} bytes, more than the message limits "
            "(CHATREF_MAX_MESSAGES, CHATREF_MAX_MESSAGE_CHARS) allow")


class BodySizeLimit:
    """ASGI middleware: refuse request bodies over ``limit_bytes`` with a 413."""

    def __init__(self, app: ASGIApp, *, limit_bytes: int) -> None:
        self.app = app
        self.limit_bytes = limit_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit_bytes:
                await self._refuse(send)
                return
        received = 0

        async def limited_receive() -> Message:
            # A body without a Content-Length (chunked) is counted as it arrives; the
            # HTTPException reaches the app's one error handler like any other.
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit_bytes:
                    raise HTTPException(413, _too_large_message(self.limit_bytes))
            return message

        await self.app(scope, limited_receive, send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"error": {"code": "request_too_large",
                                     "message": _too_large_message(self.limit_bytes)}}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
