"""The chat page in Debian's Chromium: the signed-in user behind Easy Auth, and hostile Markdown
from the model rendered without breaking out of a link."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from chatref.identity.easyauth import encode_principal
from chatref.web.app import create_app
from tests.fakes.openai_server import FakeOpenAIServer

from .conftest import LiveServer, serve
from .test_ui import CHROMIUM, ask, browser  # noqa: F401

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed"),
]


@pytest.fixture
def easyauth_server(indexed: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    monkeypatch.setenv("CHATREF_AUTH_MODE", "easyauth")
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")
    with serve(create_app()) as server:
        yield server


async def test_the_page_shows_the_signed_in_user_and_a_sign_out_link(
    browser: Browser, easyauth_server: LiveServer,  # noqa: F811
) -> None:
    """App Service puts the principal on every request; here the browser context does."""
    pages = {}
    for oid, name in (("oid-alice", "Alice Example"), ("oid-bob", "Bob Example")):
        context = await browser.new_context(
            base_url=easyauth_server.url,
            extra_http_headers={"X-MS-CLIENT-PRINCIPAL": encode_principal(oid, name=name)})
        pages[oid] = await context.new_page()
        await pages[oid].goto("/")
    alice, bob = pages["oid-alice"], pages["oid-bob"]
    await expect(alice.locator("#user")).to_have_text("Alice Example")
    sign_out = alice.get_by_role("link", name="Sign out")
    await expect(sign_out).to_be_visible()
    await expect(sign_out).to_have_attribute("href", "/.auth/logout")
    await ask(alice, "How long are backups kept?")
    await expect(alice.locator("article.message.assistant").last).to_contain_text("35 days")
    await expect(alice.locator(".conversation-open")).to_have_count(1)
    await bob.reload()
    await expect(bob.locator("#user")).to_have_text("Bob Example")
    await expect(bob.locator("#no-conversations")).to_be_visible()
    await expect(bob.locator(".conversation-open")).to_have_count(0)
    for page in pages.values():
        await page.context.close()


async def test_the_local_page_shows_no_sign_out(
    browser: Browser, live_server: LiveServer,  # noqa: F811
) -> None:
    context = await browser.new_context(base_url=live_server.url)
    page = await context.new_page()
    await page.goto("/")
    await expect(page.locator("#welcome")).to_be_visible()
    await expect(page.locator("#sign-out")).to_be_hidden()
    await expect(page.locator("#user")).to_be_hidden()
    await context.close()


HOSTILE = (
    "Rotate keys, see [the runbook](https://runbooks.example/keys[1]) and [1].\n\n"
    "Also [this](https://e.example/a[2]\" onmouseover=\"alert(1)) and "
    "[that](https://e.example/**b**_c_) `[3]` **[2]** [q](https://e.example/?q=\"x\")\n\n"
    "<img src=x onerror=alert(1)> [x](javascript:alert(1))"
)


async def test_hostile_markdown_from_the_model_stays_inside_its_link(
    with_model: FakeOpenAIServer, browser: Browser, live_server: LiveServer,  # noqa: F811
) -> None:
    with_model.answer = HOSTILE
    context = await browser.new_context(base_url=live_server.url)
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("dialog", lambda d: (problems.append(d.message), asyncio.ensure_future(d.dismiss())))
    await page.goto("/")
    await ask(page, "How often are storage account keys rotated?")
    answer = page.locator("article.message.assistant .body").last
    await expect(answer).to_contain_text("Rotate keys")
    links = await answer.locator("a").evaluate_all(
        "els => els.map(a => [a.getAttribute('href'), a.getAttributeNames().sort(),"
        " a.textContent])")
    assert links == [
        ["https://runbooks.example/keys[1]", ["href", "rel", "target"], "the runbook"],
        ["https://e.example/**b**_c_", ["href", "rel", "target"], "that"],
        ['https://e.example/?q="x"', ["href", "rel", "target"], "q"],
    ]
    assert await answer.locator("a button, a strong, a em, img, [onmouseover]").count() == 0
    # citations outside links still become buttons; inside code they stay text
    assert await answer.locator("button.cite").count() == 3  # [1], a[2] (not a link), **[2]**
    await expect(answer.locator("code")).to_have_text("[3]")
    await expect(answer).to_contain_text('onmouseover="alert(1))')
    assert problems == []
    await context.close()
