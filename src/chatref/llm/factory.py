"""Build the chat model from Settings: ``None`` when nothing is configured (extractive answers).

Whatever is configured — CHATREF_LLM_ENDPOINTS, or the single AZURE_OPENAI_* / OPENAI_*
endpoint — is served through the router, so a single endpoint also gets retries, a circuit
breaker, health and the extractive fallback when it is out. Example::

    model = build_chat_model(Settings(), telemetry=Telemetry())     # ChatModel | None
"""

from __future__ import annotations

from chatref.llm.base import ChatModel
from chatref.llm.config import EndpointConfig, endpoints_from_settings
from chatref.llm.router import ModelRouter, RoutedEndpoint, RouterPolicy
from chatref.settings import Settings
from chatref.telemetry import Telemetry


def build_chat_model(settings: Settings, *, telemetry: Telemetry | None = None,
                     policy: RouterPolicy | None = None) -> ChatModel | None:
    """The configured chat model, or None. Bad configuration raises ConfigurationError."""
    endpoints = endpoints_from_settings(settings)
    if not endpoints:
        return None
    return build_router(endpoints, client_id=settings.azure_client_id, telemetry=telemetry,
                        policy=policy)


def build_router(endpoints: list[EndpointConfig], *, client_id: str | None = None,
                 telemetry: Telemetry | None = None,
                 policy: RouterPolicy | None = None) -> ModelRouter:
    """A router over ``endpoints`` (each an OpenAIChatModel with the SDK's retries off)."""
    # imported here: the SDK takes seconds to import, and a start with no model never needs it
    from chatref.llm.openai_model import OpenAIChatModel

    routed = [RoutedEndpoint(OpenAIChatModel.from_config(config, client_id=client_id,
                                                         telemetry=telemetry),
                             priority=config.priority, weight=config.weight, kind=config.kind)
              for config in endpoints]
    models = {config.deployment_or_model for config in endpoints}
    name = models.pop() if len(models) == 1 else "router"
    return ModelRouter(routed, name=name, policy=policy, telemetry=telemetry)
