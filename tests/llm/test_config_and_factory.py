"""CHATREF_LLM_ENDPOINTS and the single-endpoint variables: parsed, validated, built."""

from __future__ import annotations

import json

import pytest

from chatref.errors import ConfigurationError
from chatref.llm.base import ChatMessage, ModelDelta
from chatref.llm.config import parse_endpoints
from chatref.llm.factory import build_chat_model
from chatref.settings import Settings
from tests.fakes.openai_server import FakeOpenAIServer

TWO_REGIONS = [
    {"name": "swc-ptu", "endpoint": "https://aoai-swc.openai.azure.com", "deployment": "gpt-4o",
     "kind": "ptu", "priority": 1, "api_key_env": "SWC_KEY"},
    {"name": "frc-paygo", "endpoint": "https://aoai-frc.openai.azure.com",
     "deployment": "gpt-4o", "kind": "paygo", "priority": 2, "first_token_timeout_s": 5},
]


def test_two_regions_parse_with_key_from_env() -> None:
    endpoints = parse_endpoints(json.dumps(TWO_REGIONS), environ={"SWC_KEY": "s3"})
    assert [e.name for e in endpoints] == ["swc-ptu", "frc-paygo"]
    assert endpoints[0].api_key is not None and endpoints[0].api_key.get_secret_value() == "s3"
    assert endpoints[1].api_key is None  # Entra ID
    assert endpoints[1].api_version == "v1" and endpoints[1].is_azure  # the GA v1 API
    assert endpoints[1].first_token_timeout_s == 5


@pytest.mark.parametrize(("raw", "message"), [
    ("[{", "not valid JSON"),
    ("{}", "non-empty JSON list"),
    ("[]", "non-empty JSON list"),
    (json.dumps([{"name": "a", "endpoint": "https://x"}]), r"\[0\] \(a\).*deployment"),
    (json.dumps([{"name": "a", "endpoint": "ftp://x", "deployment": "d"}]), "endpoint"),
    (json.dumps([{"name": "a", "endpoint": "https://x", "deployment": "d", "priority": 0}]),
     "priority"),
    (json.dumps([{"name": "a", "endpoint": "https://x", "deployment": "d", "kind": "spot"}]),
     "kind"),
    (json.dumps([{"name": "a", "endpoint": "https://x", "deployment": "d", "colour": 1}]),
     "colour"),
    (json.dumps([{"name": "a", "endpoint": "https://x", "deployment": "d",
                  "api_key_env": "MISSING_KEY"}]), "MISSING_KEY, which is not set"),
    (json.dumps([{"name": "a", "endpoint": "https://x", "deployment": "d"}] * 2),
     "unique; repeated: a"),
])
def test_bad_endpoint_lists_name_the_variable_and_problem(raw: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match="CHATREF_LLM_ENDPOINTS") as caught:
        parse_endpoints(raw, environ={})
    assert caught.match(message)


def test_nothing_configured_means_no_model() -> None:
    assert build_chat_model(Settings()) is None


def test_deployment_missing_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://aoai.openai.azure.com")
    with pytest.raises(ConfigurationError, match="AZURE_OPENAI_CHAT_DEPLOYMENT"):
        build_chat_model(Settings())


def test_bad_router_json_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATREF_LLM_ENDPOINTS", "not json")
    with pytest.raises(ConfigurationError, match="CHATREF_LLM_ENDPOINTS is not valid JSON"):
        build_chat_model(Settings())


async def test_single_azure_endpoint_from_variables(
        monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAIServer) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", fake_openai.url)
    monkeypatch.setenv("AZURE_OPENAI_CHAT_DEPLOYMENT", "chat")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "env-key")
    model = build_chat_model(Settings())
    assert model is not None
    events = [e async for e in model.stream([ChatMessage("user", "hi")], max_tokens=50)]
    await model.aclose()
    assert "".join(e.text for e in events if isinstance(e, ModelDelta)) == fake_openai.answer
    request = fake_openai.last_request
    # AZURE_OPENAI_API_VERSION's default: the v1 API, the deployment as model, a bearer key
    assert request.path == "/openai/v1/chat/completions" and request.deployment == "chat"
    assert request.headers["authorization"] == "Bearer env-key"


async def test_openai_compatible_from_variables(
        monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAIServer) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.openai_base_url)
    monkeypatch.setenv("OPENAI_MODEL", "small")
    monkeypatch.setenv("OPENAI_API_KEY", "ok")
    model = build_chat_model(Settings())
    assert model is not None
    assert await model.complete([ChatMessage("user", "hi")], max_tokens=50) == fake_openai.answer
    await model.aclose()
    assert fake_openai.last_request.body["model"] == "small"
