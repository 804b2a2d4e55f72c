"""Build the chat model from Settings: ``None`` when nothing is configured (extractive answers).

Example::

    model = build_chat_model(Settings())     # ChatModel | None
"""

from __future__ import annotations

from chatref.llm.base import ChatModel
from chatref.llm.config import endpoints_from_settings
from chatref.llm.openai_model import OpenAIChatModel
from chatref.settings import Settings
from chatref.telemetry import Telemetry


def build_chat_model(settings: Settings, *, telemetry: Telemetry | None = None) -> ChatModel | None:
    """The configured chat model, or None. Bad configuration raises ConfigurationError."""
    endpoints = endpoints_from_settings(settings)
    if not endpoints:
        return None
    return OpenAIChatModel.from_config(endpoints[0], client_id=settings.azure_client_id,
                                       telemetry=telemetry)
