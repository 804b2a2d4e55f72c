"""The web app's lifespan: telemetry from Settings; Azure variables that need no warning."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest

from chatref.web.app import create_app


async def test_the_blob_source_variables_warn_nothing_and_the_app_still_serves(
    indexed: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The document source is used by `chatref ingest` (and the scheduled sync), not the server.
    monkeypatch.setenv("AZURE_STORAGE_BLOB_ENDPOINT", "https://blob.invalid")
    monkeypatch.setenv("AZURE_STORAGE_CONTAINER", "docs")
    app = create_app()
    with caplog.at_level(logging.WARNING, logger="chatref.web.app"):
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport,
                                         base_url="http://localhost") as client:
                assert (await client.get("/health/ready")).status_code == 200
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "AZURE_STORAGE_BLOB_ENDPOINT" not in warned
    assert "no backend" not in warned


async def test_application_insights_connection_string_turns_on_the_exporter(
    indexed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL", "true")
    monkeypatch.setenv("APPLICATIONINSIGHTS_SDKSTATS_DISABLED", "true")
    monkeypatch.setenv("APPLICATIONINSIGHTS_CONNECTION_STRING",
                       "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
                       "IngestionEndpoint=http://127.0.0.1:9/")
    app = create_app()
    async with app.router.lifespan_context(app):
        telemetry = app.state.services.telemetry
        assert telemetry._otel is not None
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            assert (await client.get("/metrics")).status_code == 200


async def test_the_embedded_index_is_loaded_for_search_before_the_first_question(
    indexed: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app()
    with caplog.at_level(logging.INFO, logger="chatref.web.app"):
        async with app.router.lifespan_context(app):
            index = app.state.services.index
            for _ in range(600):  # loaded beside serving: no request has searched yet
                if index._keywords_seq >= 0 and index._ann_seq >= 0:
                    break
                await asyncio.sleep(0.05)
            assert len(index._keywords) > 0 and len(index._ann) > 0
    assert any(r.getMessage().startswith("index loaded for search in") for r in caplog.records)

