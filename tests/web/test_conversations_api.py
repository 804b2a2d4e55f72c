"""/api/conversations, feedback, health, metrics, OpenAPI and the page itself."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from .conftest import chat


async def test_list_rename_delete(client: httpx.AsyncClient) -> None:
    first = (await chat(client, "How long are backups kept?"))[0][1]["id"]
    second = (await chat(client, "Who rotates the keys?"))[0][1]["id"]
    listed = (await client.get("/api/conversations")).json()["conversations"]
    assert [c["id"] for c in listed] == [second, first]
    assert listed[1]["title"] == "How long are backups kept?" and listed[1]["message_count"] == 2

    renamed = await client.patch(f"/api/conversations/{first}", json={"title": "  Backups  "})
    assert renamed.status_code == 200 and renamed.json()["title"] == "Backups"
    blank = await client.patch(f"/api/conversations/{first}", json={"title": "   "})
    assert blank.status_code == 400 and "title" in blank.json()["error"]["message"]

    assert (await client.delete(f"/api/conversations/{second}")).status_code == 204
    assert (await client.get(f"/api/conversations/{second}")).status_code == 404
    listed = (await client.get("/api/conversations")).json()["conversations"]
    assert [(c["id"], c["title"]) for c in listed] == [(first, "Backups")]


async def test_feedback_on_an_answer_is_stored_and_replaced(client: httpx.AsyncClient) -> None:
    events = await chat(client, "How long are backups kept?")
    conversation_id, message_id = events[0][1]["id"], events[-1][1]["message_id"]
    up = await client.put(f"/api/messages/{message_id}/feedback", json={"rating": "up"})
    assert up.status_code == 200 and up.json()["rating"] == "up"
    down = await client.put(f"/api/messages/{message_id}/feedback",
                            json={"rating": "down", "comment": " wrong vault "})
    assert down.json()["comment"] == "wrong vault"
    detail = (await client.get(f"/api/conversations/{conversation_id}")).json()
    assert detail["messages"][1]["feedback"]["rating"] == "down"
    assert detail["messages"][0]["feedback"] is None
    question_id = events[0][1]["user_message_id"]
    refused = await client.put(f"/api/messages/{question_id}/feedback", json={"rating": "up"})
    assert refused.status_code == 409 and "rate answers only" in refused.text


async def test_health_probes(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health/live")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready"
    assert body["checks"]["index"]["detail"]["chunks"] >= 3
    assert body["checks"]["store"]["ok"] is True
    assert body["checks"]["model"]["detail"]["mode"] == "extractive"


async def test_metrics_count_turns(client: httpx.AsyncClient) -> None:
    await chat(client, "How long are backups kept?")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'chatref_chat_turns_total{mode="extractive",status="extractive"} 1.0' in response.text
    assert "chatref_chat_time_to_first_token_seconds_count" in response.text


async def test_openapi_documents_the_api(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    for path in ("/api/chat", "/v1/chat/completions", "/api/conversations",
                 "/api/conversations/{conversation_id}", "/api/messages/{message_id}/feedback",
                 "/health/live", "/health/ready"):
        assert path in schema["paths"], path
    chat_responses = schema["paths"]["/api/chat"]["post"]["responses"]
    assert "text/event-stream" in chat_responses["200"]["content"]
    for page in ("/docs", "/redoc"):
        html = (await client.get(page)).text
        assert "/docs-assets/" in html and "cdn" not in html.lower(), page
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        assert (await client.get(f"/docs-assets/{asset}")).status_code == 200


async def test_the_page_and_its_assets_are_served_locally(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset in ("/static/app.js", "/static/markdown.js", "/static/app.css"):
        response = await client.get(asset)
        assert response.status_code == 200, asset
        assert "http://" not in response.text and "https://" not in response.text.replace(
            "(https?:", "")


async def test_readiness_fails_when_a_backend_fails(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    app.state.services.index.close()  # the index file can no longer be read
    ready = await client.get("/health/ready")
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["index"]["ok"] is False and body["checks"]["index"]["detail"]["error"]
    assert body["checks"]["store"]["ok"] is True
    assert (await client.get("/health/live")).status_code == 200
