"""No key: Entra ID tokens from DefaultAzureCredential, as on App Service (managed identity).

The fake plays App Service's managed-identity endpoint (IDENTITY_ENDPOINT / IDENTITY_HEADER), so
the real azure-identity code path runs and the token reaches the fake model as a Bearer header.
"""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from chatref.llm.base import ChatMessage
from chatref.llm.config import EndpointConfig
from chatref.llm.factory import build_router
from chatref.llm.openai_model import OpenAIChatModel
from chatref.llm.router import RouterPolicy
from tests.fakes.openai_server import Behaviour, FakeOpenAIServer

MESSAGES = [ChatMessage("user", "hello")]


@pytest.fixture
def managed_identity(monkeypatch: pytest.MonkeyPatch,
                     fake_openai: FakeOpenAIServer) -> FakeOpenAIServer:
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{fake_openai.url}/_fake/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", "header-from-app-service")
    return fake_openai


def keyless(fake: FakeOpenAIServer) -> EndpointConfig:
    return EndpointConfig(name="mi", endpoint=fake.url, deployment="gpt-4o")


async def test_keyless_azure_endpoint_sends_a_managed_identity_token(
        managed_identity: FakeOpenAIServer) -> None:
    client_id = "11111111-2222-3333-4444-555555555555"
    model = OpenAIChatModel.from_config(keyless(managed_identity), client_id=client_id)
    assert await model.complete(MESSAGES, max_tokens=50) == managed_identity.answer
    await model.aclose()
    request = managed_identity.last_request
    assert request.headers["authorization"] == "Bearer fake-entra-token-1"
    assert "api-key" not in request.headers
    token_query = managed_identity.state.token_requests[0]
    assert "cognitiveservices.azure.com" in token_query
    assert client_id in token_query  # the user-assigned identity named by AZURE_CLIENT_ID


async def test_401_refreshes_the_token_and_retries_once(
        managed_identity: FakeOpenAIServer) -> None:
    managed_identity.enqueue(Behaviour(status=401))
    router = build_router([keyless(managed_identity)], policy=RouterPolicy())
    assert await router.complete(MESSAGES, max_tokens=50) == managed_identity.answer
    await router.aclose()
    sent = [r.headers["authorization"] for r in managed_identity.requests]
    assert sent == ["Bearer fake-entra-token-1", "Bearer fake-entra-token-2"]


async def test_key_wins_over_managed_identity(managed_identity: FakeOpenAIServer) -> None:
    config = keyless(managed_identity).model_copy(update={"api_key": SecretStr("k")})
    model = OpenAIChatModel.from_config(config)
    await model.complete(MESSAGES, max_tokens=50)
    await model.aclose()
    # the v1 API takes the key as a bearer token (a dated api-version: the api-key header)
    assert managed_identity.last_request.headers["authorization"] == "Bearer k"
    assert managed_identity.state.tokens_issued == 0


async def test_dated_api_version_sends_the_token_and_key_the_classic_way(
        managed_identity: FakeOpenAIServer) -> None:
    config = keyless(managed_identity).model_copy(update={"api_version": "2024-10-21"})
    model = OpenAIChatModel.from_config(config)
    assert await model.complete(MESSAGES, max_tokens=50) == managed_identity.answer
    keyed = OpenAIChatModel.from_config(config.model_copy(update={"api_key": SecretStr("k")}))
    await keyed.complete(MESSAGES, max_tokens=50)
    await model.aclose()
    await keyed.aclose()
    first, second = managed_identity.requests
    assert first.path == "/openai/deployments/gpt-4o/chat/completions"
    assert "api-version=2024-10-21" in first.query
    assert first.headers["authorization"] == "Bearer fake-entra-token-1"
    assert second.headers["api-key"] == "k"
