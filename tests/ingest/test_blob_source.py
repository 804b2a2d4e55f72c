"""Blob Storage as a document source, against Azurite: listing, incremental, prune, bad blobs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient, ContentSettings

from chatref.errors import InputError
from chatref.ingest.blob_source import BlobSource, open_blob_source, parse_blob_url
from chatref.ingest.pipeline import PIPELINE_VERSION
from chatref.ingest.sources import ingest_source
from chatref.retrieval.embedder import WordLlamaEmbedder
from chatref.retrieval.sqlite_index import SqliteIndex
from chatref.settings import Settings
from tests.fakes.azurite import Azurite, azurite  # noqa: F401
from tests.ingest import documents


def test_container_urls_are_split_host_style_or_path_style() -> None:
    cloud = parse_blob_url("https://acct.blob.core.windows.net/docs/guides/2024/")
    assert (cloud.account_url, cloud.account_name, cloud.container, cloud.prefix) == (
        "https://acct.blob.core.windows.net", "acct", "docs", "guides/2024/")
    emulator = parse_blob_url("http://127.0.0.1:10000/devstoreaccount1/docs")
    assert (emulator.account_url, emulator.container, emulator.prefix) == (
        "http://127.0.0.1:10000/devstoreaccount1", "docs", "")
    assert emulator.blob_url("a b/c.md") == (
        "http://127.0.0.1:10000/devstoreaccount1/docs/a%20b/c.md")


@pytest.mark.parametrize("url, fragment", [
    ("https://acct.blob.core.windows.net/docs/?sv=2024&sig=secret", "no SAS"),
    ("http://acct.blob.core.windows.net/docs/", "are https"),
    ("https://acct.blob.core.windows.net/", "no container"),
    ("http://127.0.0.1:10000/devstoreaccount1/", "emulator URL"),
])
def test_bad_container_urls_are_named(url: str, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment) as caught:
        parse_blob_url(url)
    assert "secret" not in caught.value.message or "?" in url


@pytest.fixture
def container(azurite: Azurite) -> Iterator[ContainerClient]:  # noqa: F811
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    client = service.create_container(azurite.unique_name("docs"))
    yield client
    client.delete_container()
    service.close()


def upload_good(container: ContainerClient, tmp_path: Path, prefix: str = "") -> list[str]:
    names = []
    for path in documents.write_all_good(tmp_path / "good").values():
        container.upload_blob(prefix + path.name, path.read_bytes())
        names.append(prefix + path.name)
    return names


def source_for(container: ContainerClient, azurite: Azurite, prefix: str = "",  # noqa: F811
               page_size: int | None = None) -> BlobSource:
    settings = Settings(azure_storage_connection_string=azurite.connection_string)
    return open_blob_source(f"{azurite.blob_url}/{container.container_name}/{prefix}", settings,
                            page_size=page_size)


async def test_ingest_lists_with_paging_skips_unchanged_and_prunes(
    container: ContainerClient, azurite: Azurite, tmp_path: Path,  # noqa: F811
    index: SqliteIndex, embedder: WordLlamaEmbedder,
) -> None:
    names = upload_good(container, tmp_path, prefix="guides/")
    container.upload_blob("elsewhere/notes.md", b"# Elsewhere\n\nnot under the prefix\n")
    container.upload_blob("guides/picture.png", b"\x89PNG not a document")
    source = source_for(container, azurite, "guides/", page_size=2)  # 6 blobs: 3 pages
    try:
        first = await ingest_source(source, index, embedder, parse_workers=1)
        assert first.counts["added"] == len(names) and first.counts["failed"] == 0
        urls = {o.source for o in first.outcomes}
        assert urls == {f"{azurite.blob_url}/{container.container_name}/{n}" for n in names}
        indexed = await index.known_documents()
        assert set(indexed) == urls
        assert all(v.startswith((f"p{PIPELINE_VERSION}:md5:", f"p{PIPELINE_VERSION}:etag:"))
                   for v in indexed.values())

        second = await ingest_source(source, index, embedder, parse_workers=1)
        assert second.counts["unchanged"] == len(names) and second.counts["added"] == 0

        container.upload_blob("guides/" + Path(names[0]).name, b"# Changed\n\nnew text here\n",
                              overwrite=True)
        container.delete_blob(names[1])
        third = await ingest_source(source, index, embedder, prune=True, parse_workers=1)
        assert third.counts["updated"] == 1 and third.counts["removed"] == 1
        assert third.counts["unchanged"] == len(names) - 2
    finally:
        await source.aclose()
    hits = await index.keyword_search("new text here", 3)
    assert hits[0].source.endswith("/guides/" + Path(names[0]).name)
    assert hits[0].source.startswith("http://127.0.0.1:")


async def test_blobs_stored_by_an_older_pipeline_are_read_again_once(
    container: ContainerClient, azurite: Azurite, tmp_path: Path,  # noqa: F811
    index: SqliteIndex, embedder: WordLlamaEmbedder,
) -> None:
    names = upload_good(container, tmp_path)
    source = source_for(container, azurite)
    try:
        await ingest_source(source, index, embedder, parse_workers=1)
        with index._conn:  # before PIPELINE_VERSION 2 the blob's own version was stored as is
            index._conn.execute("UPDATE documents SET content_hash = substr(content_hash, ?)",
                                (len(f"p{PIPELINE_VERSION}:") + 1,))
        known = await index.known_documents()
        assert all(v.startswith(("md5:", "etag:")) for v in known.values())
        again = await ingest_source(source, index, embedder, parse_workers=1)
        assert again.counts["updated"] == len(names) and again.counts["unchanged"] == 0
        third = await ingest_source(source, index, embedder, parse_workers=1)
        assert third.counts["unchanged"] == len(names) and third.chunks_written == 0
    finally:
        await source.aclose()


async def test_a_blob_without_content_md5_is_versioned_by_its_etag(
    container: ContainerClient, azurite: Azurite, index: SqliteIndex,  # noqa: F811
    embedder: WordLlamaEmbedder,
) -> None:
    blob = container.upload_blob("a.md", b"# A\n\nalpha text\n")
    blob.set_http_headers(ContentSettings(content_type="text/markdown", content_md5=None))
    source = source_for(container, azurite)
    try:
        items = await source.list_items()
        assert items[0].version.startswith("etag:")
        report = await ingest_source(source, index, embedder, parse_workers=1)
        assert report.counts["added"] == 1
    finally:
        await source.aclose()


async def test_bad_blobs_are_reported_by_url_and_the_rest_is_indexed(
    container: ContainerClient, azurite: Azurite, tmp_path: Path,  # noqa: F811
    index: SqliteIndex, embedder: WordLlamaEmbedder,
) -> None:
    upload_good(container, tmp_path)
    bad = documents.write_all_bad(tmp_path / "bad")
    for path in bad.values():
        if path.is_file() and not path.is_symlink():
            container.upload_blob(path.name, path.read_bytes())
    source = source_for(container, azurite)
    try:
        report = await ingest_source(source, index, embedder, parse_workers=1)
    finally:
        await source.aclose()
    assert report.counts["added"] == 5
    assert report.failures
    for failure in report.failures:
        assert failure.source.startswith(f"{azurite.blob_url}/{container.container_name}/")
        assert failure.reason


async def test_a_missing_container_is_one_failure_naming_it(
    azurite: Azurite, index: SqliteIndex, embedder: WordLlamaEmbedder,  # noqa: F811
) -> None:
    settings = Settings(azure_storage_connection_string=azurite.connection_string)
    url = f"{azurite.blob_url}/{azurite.unique_name('nothere')}/"
    source = open_blob_source(url, settings)
    try:
        report = await ingest_source(source, index, embedder)
    finally:
        await source.aclose()
    assert [(o.source, o.status) for o in report.outcomes] == [(source.url, "failed")]
    assert "does not exist" in (report.outcomes[0].reason or "")


def test_the_cli_ingests_a_container_url_and_the_configured_container(
    container: ContainerClient, azurite: Azurite, tmp_path: Path,  # noqa: F811
) -> None:
    upload_good(container, tmp_path)
    container.upload_blob("broken.pdf", b"%PDF-1.4 this is not really a pdf")
    env = {**os.environ, "COLUMNS": "200",
           "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string}
    url = f"{azurite.blob_url}/{container.container_name}/"
    result = subprocess.run([sys.executable, "-m", "chatref.cli", "ingest", url, "--json"],
                            cwd=tmp_path, capture_output=True, text=True, env=env, timeout=180)
    assert result.returncode == 1, result.stderr  # one bad blob
    report = json.loads(result.stdout)
    assert report["counts"]["added"] == 5 and report["counts"]["failed"] == 1
    failed = [f for f in report["files"] if f["status"] == "failed"]
    assert failed[0]["source"] == url + "broken.pdf"

    env.update(AZURE_STORAGE_BLOB_ENDPOINT=azurite.blob_url,
               AZURE_STORAGE_CONTAINER=container.container_name)
    again = subprocess.run([sys.executable, "-m", "chatref.cli", "ingest", "--json"],
                           cwd=tmp_path, capture_output=True, text=True, env=env, timeout=180)
    counts = json.loads(again.stdout)["counts"]
    assert counts["unchanged"] == 5 and counts["failed"] == 1
