"""Per-user isolation over real HTTP, on every route: two users with real signed tokens (token
mode) and two App Service principals (easyauth mode). Another user's IDs answer exactly like
unknown ones; lists show only one's own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest

from chatref.identity.easyauth import encode_principal
from chatref.web.app import create_app
from tests.fakes.identity_provider import APP_ID_URI, IdentityProvider

from .conftest import LiveServer, parse_sse, serve

pytestmark = pytest.mark.timeout(180)


@dataclass
class TwoUsers:
    server: LiveServer
    alice: dict[str, str]
    bob: dict[str, str]
    alice_key: str | None = None  # the bearer token, for the OpenAI SDK


@pytest.fixture(params=["token", "easyauth"])
def two_users(
    request: pytest.FixtureRequest, indexed: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TwoUsers]:
    if request.param == "token":
        with IdentityProvider() as idp:
            monkeypatch.setenv("CHATREF_AUTH_MODE", "token")
            monkeypatch.setenv("CHATREF_AUTH_TENANT_ID", idp.tenant_id)
            monkeypatch.setenv("CHATREF_AUTH_AUDIENCE", APP_ID_URI)
            monkeypatch.setenv("CHATREF_AUTH_OPENID_CONFIG_URL", idp.metadata_url)
            alice, bob = idp.issue("oid-alice"), idp.issue("oid-bob")
            with serve(create_app()) as server:
                yield TwoUsers(server, {"Authorization": f"Bearer {alice}"},
                               {"Authorization": f"Bearer {bob}"}, alice_key=alice)
        return
    monkeypatch.setenv("CHATREF_AUTH_MODE", "easyauth")
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")
    with serve(create_app()) as server:
        yield TwoUsers(server, {"X-MS-CLIENT-PRINCIPAL": encode_principal("oid-alice")},
                       {"X-MS-CLIENT-PRINCIPAL": encode_principal("oid-bob")})


async def _start(http: httpx.AsyncClient, headers: dict[str, str]) -> tuple[str, str]:
    response = await http.post("/api/chat", headers=headers, json={
        "messages": [{"role": "user", "content": "How long are backups kept?"}]})
    assert response.status_code == 200, response.text
    events = dict(parse_sse(response.text))
    return events["conversation"]["id"], events["done"]["message_id"]


async def test_another_users_ids_answer_like_unknown_ones_on_every_route(
    two_users: TwoUsers,
) -> None:
    alice, bob = two_users.alice, two_users.bob
    async with httpx.AsyncClient(base_url=two_users.server.url, timeout=60) as http:
        conversation, message = await _start(http, alice)
        calls = [
            ("GET", "/api/conversations/{c}", None),
            ("PATCH", "/api/conversations/{c}", {"title": "mine now"}),
            ("PUT", "/api/messages/{m}/feedback", {"rating": "down"}),
            ("POST", "/api/chat", {"conversation_id": "{c}",
                                   "messages": [{"role": "user", "content": "and?"}]}),
            ("DELETE", "/api/conversations/{c}", None),
        ]
        for method, template, body in calls:
            def fill(value: object, c: str, m: str) -> object:
                if isinstance(value, str):
                    return value.replace("{c}", c).replace("{m}", m)
                if isinstance(value, dict):
                    return {k: fill(v, c, m) for k, v in value.items()}
                if isinstance(value, list):
                    return [fill(v, c, m) for v in value]
                return value

            theirs = await http.request(method, str(fill(template, conversation, message)),
                                        headers=bob, json=fill(body, conversation, message))
            unknown = await http.request(method, str(fill(template, "no-such-id", "no-such-id")),
                                         headers=bob, json=fill(body, "no-such-id", "no-such-id"))
            assert theirs.status_code == unknown.status_code == 404, (method, template)
            assert (theirs.json()["error"]["message"].replace(conversation, "X")
                    .replace(message, "X")) == (unknown.json()["error"]["message"]
                                                .replace("no-such-id", "X")), (method, template)
        # nothing of Alice's changed, and only Alice sees it
        mine = (await http.get(f"/api/conversations/{conversation}", headers=alice)).json()
        assert mine["title"] == "How long are backups kept?" and len(mine["messages"]) == 2
        assert mine["messages"][1]["feedback"] is None
        listed_alice = (await http.get("/api/conversations", headers=alice)).json()
        listed_bob = (await http.get("/api/conversations", headers=bob)).json()
        assert [c["id"] for c in listed_alice["conversations"]] == [conversation]
        assert listed_bob["conversations"] == []
        me = (await http.get("/api/me", headers=bob)).json()
        assert me["user_id"] == "oid-bob"


async def test_the_openai_route_is_per_caller_and_stores_nothing(two_users: TwoUsers) -> None:
    async with httpx.AsyncClient(base_url=two_users.server.url, timeout=60) as http:
        for headers in (two_users.alice, two_users.bob):
            response = await http.post("/v1/chat/completions", headers=headers, json={
                "model": "chatref", "messages": [{"role": "user", "content": "Backups?"}]})
            assert response.status_code == 200
            assert (await http.get("/api/conversations", headers=headers)).json()[
                "conversations"] == []
        assert (await http.post("/v1/chat/completions", json={
            "model": "chatref", "messages": [{"role": "user", "content": "x"}]})).status_code == 401
    if two_users.alice_key:
        async with openai.AsyncOpenAI(base_url=f"{two_users.server.url}/v1", max_retries=0,
                                      api_key=two_users.alice_key) as sdk:
            models = await sdk.models.list()
            assert [m.id for m in models.data] == ["chatref"]
