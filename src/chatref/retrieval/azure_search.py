"""Azure AI Search as the ``SearchIndex`` (search and write), with the official async SDK.

One search is one request: text and a vector query together, which the service fuses itself
(reciprocal-rank fusion), plus the semantic ranker when configured; only the fields a passage
needs are selected. The index schema is chatref's (``index_definition``): created on
``ensure_schema`` (``chatref index create``, and the first ingest), checked on first use.

Which embedder built the index is recorded in the schema itself, as the name of the vector
field's search profile (``chatref-<embedder>``) beside the field's dimensions (API 2024-07-01 has
no index description); another embedder is an ``EmbedderMismatchError``.

Writes are buffered and sent in batches of at most 1,000 actions and 16 MB (the service's
limits); a 207 partial failure retries only the failed keys, and 429/503 answers back off
(Retry-After honoured, by the SDK's retry policy). The service has no transactions: a document's
new version is written whole (its keys carry a version) before the old version's chunks are
deleted, so a reader sees the old version, briefly both, or the new one, never half of one.

Every SDK error is translated to chatref's errors in one place, ``_translated``.

For example (an illustration, not run as a doctest)::

    index = AzureSearchIndex(endpoint, "chatref", credential, embedder_name="wordllama/l2_supercat",
                             dimension=256)
    await index.ensure_schema()
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from azure.core.credentials import AzureKeyCredential
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.rest import HttpRequest
from azure.search.documents.aio import SearchClient
from azure.search.documents.indexes.aio import SearchIndexClient
from azure.search.documents.indexes.models import (
    HnswAlgorithmConfiguration,
    HnswParameters,
    SearchField,
    SearchIndex,
    SemanticConfiguration,
    SemanticField,
    SemanticPrioritizedFields,
    SemanticSearch,
    VectorSearch,
    VectorSearchProfile,
)

from chatref.errors import ConfigurationError, EmbedderMismatchError, IndexError_
from chatref.retrieval.types import ChunkRecord, DocumentRecord, Embedder, Passage, Vectors
from chatref.settings import Settings

T = TypeVar("T")

API_VERSION = "2024-07-01"  # what azure-search-documents 11.5.x speaks (the fake's Swagger)

MAX_BATCH_ACTIONS = 1000
MAX_BATCH_BYTES = 16 * 1024 * 1024 - 64 * 1024  # the service's 16 MB, less room for the envelope
RETRYABLE_ITEM_STATUSES = frozenset({409, 422, 429, 500, 502, 503, 504})
SEMANTIC_CONFIGURATION = "chatref"
VECTOR_FIELD = "vector"
PASSAGE_FIELDS = ["id", "doc_id", "ordinal", "source", "title", "page", "section", "content"]
EMPTY_DOCUMENT_ORDINAL = -1  # a document with no chunks is kept as one marker row
_SIMPLE_SYNTAX = re.compile(r'[+\-|"*()\\~^&!{}\[\]:/?]')


PROFILE_PREFIX = "chatref-"


def embedder_profile(embedder_name: str) -> str:
    """The vector profile name that records the embedder, reversibly (profile names allow only
    letters, digits, ``-`` and ``_``): ``wordllama/l2_supercat`` ->
    ``chatref-wordllama--l2_supercat``.
    """
    encoded = embedder_name.replace("/", "--").replace(".", "__")
    return PROFILE_PREFIX + re.sub(r"[^A-Za-z0-9_\-]", "_", encoded)


def profile_embedder(profile: str | None) -> str:
    """The embedder name a profile records (the inverse of ``embedder_profile``)."""
    if not profile or not profile.startswith(PROFILE_PREFIX):
        return f"an unknown embedder (vector profile {profile!r})"
    return profile[len(PROFILE_PREFIX):].replace("--", "/").replace("__", ".")


def index_definition(name: str, *, embedder_name: str, dimension: int) -> SearchIndex:
    """chatref's index schema: one row per chunk, ACL fields ready for document-level security."""
    profile = embedder_profile(embedder_name)

    def text(name: str, **kw: Any) -> SearchField:
        return SearchField(name=name, type="Edm.String", **kw)

    fields = [
        text("id", key=True, filterable=True, sortable=True),
        text("doc_id", filterable=True),
        text("path", filterable=True),  # the document's identity (file path or blob URL)
        text("source", filterable=False),  # what citations show
        text("title", searchable=True, analyzer_name="en.lucene", filterable=False),
        text("section", searchable=True, analyzer_name="en.lucene", filterable=False),
        SearchField(name="page", type="Edm.Int32", filterable=False),
        SearchField(name="ordinal", type="Edm.Int32", filterable=True, sortable=True),
        text("content", searchable=True, analyzer_name="en.lucene", filterable=False),
        text("content_hash", filterable=True),
        SearchField(name=VECTOR_FIELD, type="Collection(Edm.Single)", searchable=True,
                    hidden=True, vector_search_dimensions=dimension,
                    vector_search_profile_name=profile),
        SearchField(name="oids", type="Collection(Edm.String)", filterable=True, hidden=True),
        SearchField(name="groups", type="Collection(Edm.String)", filterable=True, hidden=True),
    ]
    return SearchIndex(
        name=name,
        fields=fields,
        vector_search=VectorSearch(
            algorithms=[HnswAlgorithmConfiguration(
                name="hnsw-cosine",
                parameters=HnswParameters(m=4, ef_construction=400, ef_search=500,
                                          metric="cosine"),
            )],
            profiles=[VectorSearchProfile(name=profile,
                                          algorithm_configuration_name="hnsw-cosine")],
        ),
        semantic_search=SemanticSearch(
            default_configuration_name=SEMANTIC_CONFIGURATION,
            configurations=[SemanticConfiguration(
                name=SEMANTIC_CONFIGURATION,
                prioritized_fields=SemanticPrioritizedFields(
                    title_field=SemanticField(field_name="title"),
                    content_fields=[SemanticField(field_name="content")],
                    keywords_fields=[SemanticField(field_name="section")],
                ),
            )],
        ),
    )


def _role_for(what: str) -> str:
    """The role an identity needs for ``what`` (the operation named in ``_translated``)."""
    if what == "creating the index":
        return ("Terraform's `chatref index schema (<service>)` custom role (the search module's "
                "index_schema_role_id; prod gives it to the sync job) or Search Service "
                "Contributor")
    if what == "writing documents":
        return "Search Index Data Contributor"
    return "Search Index Data Reader (the web app) or Search Index Data Contributor (ingestion)"


@asynccontextmanager
async def _translated(what: str, where: str) -> AsyncIterator[None]:
    """The one place SDK errors become chatref errors (``what`` failed on ``where``)."""
    try:
        yield
    except (EmbedderMismatchError, IndexError_):
        raise
    except ResourceNotFoundError as exc:
        raise IndexError_(f"{what}: {where} does not exist; create it with "
                          "`chatref index create` (or run `chatref ingest`)") from exc
    except ClientAuthenticationError as exc:
        raise IndexError_(f"{what}: {where} refused the credentials ({_reason(exc)}); check the "
                          "managed identity's role (Search Index Data Reader/Contributor) or "
                          "AZURE_SEARCH_API_KEY") from exc
    except HttpResponseError as exc:
        if exc.status_code == 404:
            raise IndexError_(f"{what}: {where} does not exist; create it with "
                              "`chatref index create` (or run `chatref ingest`)") from exc
        if exc.status_code == 403:
            raise IndexError_(f"{what}: {where} answered HTTP 403 ({_reason(exc)}): the "
                              f"credential lacks the role for this: {_role_for(what)}") from exc
        raise IndexError_(f"{what}: {where} answered HTTP {exc.status_code}: "
                          f"{_reason(exc)}") from exc
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise IndexError_(f"{what}: cannot reach {where} ({_reason(exc)})") from exc
    except AzureError as exc:
        raise IndexError_(f"{what}: {where} failed ({_reason(exc)})") from exc


def _reason(exc: AzureError) -> str:
    error = getattr(exc, "error", None)
    message = getattr(error, "message", None) or exc.message or str(exc)
    return str(message).splitlines()[0][:300]


@dataclass
class _Pending:
    """Buffered index actions: new versions first, then the deletions they make possible."""

    uploads: list[dict[str, Any]] = field(default_factory=list)
    deletes: list[dict[str, Any]] = field(default_factory=list)
    upload_bytes: int = 0


class AzureSearchIndex:
    """``SearchIndex`` on an Azure AI Search index; also a ``HybridSearch`` (one request)."""

    def __init__(
        self,
        endpoint: str,
        index_name: str,
        credential: AzureKeyCredential | AsyncTokenCredential,
        *,
        embedder_name: str,
        dimension: int,
        semantic: bool = False,
        retry_total: int = 5,
        retry_backoff_s: float = 0.8,
        max_batch_actions: int = MAX_BATCH_ACTIONS,
        max_batch_bytes: int = MAX_BATCH_BYTES,
        ca_file: str | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.index_name = index_name
        self.embedder_name = embedder_name
        self.dimension = dimension
        self.semantic = semantic
        self._credential = credential
        retry: dict[str, Any] = {"retry_total": retry_total,
                                 "retry_backoff_factor": retry_backoff_s,
                                 "retry_backoff_max": 60}
        self._retry_backoff_s = retry_backoff_s
        self._item_retries = retry_total
        self._client = SearchClient(self.endpoint, index_name, credential, **retry,
                                    **_trusting(ca_file))
        self._admin = SearchIndexClient(self.endpoint, credential, **retry, **_trusting(ca_file))
        self._max_actions = max_batch_actions
        self._max_bytes = max_batch_bytes
        self._pending = _Pending()
        self._known_paths: set[str] | None = None
        self._checked = False
        self._check_lock = asyncio.Lock()
        self._where = f"Azure AI Search index {index_name!r} at {self.endpoint}"

    @property
    def backend(self) -> dict[str, str]:
        return {"kind": "azure-ai-search", "index": self.index_name, "url": self.endpoint}

    # ---- schema ------------------------------------------------------------------------------
    async def ensure_schema(self) -> str:
        """Create the index, or update it to chatref's schema; returns "created" or "updated".

        An index built for another embedder is not touched: ``EmbedderMismatchError``.
        """
        wanted = index_definition(self.index_name, embedder_name=self.embedder_name,
                                  dimension=self.dimension)
        async with _translated("creating the index", self._where):
            try:
                existing = await self._admin.get_index(self.index_name)
            except ResourceNotFoundError:
                existing = None
            if existing is not None:
                self._check_embedder(existing)
            await self._admin.create_or_update_index(wanted)
        self._checked = True
        return f"{'created' if existing is None else 'updated'}: {self._where}"

    def _check_embedder(self, index: SearchIndex) -> None:
        vector = next((f for f in index.fields if f.name == VECTOR_FIELD), None)
        have = (f"{profile_embedder(vector.vector_search_profile_name)} (dimension "
                f"{vector.vector_search_dimensions})") if vector else "no vector field"
        wanted = f"{self.embedder_name} (dimension {self.dimension})"
        if vector is None or (vector.vector_search_profile_name,
                              vector.vector_search_dimensions) != (
                embedder_profile(self.embedder_name), self.dimension):
            raise EmbedderMismatchError(self._where, have, wanted)

    async def _ready(self, *, create: bool) -> None:
        if self._checked:
            return
        async with self._check_lock:
            if self._checked:
                return
            if create:
                await self.ensure_schema()
                return
            async with _translated("opening the index", self._where):
                self._check_embedder(await self._admin.get_index(self.index_name))
            self._checked = True

    # ---- searching ---------------------------------------------------------------------------
    async def keyword_search(self, query: str, limit: int) -> list[Passage]:
        return await self._search(query, None, limit, "keyword")

    async def vector_search(self, vector: Vectors, limit: int) -> list[Passage]:
        return await self._search(None, vector, limit, "vector")

    async def hybrid_search(self, query: str, vector: Vectors, limit: int) -> list[Passage]:
        return await self._search(query, vector, limit, "hybrid")

    async def _search(self, text: str | None, vector: Vectors | None, limit: int,
                      mode: str) -> list[Passage]:
        await self._ready(create=False)
        await self._flush()
        words = _SIMPLE_SYNTAX.sub(" ", text).strip() if text is not None else None
        if text is not None and not words:
            return []
        # The body is built here and sent through the SDK's pipeline (its credential, retry and
        # logging policies): the SDK's model serialiser costs ~20 us per vector element
        # (docs/benchmarks.md), which made it most of the client's time per search.
        body: dict[str, Any] = {"select": ",".join(PASSAGE_FIELDS), "top": limit,
                                "filter": "ordinal ge 0"}
        if words is not None:
            body["search"] = words
        if vector is not None:
            if len(vector) != self.dimension:
                raise ValueError(f"query vector has dimension {len(vector)}, not "
                                 f"{self.dimension}")
            body["vectorQueries"] = [{
                "kind": "vector", "vector": np.asarray(vector, dtype=np.float64).tolist(),
                "k": max(limit, 50), "fields": VECTOR_FIELD}]
        if self.semantic and words:
            body["queryType"] = "semantic"
            body["semanticConfiguration"] = SEMANTIC_CONFIGURATION

        async def request() -> list[Passage]:
            response = await self._client.send_request(HttpRequest(
                "POST", f"/docs/search.post.search?api-version={API_VERSION}", json=body))
            response.raise_for_status()
            passages = []
            for row in response.json()["value"][:limit]:
                score = float(row.get("@search.rerankerScore") or row["@search.score"])
                passages.append(Passage(
                    chunk_id=f"{row['doc_id']}:{row['ordinal']}", doc_id=row["doc_id"],
                    source=row["source"], title=row["title"], page=row.get("page"),
                    section=row.get("section"), text=row["content"], score=score,
                    scores={mode: score},
                ))
            return passages

        return await self._call("searching", request)

    async def count_chunks(self) -> int:
        await self._ready(create=False)
        await self._flush()

        async def request() -> int:
            results = await self._client.search(search_text="*", filter="ordinal ge 0", top=0,
                                                include_total_count=True)
            return int(await results.get_count() or 0)

        return await self._call("counting chunks", request)

    # ---- writing -----------------------------------------------------------------------------
    async def _rows(self, filter_: str, select: list[str]) -> list[dict[str, Any]]:
        """Every row matching ``filter_``, in key order (keyset paging: no 100,000 skip limit)."""
        rows: list[dict[str, Any]] = []
        last: str | None = None
        while True:
            where = filter_ if last is None else f"({filter_}) and id gt '{_quoted(last)}'"

            async def page(where: str = where) -> list[dict[str, Any]]:
                results = await self._client.search(search_text="*", filter=where,
                                                    select=select, order_by=["id asc"], top=1000)
                return [row async for row in results]

            batch = await self._call("listing documents", page)
            rows.extend(batch)
            if len(batch) < 1000:
                return rows
            last = batch[-1]["id"]

    async def known_documents(self) -> dict[str, str]:
        await self._ready(create=True)
        await self._flush()
        known: dict[str, str] = {}
        for row in await self._rows("ordinal le 0", ["id", "path", "content_hash"]):
            path = row["path"]
            # Two first rows for one path: a write was interrupted between its two halves.
            # An empty hash makes the next ingest write the document again (and clean up).
            known[path] = "" if path in known else row["content_hash"]
        self._known_paths = set(known)
        return known

    async def _keys_of(self, paths: Sequence[str]) -> dict[str, list[str]]:
        keys: dict[str, list[str]] = {}
        for start in range(0, len(paths), 50):
            group = paths[start:start + 50]
            joined = "|".join(_quoted(p) for p in group)
            for row in await self._rows(f"search.in(path, '{joined}', '|')", ["id", "path"]):
                keys.setdefault(row["path"], []).append(row["id"])
        return keys

    async def write_document(
        self, document: DocumentRecord, chunks: Sequence[ChunkRecord], vectors: Vectors
    ) -> None:
        if len(chunks) != len(vectors):
            raise ValueError("one vector per chunk")
        await self._ready(create=True)
        version = hashlib.sha1(document.content_hash.encode(),
                               usedforsecurity=False).hexdigest()[:12]
        prefix = f"{_key_part(document.doc_id)}-{version}-"
        rows = [self._row(document, chunk, vector, prefix)
                for chunk, vector in zip(chunks, vectors, strict=True)]
        if not rows:
            rows = [{"id": f"{prefix}m", "doc_id": document.doc_id, "path": document.path,
                     "source": document.source, "title": document.title, "content": "",
                     "ordinal": EMPTY_DOCUMENT_ORDINAL, "content_hash": document.content_hash}]
        new_keys = {row["id"] for row in rows}
        stale: list[str] = []
        if self._known_paths is None or document.path in self._known_paths:
            await self._flush()  # an earlier buffered version of this path must be visible
            stale = [k for k in (await self._keys_of([document.path])).get(document.path, [])
                     if k not in new_keys]
        for row in rows:
            await self._add_upload({"@search.action": "mergeOrUpload", **row})
        self._pending.deletes.extend({"@search.action": "delete", "id": k} for k in stale)
        if self._known_paths is not None:
            self._known_paths.add(document.path)

    def _row(self, document: DocumentRecord, chunk: ChunkRecord, vector: Any,
             prefix: str) -> dict[str, Any]:
        return {
            "id": f"{prefix}{chunk.ordinal}", "doc_id": document.doc_id, "path": document.path,
            "source": document.source, "title": chunk.title, "section": chunk.section,
            "page": chunk.page, "ordinal": chunk.ordinal, "content": chunk.text,
            "content_hash": document.content_hash,
            VECTOR_FIELD: [float(x) for x in vector],
        }

    async def _add_upload(self, action: dict[str, Any]) -> None:
        size = len(json.dumps(action, separators=(",", ":")))
        if self._pending.uploads and (len(self._pending.uploads) >= self._max_actions
                                      or self._pending.upload_bytes + size > self._max_bytes):
            await self._send(self._pending.uploads)
            self._pending.uploads, self._pending.upload_bytes = [], 0
        self._pending.uploads.append(action)
        self._pending.upload_bytes += size

    async def delete_documents(self, paths: Sequence[str]) -> int:
        await self._ready(create=True)
        await self._flush()
        keys = await self._keys_of(list(paths))
        self._pending.deletes.extend({"@search.action": "delete", "id": k}
                                     for found in keys.values() for k in found)
        await self._flush()
        if self._known_paths is not None:
            self._known_paths.difference_update(keys)
        return len(keys)

    async def write_documents(
        self, batch: Sequence[tuple[DocumentRecord, Sequence[ChunkRecord], Vectors]]
    ) -> None:
        for document, chunks, vectors in batch:  # uploads are batched by write_document
            await self.write_document(document, chunks, vectors)

    async def finish_ingest(self, chunks_written: int) -> None:
        await self._flush()

    async def _flush(self) -> None:
        uploads, deletes = self._pending.uploads, self._pending.deletes
        self._pending = _Pending()
        if uploads:
            await self._send(uploads)
        for start in range(0, len(deletes), self._max_actions):
            await self._send(deletes[start:start + self._max_actions])

    async def _send(self, actions: list[dict[str, Any]]) -> None:
        """One batch; a 207's failed keys are retried (they alone), with backoff."""
        attempt = 0
        while actions:
            results = await self._call(
                "writing documents", functools.partial(self._client.index_documents,
                                                       _batch(actions)))
            by_key = {a["id"]: a for a in actions}
            failed = [r for r in results if not r.succeeded]
            retry = [r for r in failed if r.status_code in RETRYABLE_ITEM_STATUSES]
            final = [r for r in failed if r.status_code not in RETRYABLE_ITEM_STATUSES]
            if final or (retry and attempt >= self._item_retries):
                worst = (final or retry)[:3]
                described = "; ".join(
                    f"{by_key.get(r.key, {}).get('path', r.key)} (key {r.key}): HTTP "
                    f"{r.status_code} {r.error_message}" for r in worst)
                raise IndexError_(f"writing documents: {self._where} rejected "
                                  f"{len(final or retry)} of {len(actions)} actions: {described}")
            actions = [by_key[r.key] for r in retry if r.key in by_key]
            if actions:
                attempt += 1
                await asyncio.sleep(min(self._retry_backoff_s * 2 ** (attempt - 1), 30.0))

    async def _call(self, what: str, request: Callable[[], Awaitable[T]]) -> T:
        """``request()`` with SDK errors translated; 429 retried with backoff here, because the
        SDK's retry policy leaves a POST's 429 without Retry-After alone (503 it retries)."""
        attempt = 0
        async with _translated(what, self._where):
            while True:
                try:
                    return await request()
                except HttpResponseError as exc:
                    if exc.status_code != 429 or attempt >= self._item_retries:
                        raise
                attempt += 1
                await asyncio.sleep(min(self._retry_backoff_s * 2 ** (attempt - 1), 30.0))

    # ---- lifecycle -----------------------------------------------------------------------------
    async def aclose(self) -> None:
        try:
            await self._flush()
        finally:
            await self._client.close()
            await self._admin.close()
            close = getattr(self._credential, "close", None)
            if close is not None:
                await close()


def _trusting(ca_file: str | None) -> dict[str, Any]:
    """Client options that trust ``ca_file``'s CA, with one SSL context per client.

    azure-core's ``connection_verify=<file>`` builds a new SSL context for every request, and
    aiohttp then opens a new TLS connection each time (measured: a handshake per search).
    """
    if not ca_file:
        return {}
    import ssl

    import aiohttp
    from azure.core.pipeline.transport._aiohttp import AioHttpTransport

    context = ssl.create_default_context(cafile=ca_file)

    class Transport(AioHttpTransport):
        async def open(self) -> None:
            if self.session is None and self._session_owner:
                self.session = aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(ssl=context), trust_env=True,
                    cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False)
            await super().open()  # type: ignore[no-untyped-call]  # azure-core: untyped

    return {"transport": Transport()}


def _batch(actions: list[dict[str, Any]]) -> Any:
    from azure.search.documents import IndexDocumentsBatch

    batch = IndexDocumentsBatch()
    uploads = [{k: v for k, v in a.items() if k != "@search.action"}
               for a in actions if a["@search.action"] == "mergeOrUpload"]
    deletes = [{"id": a["id"]} for a in actions if a["@search.action"] == "delete"]
    if uploads:
        batch.add_merge_or_upload_actions(uploads)
    if deletes:
        batch.add_delete_actions(deletes)
    return batch


def _quoted(value: str) -> str:
    return value.replace("'", "''")


def _key_part(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_\-=]", "_", value)[:200]


DEFAULT_INDEX_NAME = "chatref"


def build_azure_search_index(settings: Settings, embedder: Embedder) -> AzureSearchIndex:
    """The index Settings name: a key only for development (AZURE_SEARCH_API_KEY), else the
    managed identity (AZURE_CLIENT_ID) through DefaultAzureCredential."""
    if not settings.azure_search_endpoint:
        raise ConfigurationError("AZURE_SEARCH_ENDPOINT is not set")
    credential: AzureKeyCredential | AsyncTokenCredential
    if settings.azure_search_api_key is not None:
        credential = AzureKeyCredential(settings.azure_search_api_key.get_secret_value())
    else:
        from chatref.azure_credentials import default_async_credential

        credential = default_async_credential(settings.azure_client_id)
    return AzureSearchIndex(
        settings.azure_search_endpoint, settings.azure_search_index or DEFAULT_INDEX_NAME,
        credential, embedder_name=embedder.name, dimension=embedder.dimension,
        semantic=settings.chatref_search_semantic, ca_file=settings.chatref_search_ca_file,
    )
