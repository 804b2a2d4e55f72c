"""The composition root: what build_services and build_chat_services wire together."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatref.app import build_chat_services, build_services
from chatref.chat.types import ChatRequest, TurnDone
from chatref.errors import ConfigurationError
from chatref.llm.base import ChatMessage
from chatref.settings import Settings


async def test_retrieval_services_do_not_open_the_chat_parts(isolated_env: Path) -> None:
    services = build_services(Settings())
    try:
        assert services.model is None and services.store is None
        with pytest.raises(ConfigurationError, match="build_chat_services"):
            services.require_chat()
    finally:
        await services.aclose()
    assert not (isolated_env / "chatref.sqlite").exists()


async def test_chat_services_without_a_model_answer_extractively(isolated_env: Path) -> None:
    services = await build_chat_services(Settings())
    try:
        assert services.model is None and services.store is not None
        turn = await services.require_chat().start_turn(
            ChatRequest([ChatMessage("user", "anything?")])
        )
        events = [event async for event in turn.events()]
        assert isinstance(events[-1], TurnDone) and events[-1].mode == "extractive"
    finally:
        await services.aclose()
    assert (isolated_env / "chatref.sqlite").exists()


async def test_chat_services_build_the_configured_model(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_MODEL", "gpt-test")
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    services = await build_chat_services(Settings())
    try:
        assert services.model is not None
        assert services.require_chat().model is services.model
    finally:
        await services.aclose()


async def test_a_model_configuration_that_cannot_work_fails_at_start_up(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATREF_LLM_ENDPOINTS", "this is not json")
    with pytest.raises(ConfigurationError, match="CHATREF_LLM_ENDPOINTS"):
        await build_chat_services(Settings())
