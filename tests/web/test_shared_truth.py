"""Instances share one truth: two real `chatref serve` processes, each with its own data folder
(its own local index, nothing shared on disk), on one Azure Table Storage (Azurite).

A conversation started on one continues on the other and both list it; kill -9 of one in the
middle of a stream loses no acknowledged turn, and the other carries on.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.fakes.azurite import Azurite, azurite  # noqa: F401
from tests.fakes.openai_server import FakeOpenAIServer

from .conftest import parse_sse

pytestmark = pytest.mark.timeout(240)


@dataclass
class Instance:
    url: str
    process: subprocess.Popen[bytes]
    data_dir: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(instance: Instance, log: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{instance.url}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert instance.process.poll() is None, log.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, "chatref serve did not become ready"
        time.sleep(0.2)


@pytest.fixture
def two_instances(
    indexed: Path, tmp_path: Path, azurite: Azurite, with_model: FakeOpenAIServer,  # noqa: F811
) -> Iterator[tuple[Instance, Instance]]:
    """Instances A and B: own data folders (a copy of the index each), one table, one model."""
    table = azurite.unique_name("shared")
    chatref = Path(sys.executable).parent / "chatref"
    instances: list[Instance] = []
    logs = []
    try:
        for name in ("a", "b"):
            data_dir = tmp_path / f"instance-{name}"
            shutil.copytree(indexed, data_dir)
            port = _free_port()
            log = tmp_path / f"instance-{name}.log"
            logs.append(log)
            env = {
                **os.environ,
                "CHATREF_DATA_DIR": str(data_dir),
                "AZURE_STORAGE_TABLE_ENDPOINT": azurite.table_url,
                "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
                "CHATREF_CONVERSATIONS_TABLE": table,
            }
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [str(chatref), "serve", "--port", str(port), "--log-level", "warning"],
                    env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                )
            instances.append(Instance(f"http://127.0.0.1:{port}", process, data_dir))
        for instance, log in zip(instances, logs, strict=True):
            _wait_ready(instance, log)
        yield instances[0], instances[1]
    finally:
        for instance in instances:
            if instance.process.poll() is None:
                instance.process.terminate()
                try:
                    instance.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    instance.process.kill()
                    instance.process.wait()


def _chat(base: str, question: str, conversation_id: str | None = None) -> list[tuple[str, dict]]:
    body: dict[str, object] = {"messages": [{"role": "user", "content": question}]}
    if conversation_id:
        body["conversation_id"] = conversation_id
    response = httpx.post(f"{base}/api/chat", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return parse_sse(response.text)


def test_a_conversation_started_on_one_instance_continues_on_the_other(
    two_instances: tuple[Instance, Instance], with_model: FakeOpenAIServer,
) -> None:
    a, b = two_instances
    first = _chat(a.url, "How long are backups kept?")
    assert first[-1][0] == "done"
    conversation_id = first[0][1]["id"]
    second = _chat(b.url, "And who rotates the keys?", conversation_id)
    assert second[-1][0] == "done"
    # B answered with A's turn as history: it read the conversation from the shared table.
    assert "How long are backups kept?" in with_model.last_request.prompt_text
    for instance in (a, b):
        listed = httpx.get(f"{instance.url}/api/conversations").json()["conversations"]
        assert [(c["id"], c["message_count"]) for c in listed] == [(conversation_id, 4)]
        detail = httpx.get(f"{instance.url}/api/conversations/{conversation_id}").json()
        assert [m["content"] for m in detail["messages"][::2]] == [
            "How long are backups kept?", "And who rotates the keys?"]
    # A rename on B is seen by A; nothing was written to either local disk.
    httpx.patch(f"{b.url}/api/conversations/{conversation_id}", json={"title": "Ops"})
    assert httpx.get(f"{a.url}/api/conversations/{conversation_id}").json()["title"] == "Ops"
    for instance in (a, b):
        assert not (instance.data_dir / "chatref.sqlite").exists()


def test_kill_9_mid_stream_loses_no_acknowledged_turn(
    two_instances: tuple[Instance, Instance], with_model: FakeOpenAIServer,
) -> None:
    a, b = two_instances
    acknowledged = _chat(a.url, "How long are backups kept?")
    assert acknowledged[-1][0] == "done"
    conversation_id = acknowledged[0][1]["id"]
    answer_id = acknowledged[-1][1]["message_id"]

    with_model.answer = " ".join(f"word{n}" for n in range(400))
    with_model.state.tokens_per_s = 40  # ten seconds of stream: killed long before the end
    body = {"messages": [{"role": "user", "content": "Tell me everything."}],
            "conversation_id": conversation_id}
    with httpx.stream("POST", f"{a.url}/api/chat", json=body, timeout=60) as response:
        for text in response.iter_text():
            if "event: delta" in text:
                a.process.send_signal(signal.SIGKILL)
                break
    a.process.wait(timeout=10)
    assert a.process.returncode == -signal.SIGKILL

    detail = httpx.get(f"{b.url}/api/conversations/{conversation_id}").json()
    assert [(m["role"], m["id"]) for m in detail["messages"]][1] == ("assistant", answer_id)
    assert len(detail["messages"]) == 2  # the unacknowledged turn is absent, not half-written
    assert detail["messages"][0]["content"] == "How long are backups kept?"

    with_model.answer = "Backups are kept for 35 days [1]."
    with_model.state.tokens_per_s = None
    carried_on = _chat(b.url, "Still there?", conversation_id)
    assert carried_on[-1][0] == "done"
    listed = httpx.get(f"{b.url}/api/conversations").json()["conversations"]
    assert [(c["id"], c["message_count"]) for c in listed] == [(conversation_id, 4)]
