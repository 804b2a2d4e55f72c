"""The chat page in Debian's Chromium, driven by Playwright's Python client (no browser download).

Skipped only where /usr/bin/chromium is missing; `make test` installs it
(scripts/install-browser.sh).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.fakes.openai_server import FakeOpenAIServer

from .conftest import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed"),
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                    args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser, live_server: LiveServer) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=live_server.url)
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    external: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(live_server.url)
            else external.append(r.url))
    await page.goto("/")
    yield page
    await context.close()
    assert problems == []
    assert external == []  # nothing from the internet


async def ask(page: Page, question: str) -> None:
    await page.get_by_label("Your question").fill(question)
    await page.keyboard.press("Enter")  # Enter sends
    await expect(page.get_by_role("button", name="Send")).to_be_visible(timeout=30_000)


async def test_ask_read_the_cited_passage_and_come_back(page: Page) -> None:
    await ask(page, "How long are backups kept?")
    answer = page.locator("article.message.assistant").last
    await expect(answer).to_contain_text("Extractive answer")
    await expect(answer).to_contain_text("35 days")
    await expect(page.locator("#mode")).to_have_text("extractive answers")
    cite = answer.locator("button.cite").first
    await expect(cite).to_be_enabled()
    await cite.click()
    dialog = page.locator("#source-dialog")
    await expect(dialog).to_be_visible()
    await expect(page.locator("#source-location")).to_contain_text("backups.md")
    await expect(page.locator("#source-text")).to_contain_text("geo-redundant vault")
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    # the conversation appears in the list, titled by the question
    await expect(page.locator(".conversation-open").first).to_have_text(
        "How long are backups kept?")
    # Markdown rendered: the extractive label in emphasis, the cited sentence with its button
    await expect(answer.locator("em").first).to_contain_text("Extractive answer")
    await expect(answer.locator("p button.cite").first).to_be_visible()


async def test_html_in_documents_is_shown_as_text_never_run(page: Page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), asyncio.ensure_future(d.dismiss())))
    await ask(page, "What does the visitor policy say about reception and the script?")
    answer = page.locator("article.message.assistant").last
    await expect(answer).to_contain_text("Visitors sign in at reception")
    await expect(answer).to_contain_text("<script>alert('pwned')</script>")
    assert await page.locator(".messages script").count() == 0
    await answer.locator("button.cite").first.click()
    await expect(page.locator("#source-text")).to_contain_text("<script>")
    assert await page.locator("dialog script").count() == 0
    assert dialogs == []


async def test_the_markdown_renderer_escapes_everything_first(page: Page) -> None:
    html = await page.evaluate("""() => window.chatrefMarkdown.renderMarkdown(
        '<img src=x onerror=alert(1)> **bold** [link](javascript:alert(1)) ' +
        '[site](https://a.b/?q="x")\\n' +
        '```\\n<b>code</b>\\n```\\n- <i>item</i> [2]')""")
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<strong>bold</strong>" in html
    assert 'href="javascript' not in html
    assert 'href="https://a.b/?q=&quot;x&quot;"' in html
    assert "<pre><code>&lt;b&gt;code&lt;/b&gt;</code></pre>" in html
    assert "<li>&lt;i&gt;item&lt;/i&gt; <button" in html and 'data-n="2"' in html


async def test_rename_and_delete_conversations_with_the_keyboard(
    page: Page, live_server: LiveServer,
) -> None:
    await ask(page, "Who rotates the keys?")
    await page.get_by_role("button", name="+ New chat").click()
    await expect(page.locator("#welcome")).to_be_visible()
    await ask(page, "How long are backups kept?")
    items = page.locator(".conversation-open")
    await expect(items).to_have_count(2)
    await page.get_by_role("button", name="Rename “Who rotates the keys?”").focus()
    await page.keyboard.press("Enter")
    title = page.get_by_label("New title (Enter saves, Escape cancels)")
    await title.fill("Key rotation")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("button", name="Key rotation", exact=True)).to_be_visible()
    page.once("dialog", lambda d: asyncio.ensure_future(d.accept()))
    await page.get_by_role("button", name="Delete “Key rotation”").click()
    await expect(items).to_have_count(1)
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        listed = (await http.get("/api/conversations")).json()["conversations"]
    assert [c["title"] for c in listed] == ["How long are backups kept?"]
    # reopening a conversation from the list shows its stored messages
    await page.get_by_role("button", name="+ New chat").click()
    await items.first.click()
    await expect(page.locator("article.message.user")).to_have_text(["How long are backups kept?"])
    await expect(page.locator("article.message.assistant")).to_contain_text(["35 days"])


async def test_feedback_is_sent_to_the_server(page: Page, live_server: LiveServer) -> None:
    await ask(page, "How long are backups kept?")
    await page.get_by_role("button", name="Not helpful").click()
    comment = page.get_by_label("Feedback comment")
    await comment.fill("quote the vault name")
    await comment.press("Enter")
    await expect(page.locator("#status")).to_have_text("Thanks for the feedback.")
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        conversation = (await http.get("/api/conversations")).json()["conversations"][0]
        detail = (await http.get(f"/api/conversations/{conversation['id']}")).json()
    feedback = detail["messages"][1]["feedback"]
    assert feedback["rating"] == "down" and feedback["comment"] == "quote the vault name"
    await expect(page.get_by_role("button", name="Not helpful")).to_have_attribute(
        "aria-pressed", "true")


async def test_stop_ends_a_streaming_answer(
    with_model: FakeOpenAIServer, page: Page, live_server: LiveServer,
) -> None:
    with_model.answer = " ".join(f"w{n}" for n in range(300))
    with_model.state.tokens_per_s = 40
    await page.get_by_label("Your question").fill("talk for a while")
    await page.get_by_role("button", name="Send").click()
    answer = page.locator("article.message.assistant").last
    await expect(answer).to_contain_text("w3")
    await page.get_by_role("button", name="Stop").click()
    await expect(page.locator("#status")).to_have_text("Stopped.")
    await expect(answer).to_contain_text("Stopped before the answer was complete.")
    await expect(page.get_by_role("button", name="Send")).to_be_visible()
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        deadline = time.monotonic() + 10
        while True:  # the stopped turn is stored once the server notices the hang-up
            listed = (await http.get("/api/conversations")).json()["conversations"]
            if listed and listed[0]["message_count"] == 2:
                conversation = listed[0]
                break
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        detail = (await http.get(f"/api/conversations/{conversation['id']}")).json()
    assert detail["messages"][1]["status"] == "stopped"
    assert "w299" not in detail["messages"][1]["content"]


async def test_readable_on_a_phone(browser: Browser, live_server: LiveServer) -> None:
    context = await browser.new_context(base_url=live_server.url,
                                        viewport={"width": 360, "height": 740},
                                        device_scale_factor=2, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await page.goto("/")
    await expect(page.locator("#sidebar")).to_be_hidden()
    await ask(page, "How long are backups kept?")
    await expect(page.locator("article.message.assistant")).to_contain_text("35 days")
    overflow = await page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    font_px = await page.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('.message .body')).fontSize)")
    assert font_px >= 14
    menu = page.get_by_role("button", name="Show conversations")
    await menu.click()
    await expect(page.locator("#sidebar")).to_be_visible()
    await expect(page.locator(".conversation-open")).to_have_count(1)
    await context.close()


async def test_the_api_docs_render_offline(page: Page) -> None:
    await page.goto("/docs")
    await expect(page.get_by_text("/api/chat", exact=True)).to_be_visible(timeout=30_000)
    await expect(page.get_by_text("/v1/chat/completions", exact=True)).to_be_visible()
