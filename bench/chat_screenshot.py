"""Take docs/screenshot.png: the chat page answering from sample documents, sources and feedback.

    .venv/bin/python bench/chat_screenshot.py [--out docs/screenshot.png]

Runs everything on 127.0.0.1 in a temporary folder: the sample documents are ingested, the fake
OpenAI server plays the model (a fixed answer), chatref is served by uvicorn, and Debian's
Chromium (driven by Playwright) asks two questions and rates the last answer.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.async_api import async_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository's tests/ package
from tests.fakes.openai_server import FakeOpenAIServer  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DOCS = {
    "key-rotation.md": (
        "# Key rotation\n\nStorage account keys are rotated every 30 days by the platform team. "
        "Each rotation is logged in the change calendar.\n\n## Emergency rotation\n\nIf a key "
        "leaks, renew it at once with `az storage account keys renew` and tell the security "
        "team.\n"
    ),
    "backups.md": "# Backups\n\nBackups run nightly at 02:00 UTC and are kept for 35 days in a "
                  "geo-redundant vault.\n",
}
QUESTION = "How are storage keys rotated, and what if one leaks?"
ANSWER = (
    "Storage account keys are rotated **every 30 days** by the platform team, and each rotation "
    "is logged in the change calendar [{routine}].\n\nIf a key leaks:\n\n"
    "- renew it at once with `az storage account keys renew` [{emergency}];\n"
    "- tell the security team [{emergency}]."
)


def serve(port: int) -> uvicorn.Server:
    from chatref.web.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port,
                                           log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server


async def shoot(url: str, out: Path) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                   args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1200, "height": 760})
        await page.goto(url)
        for question in ("How long are backups kept?", QUESTION):
            await page.get_by_role("button", name="+ New chat").click()
            await page.get_by_label("Your question").fill(question)
            await page.keyboard.press("Enter")
            await page.get_by_role("button", name="Send").wait_for()
        await page.get_by_role("button", name="Helpful", exact=True).click()
        await page.mouse.move(0, 0)
        await page.screenshot(path=str(out))
        await browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshot.png"))
    args = parser.parse_args()
    out = args.out.resolve()
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAIServer() as fake:
        os.chdir(tmp)  # sources are shown as ingested: docs/...
        docs = Path("docs")
        docs.mkdir()
        for name, text in DOCS.items():
            (docs / name).write_text(text, encoding="utf-8")
        os.environ.update(CHATREF_DATA_DIR=str(Path(tmp) / "data"),
                          OPENAI_BASE_URL=fake.openai_base_url, OPENAI_API_KEY="fake",
                          OPENAI_MODEL="gpt-4o")
        from chatref.app import build_services
        from chatref.ingest.pipeline import ingest_paths
        from chatref.settings import Settings

        async def ingest() -> str:
            """Index the documents; number the fixed answer's citations as retrieval will."""
            services = build_services(Settings())
            try:
                await ingest_paths([docs], services.index, services.embedder)
                passages = await services.retriever.search(QUESTION, top_k=5)
            finally:
                await services.aclose()
            number = {("routine" if "30 days" in p.text else "emergency"): n
                      for n, p in reversed(list(enumerate(passages, start=1)))
                      if "30 days" in p.text or "leaks" in p.text}
            return ANSWER.format(**number)

        fake.answer = asyncio.run(ingest())
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = serve(port)
        try:
            asyncio.run(shoot(f"http://127.0.0.1:{port}/", out))
        finally:
            server.should_exit = True
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
