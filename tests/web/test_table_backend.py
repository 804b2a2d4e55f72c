"""The web app on Azure Table Storage (Azurite): the composition root picks the backend from
Settings, the API pages with the store's cursors, and no local conversation database exists."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from chatref.store.table_store import TableConversationStore
from chatref.web.app import create_app
from tests.fakes.azurite import ACCOUNT_KEY, Azurite, azurite, start_azurite  # noqa: F401
from tests.fakes.identity_provider import IdentityProvider, identity_provider, token_mode  # noqa: F401
from tests.fakes.openai_server import FakeOpenAIServer

from .conftest import chat, parse_sse, serve


@pytest.fixture
async def table_client(
    indexed: Path, azurite: Azurite, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("AZURE_STORAGE_TABLE_ENDPOINT", azurite.table_url)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    monkeypatch.setenv("CHATREF_CONVERSATIONS_TABLE", azurite.unique_name("web"))
    app = create_app()
    async with app.router.lifespan_context(app):
        assert isinstance(app.state.services.store, TableConversationStore)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            yield client


async def test_conversations_live_in_the_table_and_page_with_cursors(
    table_client: httpx.AsyncClient, indexed: Path
) -> None:
    ids = [(await chat(table_client, f"How long are backups kept? ({n})"))[0][1]["id"]
           for n in range(3)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await table_client.get("/api/conversations", params=params)).json()
        seen.extend(c["id"] for c in page["conversations"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]
    detail = (await table_client.get(f"/api/conversations/{ids[0]}")).json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]
    bad = await table_client.get("/api/conversations", params={"cursor": "nonsense"})
    assert bad.status_code == 400 and "cursor" in bad.json()["error"]["message"]
    assert not (indexed / "chatref.sqlite").exists()  # no local conversation database at all


async def test_readiness_names_the_table_backend(table_client: httpx.AsyncClient) -> None:
    ready = await table_client.get("/health/ready")
    assert ready.status_code == 200
    checks = ready.json()["checks"]
    assert checks["store"]["ok"] is True
    assert checks["store"]["detail"]["kind"] == "azure-table"
    assert checks["store"]["detail"]["url"].startswith("http://127.0.0.1:")
    assert checks["index"]["detail"]["kind"] == "sqlite" and checks["index"]["detail"]["chunks"]
    assert "AccountKey" not in ready.text


async def test_readiness_fails_naming_the_table_when_storage_is_gone(
    indexed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with start_azurite(tmp_path / "own-azurite", ("table",)) as own:
        monkeypatch.setenv("AZURE_STORAGE_TABLE_ENDPOINT", own.table_url)
        monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", own.connection_string)
        app = create_app()
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport,
                                         base_url="http://localhost") as client:
                assert (await client.get("/health/ready")).status_code == 200
                for process in own.processes:
                    process.kill()
                    process.wait()
                ready = await client.get("/health/ready")
    assert ready.status_code == 503
    store = ready.json()["checks"]["store"]
    assert store["ok"] is False
    assert store["detail"]["kind"] == "azure-table"
    assert store["detail"]["table"] == "conversations"
    assert store["detail"]["error"]
    assert ACCOUNT_KEY not in ready.text and "AccountKey" not in ready.text
    assert ready.json()["checks"]["index"]["ok"] is True


async def test_the_daily_token_budget_is_shared_by_instances(
    with_model: FakeOpenAIServer, token_mode: IdentityProvider,  # noqa: F811
    indexed: Path, azurite: Azurite, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_TABLE_ENDPOINT", azurite.table_url)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    monkeypatch.setenv("CHATREF_CONVERSATIONS_TABLE", azurite.unique_name("quota"))
    monkeypatch.setenv("CHATREF_DAILY_TOKEN_QUOTA", "50")
    alice = {"Authorization": f"Bearer {token_mode.issue('alice')}"}
    body = {"messages": [{"role": "user", "content": "Backups?"}]}
    with serve(create_app()) as a, serve(create_app()) as b:
        async with httpx.AsyncClient(timeout=60) as http:
            first = await http.post(f"{a.url}/api/chat", headers=alice, json=body)
            assert first.status_code == 200
            assert dict(parse_sse(first.text))["done"]["usage"]["total_tokens"] > 50
            for _ in range(50):  # the charge is recorded as the turn ends, on instance A
                refused = await http.post(f"{b.url}/api/chat", headers=alice, json=body)
                if refused.status_code == 429:
                    break
                await asyncio.sleep(0.05)
            assert refused.status_code == 429, refused.text
            assert refused.json()["error"]["message"].startswith("daily_token_quota:")
            bob = {"Authorization": f"Bearer {token_mode.issue('bob')}"}
            assert (await http.post(f"{b.url}/api/chat", headers=bob, json=body)).status_code \
                == 200
