"""The Blob source's production path: `chatref ingest CONTAINER_URL` with only AZURE_CLIENT_ID (no
key, no connection string) gets Entra ID tokens from App Service's managed-identity endpoint (a
local double) and lists and downloads from Azurite over HTTPS (its OAuth check)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from tests.fakes.azurite import start_azurite
from tests.fakes.managed_identity import managed_identity_server, self_signed_certificate

pytestmark = pytest.mark.timeout(240)


def test_ingest_reads_the_container_with_the_managed_identity(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path / "tls")
    with start_azurite(tmp_path / "azurite", ("blob",), tls=(cert, key), oauth=True) as azurite, \
            managed_identity_server() as identity:
        assert azurite.blob_url.startswith("https://")
        service = BlobServiceClient.from_connection_string(azurite.connection_string,
                                                           connection_verify=str(cert))
        container = service.create_container("handbook")
        container.upload_blob("keys.md", b"# Keys\n\nKeys are rotated every 30 days.\n")
        container.upload_blob("backups.md", b"# Backups\n\nBackups are kept 35 days.\n")
        service.close()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AZURE_STORAGE")},
            "AZURE_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
            "IDENTITY_ENDPOINT": identity.url, "IDENTITY_HEADER": "header-from-app-service",
            "SSL_CERT_FILE": str(cert),  # trust the emulator's certificate, as a real CA
            "CHATREF_DATA_DIR": str(tmp_path / "data"),
        }
        result = subprocess.run(
            [sys.executable, "-m", "chatref.cli", "ingest", f"{azurite.blob_url}/handbook/",
             "--json"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["counts"]["added"] == 2
    assert {f["source"] for f in report["files"]} == {
        f"{azurite.blob_url}/handbook/keys.md", f"{azurite.blob_url}/handbook/backups.md"}
    assert {r["resource"].rstrip("/") for r in identity.requests} == {"https://storage.azure.com"}
    assert {r["client_id"] for r in identity.requests} == {"11111111-2222-3333-4444-555555555555"}
