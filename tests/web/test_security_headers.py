"""Security headers on every response and same-origin state changes, over the ASGI app."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from chatref.web.app import create_app
from chatref.web.security import CONTENT_SECURITY_POLICY

CSP = ("default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'")


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/", 200), ("GET", "/health/live", 200), ("GET", "/api/conversations", 200),
    ("GET", "/api/conversations/nope", 404), ("GET", "/no/such/page", 404),
    ("POST", "/api/chat", 400), ("GET", "/static/app.js", 200), ("GET", "/docs", 200),
])
async def test_every_response_carries_the_security_headers(
    client: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path, content=b"{}" if method == "POST" else None,
                                     headers={"content-type": "application/json"})
    assert response.status_code == status
    assert response.headers["content-security-policy"] == CSP == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in response.headers
    if path.startswith(("/api/", "/health/")):
        assert response.headers["cache-control"] == "no-store"


async def test_api_streams_are_not_stored_either(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/chat", json={"messages": [
        {"role": "user", "content": "How long are backups kept?"}]})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


async def test_hsts_when_the_front_end_received_https(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_refusals_carry_the_headers_too(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.headers["content-security-policy"] == CSP


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "http://localhost", "Sec-Fetch-Site": "same-site"},
])
async def test_cross_site_state_changes_are_refused(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    for method, path in [("POST", "/api/chat"), ("DELETE", "/api/conversations/x"),
                         ("PATCH", "/api/conversations/x"), ("PUT", "/api/messages/x/feedback")]:
        response = await client.request(method, path, headers=headers, json={})
        assert response.status_code == 403, (method, path)
        assert "cross-site request refused" in response.json()["error"]["message"]


async def test_same_origin_and_non_browser_requests_pass(client: httpx.AsyncClient) -> None:
    for headers in ({"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
                    {"Sec-Fetch-Site": "none"}, {}):
        response = await client.delete("/api/conversations/unknown", headers=headers)
        assert response.status_code == 404, headers
    # behind a gateway: the page's origin is an allowed host other than the Host the app sees
    behind = await client.delete("/api/conversations/unknown",
                                 headers={"Origin": "https://localhost", "Host": "127.0.0.1"})
    assert behind.status_code == 404
    # reading is never refused for its origin: browsers do not let the other site see it
    assert (await client.get("/api/conversations",
                             headers={"Origin": "https://evil.example"})).status_code == 200


async def test_cors_is_closed_unless_origins_are_listed(
    indexed: Path, monkeypatch: pytest.MonkeyPatch, client: httpx.AsyncClient
) -> None:
    preflight = {"Origin": "https://app.contoso.example", "Access-Control-Request-Method": "POST"}
    closed = await client.options("/api/chat", headers=preflight)
    assert "access-control-allow-origin" not in closed.headers
    monkeypatch.setenv("CHATREF_CORS_ORIGINS", "https://app.contoso.example")
    app = create_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
            opened = await c.options("/api/chat", headers=preflight)
            assert opened.status_code == 200
            assert opened.headers["access-control-allow-origin"] == preflight["Origin"]
            posted = await c.post("/api/conversations/x/nothing", json={},
                                  headers={"Origin": preflight["Origin"]})
            assert posted.status_code != 403
            other = await c.delete("/api/conversations/x",
                                   headers={"Origin": "https://evil.example"})
            assert other.status_code == 403
