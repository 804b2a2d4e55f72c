"""What Azure OpenAI refuses on the chat-completions routes, as the fakes enforce it.

The drill's fake regions (ops/fakeregion.py) and the test double (tests/fakes/openai_server.py)
refuse what the real service refuses, with its status codes and error bodies, so that a request
the service would reject fails in tests too:

- routes: ``/openai/v1/chat/completions`` (the v1 API; ``api-version`` optional, ``v1`` or
  ``preview``), ``/openai/deployments/{deployment}/chat/completions?api-version=<dated>``, and
  ``[prefix]/v1/chat/completions`` for OpenAI-compatible servers; anything else is a 404;
- an api-version the service does not know: 400 ``API version not supported``; a dated version
  older than the deployment's model allows: 400 (``reasoning`` models need 2025-04-01-preview);
- a reasoning deployment refuses ``max_tokens`` (400 ``unsupported_parameter``), any non-default
  ``temperature`` (400 ``unsupported_value``) and the other sampling knobs; a chat deployment
  refuses ``reasoning_effort``.

The texts are the service's, as reported in public issue threads (see docs/resilience.md).

>>> route_of("POST", "/openai/v1/chat/completions", {"model": "chat"})
ChatRoute(api='v1', deployment='chat')
>>> refusal(ChatRoute("v1", "chat"), {}, {"max_tokens": 50}, "reasoning")[1]["error"]["code"]
'unsupported_parameter'
>>> refusal(ChatRoute("v1", "chat"), {}, {"max_completion_tokens": 50}, "reasoning") is None
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs

from chatref.llm.families import MIN_REASONING_API_VERSION, api_version_too_old_for_reasoning

Refusal = tuple[int, dict[str, Any]]

AZURE_CHAT_PATH = re.compile(r"/openai/deployments/([^/]+)/chat/completions")
V1_CHAT_PATH = "/openai/v1/chat/completions"
OPENAI_CHAT_PATH = re.compile(r"(/[^?]*)?/v1/chat/completions")

# api-version values of the v1 API (AzureAIFoundryModelsApiVersion in its OpenAPI document).
V1_API_VERSIONS = frozenset({"v1", "preview"})
# Dated data-plane inference versions (azure-rest-api-specs, AzureOpenAI/inference stable/ and
# preview/); none was published after 2025-04-01-preview: the v1 API replaced them.
DATED_API_VERSIONS = frozenset({
    "2022-12-01", "2023-05-15", "2024-02-01", "2024-06-01", "2024-10-21",
    "2023-06-01-preview", "2023-07-01-preview", "2023-08-01-preview", "2023-09-01-preview",
    "2023-10-01-preview", "2023-12-01-preview", "2024-02-15-preview", "2024-03-01-preview",
    "2024-04-01-preview", "2024-05-01-preview", "2024-07-01-preview", "2024-08-01-preview",
    "2024-09-01-preview", "2024-10-01-preview", "2024-12-01-preview", "2025-01-01-preview",
    "2025-02-01-preview", "2025-03-01-preview", "2025-04-01-preview",
})
# Refused by reasoning models besides max_tokens ("Not supported" on Azure's reasoning page).
_REASONING_REFUSES = ("top_p", "presence_penalty", "frequency_penalty", "logprobs",
                      "top_logprobs", "logit_bias")

NOT_FOUND: Refusal = (404, {"error": {"code": "404", "message": "Resource not found"}})


@dataclass(frozen=True)
class ChatRoute:
    """Which chat-completions API a request came in on, and the deployment (or model) named."""

    api: Literal["deployments", "v1", "openai"]
    deployment: str


def route_of(method: str, path: str, body: dict[str, Any]) -> ChatRoute | None:
    """The chat route of ``path``, or None for a path the service does not serve."""
    if method != "POST":
        return None
    if match := AZURE_CHAT_PATH.fullmatch(path):
        return ChatRoute("deployments", match.group(1))
    model = str(body.get("model", ""))
    if path == V1_CHAT_PATH:
        return ChatRoute("v1", model)
    if OPENAI_CHAT_PATH.fullmatch(path) and not path.startswith("/openai/"):
        return ChatRoute("openai", model or "fake-model")
    return None


def _invalid(message: str, param: str | None, code: str | None) -> Refusal:
    return 400, {"error": {"message": message, "type": "invalid_request_error", "param": param,
                           "code": code}}


def _bad_request(message: str) -> Refusal:
    return 400, {"error": {"code": "BadRequest", "message": message}}


def api_version_refusal(route: ChatRoute, query: str, family: str) -> Refusal | None:
    """What the service answers to the request's api-version (None: acceptable)."""
    versions = parse_qs(query).get("api-version", [])
    if route.api == "openai":
        return None
    if route.api == "v1":
        if versions and versions[-1] not in V1_API_VERSIONS:
            return _bad_request("API version not supported")
        return None
    if not versions:
        return NOT_FOUND
    version = versions[-1]
    if version not in DATED_API_VERSIONS:
        return _bad_request("API version not supported")
    if family == "reasoning" and api_version_too_old_for_reasoning(version):
        # the service's text, placeholder included
        return _bad_request("Model {modelName} is enabled only for api versions "
                            f"{MIN_REASONING_API_VERSION} and later")
    return None


def body_refusal(body: dict[str, Any], family: str) -> Refusal | None:
    """What a deployment of ``family`` answers to the parameters in ``body`` (None: fine)."""
    if family == "reasoning":
        if body.get("max_tokens") is not None:
            return _invalid("Unsupported parameter: 'max_tokens' is not supported with this "
                            "model. Use 'max_completion_tokens' instead.", "max_tokens",
                            "unsupported_parameter")
        temperature = body.get("temperature")
        if temperature is not None and temperature != 1:
            return _invalid(f"Unsupported value: 'temperature' does not support "
                            f"{_number(temperature)} with this model. Only the default (1) "
                            "value is supported.", "temperature", "unsupported_value")
        for name in _REASONING_REFUSES:
            if body.get(name) is not None:
                return _invalid(f"Unsupported parameter: '{name}' is not supported with this "
                                "model.", name, "unsupported_parameter")
    elif body.get("reasoning_effort") is not None:
        return _invalid("Unsupported parameter: 'reasoning_effort' is not supported with this "
                        "model.", "reasoning_effort", "unsupported_parameter")
    return None


def refusal(route: ChatRoute, query: str | dict[str, Any], body: dict[str, Any],
            family: str) -> Refusal | None:
    """The api-version check, then the body's parameters for the deployment's family."""
    raw = query if isinstance(query, str) else "&".join(f"{k}={v}" for k, v in query.items())
    return api_version_refusal(route, raw, family) or body_refusal(body, family)


def _number(value: object) -> str:
    """As the service prints it: 0 for 0.0, 0.5 for 0.5."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
