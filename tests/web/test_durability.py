"""Acknowledged turns survive kill -9; a client that hangs up leaves a stopped partial answer."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fakes.openai_server import FakeOpenAIServer

from .conftest import LiveServer, parse_sse

pytestmark = pytest.mark.timeout(120)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_acknowledged_turn_survives_kill_9(indexed: Path) -> None:
    port = _free_port()
    chatref = Path(sys.executable).parent / "chatref"
    server = subprocess.Popen(
        [str(chatref), "serve", "--port", str(port), "--log-level", "warning"],
        env={**os.environ, "CHATREF_DATA_DIR": str(indexed)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline, "chatref serve did not start"
            time.sleep(0.1)
        acknowledged = []
        for question in ("How long are backups kept?", "Who rotates the keys?"):
            response = httpx.post(f"{base}/api/chat", timeout=30,
                                  json={"messages": [{"role": "user", "content": question}]})
            events = parse_sse(response.text)
            assert events[-1][0] == "done"  # the acknowledgement
            acknowledged.append((events[0][1]["id"], events[-1][1]["message_id"]))
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        if server.stderr:
            server.stderr.close()
    assert server.returncode == -signal.SIGKILL
    conn = sqlite3.connect(indexed / "chatref.sqlite")
    try:
        for conversation_id, message_id in acknowledged:
            rows = conn.execute(
                "SELECT id, role, status FROM messages WHERE conversation_id = ? ORDER BY seq",
                (conversation_id,),
            ).fetchall()
            assert [(r[1], r[2]) for r in rows] == [("user", "complete"),
                                                    ("assistant", "extractive")]
            assert rows[1][0] == message_id
    finally:
        conn.close()


async def test_a_client_that_hangs_up_leaves_a_stopped_partial_answer(
    with_model: FakeOpenAIServer, live_server: LiveServer,
) -> None:
    with_model.answer = " ".join(f"word{n}" for n in range(200))
    with_model.state.tokens_per_s = 50
    conversation_id = None
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        async with http.stream(
            "POST", "/api/chat", json={"messages": [{"role": "user", "content": "talk"}]}
        ) as response:
            buffer = ""
            async for text in response.aiter_text():
                buffer += text
                events = parse_sse(buffer.rsplit("\n\n", 1)[0]) if "\n\n" in buffer else []
                if any(name == "delta" for name, _ in events):
                    conversation_id = events[0][1]["id"]
                    break  # leaving the block closes the connection: the stop button
        assert conversation_id is not None
        deadline = time.monotonic() + 10
        while True:  # the stopped turn is stored once the server notices the hang-up
            response = await http.get(f"/api/conversations/{conversation_id}")
            detail = response.json()
            if response.status_code == 200 and detail["message_count"] == 2:
                break
            assert time.monotonic() < deadline, "the partial answer was not stored"
            await asyncio.sleep(0.05)
    answer = detail["messages"][1]
    assert answer["status"] == "stopped"
    assert answer["content"].startswith("word0") and "word199" not in answer["content"]
    # the model's stream was abandoned too: the fake saw its client go away long before the end
    assert json.dumps(answer).count("word") < 150
