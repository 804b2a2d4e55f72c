"""Bad input anywhere in the API: a 4xx JSON error that names the input, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest


@pytest.fixture(autouse=True)
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read by the app's Settings when the ``client`` fixture starts it."""
    monkeypatch.setenv("CHATREF_MAX_MESSAGE_CHARS", "200")


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ("{not json", 400, "not valid JSON"),
        ("[]", 400, "Input should be a valid dictionary"),
        ("{}", 400, "messages: Field required"),
        ('{"messages": []}', 400, "messages: List should have at least 1 item"),
        ('{"messages": [{"role": "user"}]}', 400, "messages[0].content: Field required"),
        ('{"messages": [{"role": "wizard", "content": "x"}]}', 400, "messages[0].role"),
        ('{"messages": [{"role": "user", "content": 42}]}', 400, "messages[0].content"),
        ('{"messages": [{"role": "user", "content": "  "}]}', 400, "the question is empty"),
        ('{"messages": [{"role": "user", "content": "%s"}]}' % ("x" * 201), 400,
         "201 characters is more than the limit of 200"),
        ('{"messages": [{"role": "user", "content": "hi"}], "conversation_id": "nope"}', 404,
         "conversation 'nope' does not exist"),
    ],
)
async def test_bad_input_is_a_4xx_json_error_naming_the_problem(
    client: httpx.AsyncClient, body: str, status: int,
    needle: str,
) -> None:
    response = await client.post(
        "/api/chat", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert needle in error["message"] and error["code"] in {"invalid_request", "not_found"}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "needle"),
    [
        ("GET", "/api/conversations/nope", None, 404, "conversation 'nope' does not exist"),
        ("PATCH", "/api/conversations/nope", {"title": "x"}, 404, "does not exist"),
        ("DELETE", "/api/conversations/nope", None, 404, "does not exist"),
        ("PUT", "/api/messages/nope/feedback", {"rating": "up"}, 404, "message 'nope'"),
        ("PUT", "/api/messages/nope/feedback", {"rating": "meh"}, 400, "rating"),
        ("GET", "/api/conversations?limit=0", None, 400, "limit"),
        ("GET", "/api/nowhere", None, 404, "no such endpoint: GET /api/nowhere"),
        ("POST", "/v1/chat/completions", {"messages": []}, 400, "at least 1 item"),
        ("POST", "/v1/chat/completions", {"model": "x"}, 400, "messages: Field required"),
    ],
)
async def test_other_endpoints_reject_bad_input_as_json(
    client: httpx.AsyncClient, method: str, path: str, body: object, status: int, needle: str,
) -> None:
    response = await client.request(method, path, json=body)
    assert response.status_code == status, response.text
    assert needle in response.json()["error"]["message"]


async def test_an_oversized_body_is_refused_before_parsing(client: httpx.AsyncClient) -> None:
    huge = '{"messages": [{"role": "user", "content": "' + "x" * 300_000 + '"}]}'
    response = await client.post("/api/chat", content=huge,
                                 headers={"content-type": "application/json"})
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "request_too_large" and "CHATREF_MAX_MESSAGE_CHARS" in error["message"]


async def test_an_oversized_body_without_a_length_is_refused_too(
    client: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"messages": [{"role": "user", "content": "'
        for _ in range(40):
            yield b"x" * 10_000
        yield b'"}]}'

    response = await client.post("/api/chat", content=chunks(),
                                 headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


async def test_a_body_within_the_cap_reaches_validation(client: httpx.AsyncClient) -> None:
    body = '{"messages": [{"role": "user", "content": "' + "x" * 1_000 + '"}]}'
    response = await client.post("/api/chat", content=body,
                                 headers={"content-type": "application/json"})
    assert response.status_code == 400 and "1000 characters" in response.text


async def test_a_request_before_the_services_are_built_answers_503_starting() -> None:
    """Without its lifespan (still starting), the app says so with a 503, not a 500."""
    from chatref.web.app import create_app

    transport = httpx.ASGITransport(app=create_app(), client=("127.0.0.1", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        response = await http.get("/api/conversations")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "starting"


def test_every_error_class_has_an_http_status_in_the_one_table() -> None:
    from chatref import errors
    from chatref.web.errors import HTTP_STATUS, status_for

    classes = [c for c in vars(errors).values()
               if isinstance(c, type) and issubclass(c, errors.ChatrefError)]
    assert len(classes) > 15
    assert not any(hasattr(c, "status_code") for c in classes)  # errors know nothing of HTTP
    assert status_for(errors.NotFoundError("x")) == 404
    mismatch = errors.EmbedderMismatchError("i", "a", "b")
    assert status_for(mismatch) == HTTP_STATUS[errors.IndexError_]
    assert status_for(errors.NotReadyError("x")) == 503
