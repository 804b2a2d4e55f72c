"""The image, built with `make image`'s script and run as documented: non-root, read-only root
file system, a data volume, no settings. It must index its bundled docs (seeded at build time)
and answer extractively with citations."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.container.podman import (
    Container,
    build_image,
    podman,
    podman_unavailable,
    running,
)

pytestmark = pytest.mark.timeout(1800)
BUILD = "container-test-1"  # what the image is named after (the release passes its commit)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    reason = podman_unavailable()
    if reason:
        pytest.skip(reason)
    tag = f"localhost/chatref:test-{uuid.uuid4().hex[:10]}"
    build_image(tag, build=BUILD)
    try:
        yield tag
    finally:
        podman("rmi", "--force", tag, check=False)


@pytest.fixture(scope="module")
def container(image: str) -> Iterator[Container]:
    with running(image, _free_port()) as started:
        started.wait_ready()
        yield started


def _chat(url: str, question: str) -> dict[str, object]:
    events: dict[str, object] = {"text": ""}
    event = ""
    with httpx.stream("POST", f"{url}/api/chat", timeout=60.0,
                      json={"messages": [{"role": "user", "content": question}]}) as response:
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
                if event == "delta":
                    events["text"] = str(events["text"]) + data["text"]
                else:
                    events[event] = data
    return events


def test_container_answers_from_its_bundled_docs_with_citations(container: Container) -> None:
    answer = _chat(container.url, "How do I run chatref locally?")
    assert "error" not in answer, answer
    done = answer["done"]
    assert isinstance(done, dict) and done["mode"] == "extractive"
    citations = answer["citations"]
    assert isinstance(citations, list) and citations, answer
    sources = {c["source"] for c in citations}
    assert any(s.startswith("/opt/chatref/docs/") for s in sources), sources
    text = str(answer["text"])
    assert all(f"[{c['id']}]" in text for c in citations), (text, citations)


def test_container_names_its_build_in_readiness_and_its_label(
        image: str, container: Container) -> None:
    ready = httpx.get(f"{container.url}/health/ready", timeout=10.0).json()  # local: operator
    assert ready["status"] == "ready" and ready["build"] == BUILD, ready
    labels = json.loads(podman("image", "inspect", image))[0]["Labels"]
    assert labels["org.opencontainers.image.revision"] == BUILD


def test_the_vector_graph_builds_and_searches_inside_the_image(container: Container) -> None:
    """The HNSW graph (usearch and its numkong kernels, whose debug sections the wheelhouse
    strips) loads and answers, as an index past 20,000 chunks needs."""
    done = container.exec("python3", "-c", (
        "import numpy as np\n"
        "from chatref.retrieval.ann import VectorAnn\n"
        "rng = np.random.default_rng(0)\n"
        "v = rng.standard_normal((300, 16)).astype(np.float32)\n"
        "v /= np.linalg.norm(v, axis=1, keepdims=True)\n"
        "ann = VectorAnn(dimension=16, exact_search_below=100)\n"
        "ann.add(np.arange(300), v)\n"
        "ids, _ = ann.search(v[7:8], 3)\n"
        "print(ann.has_graph, int(ids[0]))\n"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "7"], done.stdout


def test_container_runs_as_non_root_on_a_read_only_root(container: Container) -> None:
    uid = container.exec("id", "-u")
    assert uid.returncode == 0 and uid.stdout.strip() not in ("", "0"), uid
    read_only = container.exec("touch", "/opt/chatref/x")
    assert read_only.returncode != 0 and "Read-only file system" in read_only.stderr
    listing = container.exec("ls", "/home/chatref/data")
    assert "index.sqlite" in listing.stdout and "chatref.sqlite" in listing.stdout, listing


def test_local_mode_listens_on_loopback_only(container: Container) -> None:
    listening = container.exec(
        "python3", "-c",
        "print(open('/proc/net/tcp').read() + open('/proc/net/tcp6').read())",
    )
    port = int(container.url.rsplit(":", 1)[1])
    rows = [line.split() for line in listening.stdout.splitlines()[1:] if line.strip()]
    listen = [r[1] for r in rows if len(r) > 3 and r[3] == "0A"
              and int(r[1].rsplit(":", 1)[1], 16) == port]
    assert listen == ["0100007F:" + f"{port:04X}"], listen  # 127.0.0.1, not 0.0.0.0
    assert "auth mode 'local'" in container.logs()
