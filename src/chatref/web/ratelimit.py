"""Per-user limits in front of the chat routes (ASGI middleware, inside authentication).

``POST /api/chat`` and ``POST /v1/chat/completions`` hold one of the caller's stream slots from
the request until the last byte of the answer, count one chat turn, and (``/api/chat`` without
``conversation_id``) one new conversation. Over a limit: 429 with ``Retry-After`` and the JSON
error naming the limit (``chat_turns``, ``conversations``, ``concurrent_streams``,
``daily_token_quota``). Local mode (one trusted loopback user) has no limits.
"""

from __future__ import annotations

import asyncio
import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatref.chat.turn import TurnObserver, TurnRecord
from chatref.errors import ChatrefError, RateLimitedError
from chatref.identity.principal import Principal
from chatref.quota import UsageLimits
from chatref.web.auth import send_error

CHAT_ROUTES = frozenset({"/api/chat", "/v1/chat/completions"})


class ChatLimitMiddleware:
    """See the module docstring."""

    def __init__(self, app: ASGIApp, *, usage: UsageLimits) -> None:
        self.app = app
        self.usage = usage

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal: Principal | None = scope.get("state", {}).get("principal")
        if (scope["type"] != "http" or scope["method"] != "POST"
                or scope["path"] not in CHAT_ROUTES or principal is None):
            await self.app(scope, receive, send)
            return
        try:
            messages = await _read_body(receive)
        except HTTPException as exc:  # the body-size cap, outside the app's error handler
            await send_error(send, _Status(exc.status_code, str(exc.detail)),
                             status=exc.status_code)
            return
        new_conversation = scope["path"] == "/api/chat" and not _has_conversation(messages)
        try:
            async with self.usage.stream(principal.user_id):
                await self.usage.admit(principal.user_id, new_conversation=new_conversation)
                await self.app(scope, _replay(messages, receive), send)
        except RateLimitedError as exc:
            await send_error(send, exc, {"Retry-After": str(exc.retry_after_s)})


class _Status(ChatrefError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.code = "request_too_large" if status == 413 else "invalid_request"


async def _read_body(receive: Receive) -> list[Message]:
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _has_conversation(messages: list[Message]) -> bool:
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
    try:
        document = json.loads(body)
    except ValueError:
        return False  # the route answers 400 for it
    return isinstance(document, dict) and bool(document.get("conversation_id"))


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()  # after the body: the disconnect, when the client hangs up

    return replayed


class TokenCharger:
    """A chat-turn observer that charges each turn's tokens to its user's daily budget.

    Observers are called synchronously at the end of a turn; the charge is an async call (a
    shared backend would be a network call), so it runs as a task, held until it is done.
    """

    def __init__(self, usage: UsageLimits) -> None:
        self.usage = usage
        self._tasks: set[asyncio.Task[None]] = set()

    def observe(self, record: TurnRecord) -> None:
        task = asyncio.get_running_loop().create_task(
            self.usage.record_tokens(record.user_id, record.usage.total_tokens))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def chain(*observers: TurnObserver) -> TurnObserver:
    """One observer that calls each of ``observers`` in turn."""
    def observe(record: TurnRecord) -> None:
        for observer in observers:
            observer(record)
    return observe
