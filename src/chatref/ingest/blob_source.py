"""Azure Blob Storage as a ``DocumentSource`` (azure-storage-blob, async).

``chatref ingest https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX/`` lists the blobs under
the prefix (the SDK follows the continuation markers), and each blob's version is its
Content-MD5 when it has one (uploads of a single block get one) or else its ETag: the ingest loop
(ingest/sources.py) downloads only blobs whose version differs from the content hash the index
holds. Emulator URLs are path-style: ``http://127.0.0.1:10000/devstoreaccount1/CONTAINER/``.

Credentials: the managed identity (``AZURE_CLIENT_ID``, DefaultAzureCredential; role Storage Blob
Data Reader) in production; ``AZURE_STORAGE_CONNECTION_STRING``'s account key for development and
Azurite only. SDK errors become ``DocumentError`` (one blob) or ``ChatrefError`` (the container)
in ``_translated``, naming the URL.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
)
from azure.storage.blob.aio import ContainerClient

from chatref.errors import ConfigurationError, DocumentError, InputError, SourceError
from chatref.ingest.sources import SourceItem
from chatref.settings import Settings


@dataclass(frozen=True)
class BlobLocation:
    """A container URL split into what the SDK needs."""

    account_url: str  # https://acct.blob.core.windows.net or http://127.0.0.1:10000/devstoreaccount1
    account_name: str
    container: str
    prefix: str

    @property
    def url(self) -> str:
        return f"{self.account_url}/{self.container}/{quote(self.prefix)}"

    def blob_url(self, name: str) -> str:
        return f"{self.account_url}/{self.container}/{quote(name)}"


def is_blob_url(text: str) -> bool:
    return text.startswith(("https://", "http://"))


def parse_blob_url(url: str) -> BlobLocation:
    """Split a container (and optional prefix) URL; path-style for IP and localhost hosts."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InputError(f"{url}: not a Blob Storage URL (https://ACCOUNT.blob.core.windows.net/"
                         "CONTAINER/PREFIX)")
    if parts.query or parts.fragment:
        raise InputError(f"{url}: give the container URL without a query (no SAS tokens: "
                         "chatref uses the managed identity)")
    segments = [unquote(s) for s in parts.path.split("/")]
    segments = segments[1:] if segments and segments[0] == "" else segments
    origin = f"{parts.scheme}://{parts.netloc}"
    if _path_style(parts.hostname):
        if len(segments) < 2 or not segments[0] or not segments[1]:
            raise InputError(f"{url}: an emulator URL is http://HOST:PORT/ACCOUNT/CONTAINER/")
        account, container, rest = segments[0], segments[1], segments[2:]
        account_url = f"{origin}/{account}"
    else:
        if parts.scheme != "https":
            raise InputError(f"{url}: Blob Storage URLs are https")
        if not segments or not segments[0]:
            raise InputError(f"{url}: no container in the URL")
        account = parts.hostname.split(".", 1)[0]
        container, rest = segments[0], segments[1:]
        account_url = origin
    return BlobLocation(account_url, account, container, "/".join(rest))


def _path_style(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _connection_key(connection_string: str) -> tuple[str, str] | None:
    fields = dict(part.split("=", 1) for part in connection_string.split(";") if "=" in part)
    if "AccountName" in fields and "AccountKey" in fields:
        return fields["AccountName"], fields["AccountKey"]
    return None


@asynccontextmanager
async def _translated(url: str, *, one_blob: bool) -> AsyncIterator[None]:
    """The one place Blob SDK errors become chatref errors naming ``url``."""
    try:
        yield
    except ResourceNotFoundError as exc:
        if one_blob:
            raise DocumentError(url, "the blob vanished while ingesting") from exc
        raise SourceError(f"{url}: the container does not exist") from exc
    except ClientAuthenticationError as exc:
        raise SourceError(f"{url}: access denied ({_reason(exc)}); the managed identity needs "
                          "Storage Blob Data Reader on the account or container") from exc
    except HttpResponseError as exc:
        if exc.status_code == 403:
            raise SourceError(f"{url}: access denied (HTTP 403); the managed identity needs "
                              "Storage Blob Data Reader on the account or container") from exc
        if one_blob:
            raise DocumentError(url, f"download failed: HTTP {exc.status_code} "
                                     f"{_reason(exc)}") from exc
        raise SourceError(f"{url}: HTTP {exc.status_code} {_reason(exc)}") from exc
    except AzureError as exc:
        if one_blob:
            raise DocumentError(url, f"download failed: {_reason(exc)}") from exc
        raise SourceError(f"{url}: cannot reach the storage account ({_reason(exc)})") from exc


def _reason(exc: AzureError) -> str:
    return str(getattr(exc, "message", None) or exc).splitlines()[0][:200]


class BlobSource:
    """The blobs under one container URL and prefix."""

    def __init__(self, location: BlobLocation, client: ContainerClient,
                 credential: Any = None, *, page_size: int | None = None) -> None:
        self.location = location
        self._client = client
        self._credential = credential
        self._page_size = page_size

    @property
    def url(self) -> str:
        return self.location.url

    async def list_items(self) -> list[SourceItem]:
        items = []
        async with _translated(self.url, one_blob=False):
            blobs = self._client.list_blobs(name_starts_with=self.location.prefix or None,
                                            results_per_page=self._page_size)
            async for blob in blobs:
                md5 = blob.content_settings.content_md5 if blob.content_settings else None
                version = f"md5:{bytes(md5).hex()}" if md5 else f"etag:{blob.etag.strip(chr(34))}"
                items.append(SourceItem(url=self.location.blob_url(blob.name), name=blob.name,
                                        version=version, size=int(blob.size or 0)))
        return items

    async def read(self, item: SourceItem) -> bytes:
        """The blob's bytes (the ingest loop checks the size limit on the listed size first)."""
        async with _translated(item.url, one_blob=True):
            downloader = await self._client.download_blob(item.name)
            return bytes(await downloader.readall())

    async def aclose(self) -> None:
        await self._client.close()
        close = getattr(self._credential, "close", None)
        if close is not None:
            await close()


def open_blob_source(url: str, settings: Settings, *, page_size: int | None = None
                     ) -> BlobSource:
    """A source for ``url``, authenticated as Settings say (see the module docstring)."""
    location = parse_blob_url(url)
    credential: Any
    connection = settings.azure_storage_connection_string
    key = _connection_key(connection.get_secret_value()) if connection else None
    if key is not None:
        if key[0] != location.account_name:
            raise ConfigurationError(
                f"AZURE_STORAGE_CONNECTION_STRING is for account {key[0]}, not "
                f"{location.account_name} ({url})")
        credential = {"account_name": key[0], "account_key": key[1]}
        client = ContainerClient(location.account_url, location.container, credential=credential)
        return BlobSource(location, client, page_size=page_size)
    from chatref.azure_credentials import default_async_credential

    credential = default_async_credential(settings.azure_client_id)
    client = ContainerClient(location.account_url, location.container, credential=credential)
    return BlobSource(location, client, credential, page_size=page_size)


def configured_container_url(settings: Settings) -> str | None:
    """AZURE_STORAGE_BLOB_ENDPOINT + AZURE_STORAGE_CONTAINER, when both are set."""
    if settings.azure_storage_blob_endpoint and settings.azure_storage_container:
        return (f"{settings.azure_storage_blob_endpoint.rstrip('/')}/"
                f"{settings.azure_storage_container}/")
    return None
