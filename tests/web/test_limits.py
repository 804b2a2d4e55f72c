"""Per-user limits over real HTTP in token mode: turns and new conversations a minute,
concurrent streams, the daily token budget; 429 with Retry-After and the limit named."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from chatref.web.app import create_app
from tests.fakes.identity_provider import (  # noqa: F401
    IdentityProvider,
    identity_provider,
    token_mode,
)
from tests.fakes.openai_server import FakeOpenAIServer

from .conftest import LiveServer, parse_sse, serve

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def limited(
    token_mode: IdentityProvider, indexed: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> Iterator[LiveServer]:
    monkeypatch.setenv("CHATREF_RATE_LIMIT_PER_MINUTE", "3")
    with serve(create_app()) as server:
        yield server


@pytest.fixture
async def http(limited: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=limited.url, timeout=60) as client:
        yield client


def user(idp: IdentityProvider, oid: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {idp.issue(oid)}"}


def question(conversation_id: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {"messages": [{"role": "user", "content": "Backups?"}]}
    if conversation_id:
        body["conversation_id"] = conversation_id
    return body


def assert_429(response: httpx.Response, limit: str) -> int:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "rate_limited"
    assert response.json()["error"]["message"].startswith(f"{limit}:")
    retry_after = int(response.headers["retry-after"])
    assert retry_after >= 1
    return retry_after


async def test_new_conversations_then_turns_are_limited_per_user_per_minute(
    http: httpx.AsyncClient, token_mode: IdentityProvider  # noqa: F811
) -> None:
    alice = user(token_mode, "alice")
    conversation = None
    for _ in range(3):
        response = await http.post("/api/chat", headers=alice, json=question())
        assert response.status_code == 200
        conversation = dict(parse_sse(response.text))["conversation"]["id"]
    assert 1 <= assert_429(await http.post("/api/chat", headers=alice, json=question()),
                           "conversations") <= 60
    # the refused conversation did not count as a turn; the next turn is the fourth
    assert_429(await http.post("/api/chat", headers=alice, json=question(conversation)),
               "chat_turns")
    assert_429(await http.post("/v1/chat/completions", headers=alice,
                               json={"model": "chatref", **question()}), "chat_turns")
    # reading is not limited, and another user has a budget of their own
    assert (await http.get("/api/conversations", headers=alice)).status_code == 200
    bob = user(token_mode, "bob")
    assert (await http.post("/v1/chat/completions", headers=bob,
                            json={"model": "chatref", **question()})).status_code == 200


async def test_concurrent_streams_per_user(
    with_model: FakeOpenAIServer, token_mode: IdentityProvider, indexed: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHATREF_MAX_CONCURRENT_STREAMS", "1")
    with_model.answer = " ".join(f"w{n}" for n in range(40))
    with_model.state.tokens_per_s = 20
    alice = user(token_mode, "alice")
    with serve(create_app()) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            async with http.stream("POST", "/api/chat", headers=alice, json=question()) as first:
                assert first.status_code == 200
                chunks = first.aiter_bytes()
                await chunks.__anext__()  # the answer is streaming now
                second = await http.post("/api/chat", headers=alice, json=question())
                assert_429(second, "concurrent_streams")
                other = await http.post("/v1/chat/completions", json=question(),
                                        headers=user(token_mode, "bob"))
                assert other.status_code == 200
                async for _ in chunks:
                    pass
            # the slot is free again once the answer has ended
            for _ in range(50):
                third = await http.post("/v1/chat/completions", headers=alice,
                                        json={"model": "chatref", **question()})
                if third.status_code != 429:
                    break
                await asyncio.sleep(0.1)
            assert third.status_code == 200


async def test_the_daily_token_budget(
    with_model: FakeOpenAIServer, token_mode: IdentityProvider,  # noqa: F811
    indexed: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHATREF_DAILY_TOKEN_QUOTA", "50")
    alice = user(token_mode, "alice")
    with serve(create_app()) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            first = await http.post("/api/chat", headers=alice, json=question())
            assert first.status_code == 200
            assert dict(parse_sse(first.text))["done"]["usage"]["total_tokens"] > 50
            for _ in range(50):  # the charge is recorded as the turn ends
                second = await http.post("/api/chat", headers=alice, json=question())
                if second.status_code == 429:
                    break
                await asyncio.sleep(0.05)
            retry_after = assert_429(second, "daily_token_quota")
            assert retry_after <= 24 * 3600
            assert "CHATREF_DAILY_TOKEN_QUOTA" in second.json()["error"]["message"]
            bob = await http.post("/api/chat", headers=user(token_mode, "bob"), json=question())
            assert bob.status_code == 200


async def test_local_mode_has_no_per_user_limits(
    indexed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATREF_RATE_LIMIT_PER_MINUTE", "1")
    app = create_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            for _ in range(3):
                assert (await http.post("/api/chat", json=question())).status_code == 200
