"""Authentication over real HTTP: chatref served by uvicorn in token mode (real RS256 tokens from
the fake Entra tenant), in easyauth mode (principals as App Service sends them) and in local mode.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import openai
import pytest

from chatref.errors import ConfigurationError
from chatref.identity.easyauth import encode_principal
from chatref.web.app import create_app
from tests.fakes.identity_provider import (  # noqa: F401
    IdentityProvider,
    identity_provider,
    token_mode,
)

from .conftest import LiveServer, serve

pytestmark = pytest.mark.timeout(120)
CHATREF = str(Path(sys.executable).parent / "chatref")


@pytest.fixture
def token_server(token_mode: IdentityProvider, indexed: Path) -> Iterator[LiveServer]:  # noqa: F811
    with serve(create_app()) as server:
        yield server


@pytest.fixture
async def http(token_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=token_server.url, timeout=30) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_no_token_is_a_401_with_a_bearer_challenge_and_a_json_error(
    http: httpx.AsyncClient,
) -> None:
    for method, path in [("GET", "/api/conversations"), ("POST", "/api/chat"),
                         ("POST", "/v1/chat/completions"), ("GET", "/v1/models"),
                         ("GET", "/"), ("GET", "/no/such/route")]:
        response = await http.request(method, path)
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"] == 'Bearer realm="chatref"'
        assert response.json()["error"]["code"] == "unauthenticated"


async def test_a_bad_token_is_a_401_invalid_token_naming_the_problem(
    http: httpx.AsyncClient, token_mode: IdentityProvider  # noqa: F811
) -> None:
    expired = token_mode.issue("alice", expires_in_s=-3600)
    response = await http.get("/api/conversations", headers=bearer(expired))
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="chatref", error="invalid_token"')
    assert "expired" in response.json()["error"]["message"]
    response = await http.get("/api/conversations", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401


async def test_a_valid_token_reaches_the_api(
    http: httpx.AsyncClient, token_mode: IdentityProvider  # noqa: F811
) -> None:
    response = await http.get("/api/conversations", headers=bearer(token_mode.issue("alice")))
    assert response.status_code == 200, response.text
    assert response.json() == {"conversations": [], "next_cursor": None}


async def test_the_required_role_is_a_403_without_it(
    token_mode: IdentityProvider, indexed: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    monkeypatch.setenv("CHATREF_AUTH_REQUIRED_ROLE", "Chat.User")
    with serve(create_app()) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            without = await client.get("/api/conversations",
                                       headers=bearer(token_mode.issue("bob", roles=[])))
            assert without.status_code == 403
            assert "Chat.User" in without.json()["error"]["message"]
            with_role = await client.get(
                "/api/conversations", headers=bearer(token_mode.issue("bob", roles=["Chat.User"])))
            assert with_role.status_code == 200


async def test_the_openai_sdk_works_with_the_token_as_api_key(
    token_server: LiveServer, token_mode: IdentityProvider  # noqa: F811
) -> None:
    async with openai.AsyncOpenAI(base_url=f"{token_server.url}/v1",
                                  api_key=token_mode.issue("alice"), max_retries=0) as sdk:
        completion = await sdk.chat.completions.create(
            model="chatref", messages=[{"role": "user", "content": "How long are backups kept?"}])
        assert "35 days" in (completion.choices[0].message.content or "")
    async with openai.AsyncOpenAI(base_url=f"{token_server.url}/v1", api_key="not-a-token",
                                  max_retries=0) as sdk:
        with pytest.raises(openai.AuthenticationError):
            await sdk.chat.completions.create(
                model="chatref", messages=[{"role": "user", "content": "hi"}])


async def test_health_live_is_public_and_ready_says_only_ready_without_the_operator_role(
    http: httpx.AsyncClient, token_mode: IdentityProvider  # noqa: F811
) -> None:
    assert (await http.get("/health/live")).status_code == 200
    for headers in ({}, bearer(token_mode.issue("alice")), bearer("garbage")):
        response = await http.get("/health/ready", headers=headers)
        assert response.status_code == 200
        assert response.json() == {"status": "ready", "checks": {}}
    operator = bearer(token_mode.issue("ops", roles=["Chat.Operator"]))
    detailed = (await http.get("/health/ready", headers=operator)).json()
    assert detailed["status"] == "ready" and "index" in detailed["checks"]
    assert detailed["build"] == "dev"  # the operator's answer only: not in the one above


@pytest.mark.parametrize("path", ["/metrics", "/openapi.json", "/docs", "/redoc"])
async def test_metrics_and_api_docs_need_the_operator_role(
    http: httpx.AsyncClient, token_mode: IdentityProvider, path: str  # noqa: F811
) -> None:
    assert (await http.get(path)).status_code == 401
    user = await http.get(path, headers=bearer(token_mode.issue("alice", roles=["Chat.User"])))
    assert user.status_code == 403 and "Chat.Operator" in user.json()["error"]["message"]
    operator = await http.get(path, headers=bearer(token_mode.issue("ops",
                                                                    roles=["Chat.Operator"])))
    assert operator.status_code == 200


async def test_an_unreachable_identity_provider_answers_503(
    http: httpx.AsyncClient, token_mode: IdentityProvider  # noqa: F811
) -> None:
    token = token_mode.issue("alice")
    token_mode.fail_with = 500
    response = await http.get("/api/conversations", headers=bearer(token))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "identity_provider_unavailable"


# --- easyauth ----------------------------------------------------------------------------------


def test_easyauth_refuses_to_start_without_app_service_authentication(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHATREF_AUTH_MODE", "easyauth")
    with pytest.raises(ConfigurationError, match="WEBSITE_AUTH_ENABLED=True"):
        create_app()
    result = subprocess.run([CHATREF, "serve"], capture_output=True, text=True, timeout=60,
                            env=dict(os.environ), check=False)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "WEBSITE_AUTH_ENABLED" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(("env", "named"), [
    ({"CHATREF_AUTH_MODE": "token"}, "CHATREF_AUTH_TENANT_ID"),
    ({"CHATREF_AUTH_MODE": "token", "CHATREF_AUTH_TENANT_ID": "t"}, "CHATREF_AUTH_AUDIENCE"),
    ({"CHATREF_AUTH_MODE": "token", "CHATREF_AUTH_TENANT_ID": "t", "CHATREF_AUTH_AUDIENCE": "a",
      "CHATREF_AUTH_OPENID_CONFIG_URL": "http://idp.example/x"}, "must be https"),
    ({"CHATREF_AUTH_MODE": "nobody"}, "CHATREF_AUTH_MODE"),
    ({"CHATREF_RATE_LIMIT_PER_MINUTE": "lots"}, "CHATREF_RATE_LIMIT_PER_MINUTE"),
])
def test_bad_settings_stop_serve_with_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = subprocess.run([CHATREF, "serve"], capture_output=True, text=True, timeout=60,
                            env=dict(os.environ), check=False)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert named in result.stderr and "Traceback" not in result.stderr


@pytest.fixture
def easyauth_server(
    indexed: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LiveServer]:
    monkeypatch.setenv("CHATREF_AUTH_MODE", "easyauth")
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")
    monkeypatch.setenv("WEBSITE_HOSTNAME", "chatref-prod.azurewebsites.net")
    with serve(create_app()) as server:
        yield server


async def test_easyauth_takes_the_user_from_the_platform_principal(
    easyauth_server: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=easyauth_server.url) as client:
        missing = await client.get("/api/conversations")
        assert missing.status_code == 401
        forged = await client.get("/api/conversations",
                                  headers={"X-MS-CLIENT-PRINCIPAL": "bm90IGpzb24="})
        assert forged.status_code == 401
        alice = {"X-MS-CLIENT-PRINCIPAL": encode_principal("oid-alice", name="Alice")}
        assert (await client.get("/api/conversations", headers=alice)).status_code == 200
        assert (await client.get("/metrics", headers=alice)).status_code == 403
        ops = {"X-MS-CLIENT-PRINCIPAL": encode_principal("oid-ops", roles=("Chat.Operator",))}
        assert (await client.get("/metrics", headers=ops)).status_code == 200
        site = {"Host": "chatref-prod.azurewebsites.net", **alice}
        assert (await client.get("/api/conversations", headers=site)).status_code == 200


# --- local mode and the Host allow-list --------------------------------------------------------


async def test_local_mode_serves_loopback_clients_only(indexed: Path) -> None:
    app = create_app()
    async with app.router.lifespan_context(app):
        for client_address, status in ((("127.0.0.1", 5000), 200), (("::1", 5000), 200),
                                       (("10.1.2.3", 5000), 403)):
            transport = httpx.ASGITransport(app=app, client=client_address)
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
                response = await c.get("/api/conversations")
                assert response.status_code == status, client_address
    assert "loopback clients only" in response.json()["error"]["message"]


async def test_a_host_outside_the_allow_list_is_refused_in_every_mode(
    live_server: LiveServer, token_server: LiveServer, token_mode: IdentityProvider,  # noqa: F811
) -> None:
    """DNS rebinding: evil.example resolved to 127.0.0.1 still sends Host: evil.example."""
    for server, headers in ((live_server, {}), (token_server, bearer(token_mode.issue("a")))):
        async with httpx.AsyncClient(base_url=server.url) as client:
            response = await client.get("/api/conversations",
                                        headers={"Host": "evil.example", **headers})
            assert response.status_code == 400
            assert "CHATREF_ALLOWED_HOSTS" in response.json()["error"]["message"]
            for host in ("localhost", "127.0.0.1:8000", "[::1]:1"):
                ok = await client.get("/api/conversations", headers={"Host": host, **headers})
                assert ok.status_code == 200, host


async def test_allowed_hosts_add_to_the_loopback_names(
    indexed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATREF_ALLOWED_HOSTS", "chat.contoso.example, localhost")
    app = create_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
            assert (await c.get("/health/live",
                                headers={"Host": "chat.contoso.example"})).status_code == 200
            assert (await c.get("/health/live", headers={"Host": "127.0.0.1"})).status_code == 200
            assert (await c.get("/health/live",
                                headers={"Host": "contoso.example"})).status_code == 400

