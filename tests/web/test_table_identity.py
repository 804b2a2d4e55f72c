"""The production path of the Table store, end to end: `chatref serve` with only
AZURE_STORAGE_TABLE_ENDPOINT and AZURE_CLIENT_ID (no key, no connection string) gets Entra ID
tokens from App Service's managed-identity endpoint (a local double) and uses them with Azurite
over HTTPS (its OAuth check: issuer, audience, lifetime)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fakes.azurite import start_azurite
from tests.fakes.managed_identity import managed_identity_server, self_signed_certificate

from .conftest import parse_sse

pytestmark = pytest.mark.timeout(180)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_reaches_table_storage_with_the_managed_identity(
    indexed: Path, tmp_path: Path
) -> None:
    cert, key = self_signed_certificate(tmp_path / "tls")
    with start_azurite(tmp_path / "azurite", ("table",), tls=(cert, key), oauth=True) as azurite, \
            managed_identity_server() as identity:
        assert azurite.table_url.startswith("https://")
        port = _free_port()
        log = tmp_path / "serve.log"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AZURE_STORAGE")},
            "CHATREF_DATA_DIR": str(indexed),
            "AZURE_STORAGE_TABLE_ENDPOINT": azurite.table_url,
            "AZURE_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
            "IDENTITY_ENDPOINT": identity.url, "IDENTITY_HEADER": "header-from-app-service",
            "SSL_CERT_FILE": str(cert),  # trust the emulator's certificate, as a real CA
        }
        with log.open("wb") as out:
            server = subprocess.Popen(
                [str(Path(sys.executable).parent / "chatref"), "serve", "--port", str(port),
                 "--log-level", "warning"],
                env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.poll() is None, log.read_text(errors="replace")[-3000:]
                assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
                time.sleep(0.2)
            events = parse_sse(httpx.post(f"{base}/api/chat", timeout=60, json={
                "messages": [{"role": "user", "content": "How long are backups kept?"}]}).text)
            assert events[-1][0] == "done"
            listed = httpx.get(f"{base}/api/conversations").json()["conversations"]
            assert [c["id"] for c in listed] == [events[0][1]["id"]]
        finally:
            server.terminate()
            server.wait(timeout=20)
    assert not (indexed / "chatref.sqlite").exists()
    assert identity.requests, "no token was requested"
    assert {r["resource"] for r in identity.requests} == {"https://storage.azure.com"}
    assert {r["client_id"] for r in identity.requests} == {"11111111-2222-3333-4444-555555555555"}
    assert {r["identity_header"] for r in identity.requests} == {"header-from-app-service"}
