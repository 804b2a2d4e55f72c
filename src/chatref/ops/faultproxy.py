"""Forwarding for the fault-injecting proxy: real traffic to a real endpoint, faults on the way.

``FakeOpenAIServer(upstream="https://aoai-swc.openai.azure.com")`` serves the same scripted
faults as the fake, but a request whose behaviour is a plain 200 is forwarded to ``upstream``
(same path, query and auth headers) and its answer relayed — with ``first_token_delay_s``
before the first content event and ``drop_after_chunks`` applied to the real stream. The
failover drill puts one in front of each configured endpoint.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_HOP_BY_HOP = {"host", "content-length", "connection", "keep-alive", "transfer-encoding",
               "accept-encoding", "te", "upgrade", "proxy-authorization"}
_RESPONSE_SKIP = {"content-length", "connection", "keep-alive", "transfer-encoding",
                  "content-encoding"}


class Upstream:
    """An HTTP client for one upstream endpoint, created in the proxy's own event loop."""

    def __init__(self, base_url: str, *, timeout_s: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self._timeout_s,
                                                                   connect=10.0))
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _is_content_event(event: bytes) -> bool:
    for line in event.splitlines():
        if not line.startswith(b"data:"):
            continue
        payload = line[5:].strip()
        if payload == b"[DONE]":
            return False
        try:
            data = json.loads(payload)
        except json.JSONDecodeError:
            return False
        for choice in data.get("choices") or []:
            if (choice.get("delta") or {}).get("content"):
                return True
    return False


async def forward(upstream: Upstream, *, path: str, query: str, headers: dict[str, str],
                  body: bytes, send: Send, first_token_delay_s: float,
                  drop_after_chunks: int | None, drop: Callable[[], Exception]) -> None:
    """Relay one request to ``upstream`` and its response back, applying the stream faults."""
    url = upstream.base_url + path + (f"?{query}" if query else "")
    out_headers = {k: v for k, v in headers.items() if k not in _HOP_BY_HOP}
    request = upstream.client().build_request("POST", url, content=body, headers=out_headers)
    try:
        response = await upstream.client().send(request, stream=True)
    except httpx.HTTPError as exc:  # the real endpoint is unreachable: say so as a gateway would
        payload = json.dumps({"error": {"code": "upstream_unreachable",
                                     "message": f"{upstream.base_url}: {type(exc).__name__}"}})
        await send({"type": "http.response.start", "status": 502,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": payload.encode(),
                    "more_body": False})
        return
    try:
        relay_headers = [(k.encode("latin-1"), v.encode("latin-1"))
                         for k, v in response.headers.items() if k.lower() not in _RESPONSE_SKIP]
        await send({"type": "http.response.start", "status": response.status_code,
                    "headers": relay_headers})
        buffer = b""
        content_events = 0
        async for data in response.aiter_bytes():
            buffer += data
            while b"\n\n" in buffer:
                event, buffer = buffer.split(b"\n\n", 1)
                if _is_content_event(event):
                    if drop_after_chunks is not None and content_events >= drop_after_chunks:
                        raise drop()
                    if content_events == 0 and first_token_delay_s > 0:
                        await asyncio.sleep(first_token_delay_s)
                    content_events += 1
                await send({"type": "http.response.body", "body": event + b"\n\n",
                            "more_body": True})
        await send({"type": "http.response.body", "body": buffer, "more_body": False})
    except httpx.HTTPError as exc:  # the real stream broke: break ours the same way
        raise drop() from exc
    finally:
        await response.aclose()
