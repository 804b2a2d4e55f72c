"""Parse and chunk files in worker processes, each file under a deadline and a memory cap.

A parser stuck in C code (lxml, zlib, a PDF content stream) cannot be interrupted from inside
its own process, so each file is parsed in a worker process that is killed when the file's time
limit passes, and whose address space is capped (``FileLimits.worker_memory_mb``): the file is
reported failed with the reason, a fresh worker takes the next file, and the ingest goes on.
With an embedder that can run in any process (``PortableEmbedder``: WordLlama, whose weights
ship in its wheel), each worker also embeds the chunks it makes, single-threaded, so the work
spreads over the cores by the number of workers and the parent only writes; with another
(Azure OpenAI) the parent embeds while the workers parse.

For example (an illustration, not run as a doctest)::

    with ParsePool(limits=FileLimits(timeout_s=10), workers=1) as pool:
        for item, result in pool.run(files, prepare):
            ...
"""

from __future__ import annotations

import os
import queue
import resource
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Generic, Protocol, TypeVar, runtime_checkable

from chatref.errors import DocumentError
from chatref.ingest.chunking import Chunk, chunk_blocks, embedding_text
from chatref.ingest.limits import FileLimits, over
from chatref.ingest.parsers import parse_document
from chatref.retrieval.types import Vectors

T = TypeVar("T")
_POLL_S = 0.5  # how often the dispatcher checks for close() while workers are busy
_READY = "ready"
_START_TIMEOUT_S = 60.0
# Jobs queued per worker beyond the one it parses, and their bytes: well under a pipe's 64 KiB
# buffer, so sending one never blocks (small files then cost no round trip each).
_MAX_INFLIGHT = 16
_PIPE_BUDGET = 32 * 1024
# A file's time limit is for parsing; a worker that then embeds many chunks says so first, and
# gets this long per chunk on top (a hundred times what it takes on a loaded machine).
_EMBED_MARK_ABOVE = 256
_EMBED_S_PER_CHUNK = 0.05


@runtime_checkable
class PortableEmbedder(Protocol):
    """An embedder a parse worker can run: ``portable()`` is a picklable ``embed_sync`` that
    computes the same vectors in any process."""

    def portable(self) -> Callable[[Sequence[str]], Vectors]: ...


@dataclass(frozen=True)
class ParseJob:
    """One file's bytes to parse; ``name`` is the path as the user gave it (for the suffix and
    the error messages)."""

    name: str
    data: bytes


@dataclass(frozen=True)
class EmbedJob(ParseJob):
    """Already-extracted texts to embed, no file to parse (``ingest_texts``): the worker
    answers with their ``Vectors`` (one float32 buffer for all of them)."""

    texts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Parsed:
    title: str
    chunks: list[Chunk]
    parse_s: float = 0.0
    chunk_s: float = 0.0
    vectors: Vectors | None = None  # when the worker embeds (a PortableEmbedder)
    embed_s: float = 0.0


@dataclass(frozen=True)
class _Embedding:
    """Sent before embedding many chunks: the file's deadline grows by their number."""

    chunks: int


@dataclass(frozen=True)
class ParseFailure:
    reason: str
    worker_spent: bool = False  # the worker exits after this file (out of memory)


ParseResult = Parsed | ParseFailure


def _worker_main(
    inbox: Connection, conn: Connection, limits: FileLimits, max_chars: int, overlap_chars: int,
    embed: Callable[[Sequence[str]], Vectors] | None = None,
) -> None:
    """Loop: receive a job, parse, chunk (and embed) it, send the result; exit on EOF or None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    import bs4  # noqa: F401 - imported now, so no file's time limit pays for it
    import pypdf  # noqa: F401
    import pypdfium2  # noqa: F401

    if embed is not None:
        embed(["warm up"])  # loads the weights, before the memory cap
    cap = limits.worker_memory_mb * 1024 * 1024
    if cap > 0:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    conn.send(_READY)
    while True:
        try:
            job = inbox.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        result: ParseResult | Vectors
        try:
            if isinstance(job, EmbedJob):
                if embed is None:
                    raise DocumentError(Path(job.name), "this worker has no embedder")
                result = embed(job.texts)
            else:
                result = _parse(job, conn, limits, max_chars, overlap_chars, embed)
        except DocumentError as exc:
            result = ParseFailure(exc.reason)
        except MemoryError:
            del job
            conn.send(ParseFailure(over("of memory", limits.worker_memory_mb,
                                        limits.worker_memory_mb, " MB"), worker_spent=True))
            return  # a fresh worker takes the next file
        except Exception as exc:  # noqa: BLE001 - a parser bug must not stop the whole ingest
            result = ParseFailure(f"could not be parsed ({type(exc).__name__}: {exc})")
        conn.send(result)


def _parse(job: ParseJob, conn: Connection, limits: FileLimits, max_chars: int,
           overlap_chars: int, embed: Callable[[Sequence[str]], Vectors] | None) -> Parsed:
    started = time.perf_counter()
    parsed = parse_document(Path(job.name), job.data, limits)
    parsed_at = time.perf_counter()
    chunks = chunk_blocks(parsed.blocks, max_chars=max_chars, overlap_chars=overlap_chars)
    chunked_at = time.perf_counter()
    if embed is None or not chunks:
        return Parsed(parsed.title, chunks, parsed_at - started, chunked_at - parsed_at)
    if len(chunks) > _EMBED_MARK_ABOVE:
        conn.send(_Embedding(len(chunks)))
    vectors = embed([embedding_text(parsed.title, c) for c in chunks])
    return Parsed(parsed.title, chunks, parsed_at - started, chunked_at - parsed_at,
                  vectors, time.perf_counter() - chunked_at)


class _Worker:
    """One worker process, started as ``python -m chatref.ingest._worker_main`` with two pipes.

    Not ``multiprocessing``'s spawn: that re-imports the parent's ``__main__``, which re-runs
    any script without an ``if __name__ == "__main__"`` guard (a benchmark, a notebook cell).
    Several small jobs may wait in its pipe (``inflight``, oldest first: the worker answers in
    order, so the oldest is the one being parsed), so it never idles for a round trip.
    """

    def __init__(self, args: tuple[object, ...]) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our own module, our interpreter
                [sys.executable, "-m", "chatref.ingest._worker_main",
                 str(to_child_r), str(from_child_w)],
                pass_fds=(to_child_r, from_child_w), stdin=subprocess.DEVNULL,
                start_new_session=False,
            )
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self._send_conn = Connection(to_child_w, readable=False)
        self.conn = Connection(from_child_r, writable=False)
        self.inflight: deque[tuple[object, ParseJob]] = deque()
        self.queued_bytes = 0  # of the jobs in flight
        self.deadline = 0.0  # for the oldest job in flight
        self.broken = False  # a send failed: it is replaced once its results are read
        self._send_conn.send(args)

    def wait_ready(self) -> None:
        """Wait until it has imported its parsers (and loaded the embedder): a file's time limit
        is for parsing only."""
        if not self.conn.poll(_START_TIMEOUT_S) or self.conn.recv() != _READY:
            self.kill()
            raise RuntimeError("a parse worker did not start")

    @property
    def busy(self) -> object | None:
        """The item being parsed (None when idle)."""
        return self.inflight[0][0] if self.inflight else None

    def can_take(self, job: ParseJob) -> bool:
        """Idle, or busy with room in its pipe: a job that does not fit could block the
        dispatcher's write while the worker blocks writing a result nobody reads."""
        if self.broken:
            return False
        if not self.inflight:
            return True
        return (len(self.inflight) < _MAX_INFLIGHT
                and self.queued_bytes + _size(job) <= _PIPE_BUDGET)

    def send(self, item: object, job: ParseJob, timeout_s: float) -> None:
        self._send_conn.send(job)
        if not self.inflight:
            self.deadline = time.monotonic() + timeout_s
        self.inflight.append((item, job))
        self.queued_bytes += _size(job)

    def done(self, timeout_s: float) -> tuple[object, ParseJob]:
        """The oldest job is answered; the next one's clock starts now."""
        item, job = self.inflight.popleft()
        self.queued_bytes -= _size(job)
        self.deadline = time.monotonic() + timeout_s
        return item, job

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a kill -9 that did not take
            pass
        self._send_conn.close()
        self.conn.close()


def _size(job: ParseJob) -> int:
    texts = sum(map(len, job.texts)) + 8 * len(job.texts) if isinstance(job, EmbedJob) else 0
    return len(job.data) + len(job.name) + texts + 128  # and the pickle's framing


def serve(read_fd: int, write_fd: int) -> None:
    """The worker process's main: read the settings, then parse jobs until EOF."""
    inbox, outbox = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    _worker_main(inbox, outbox, *inbox.recv())


_DONE = object()


class ParsePool(Generic[T]):
    """Worker processes that parse files; see the module docstring."""

    def __init__(
        self, *, limits: FileLimits, workers: int = 1, max_chars: int = 1200,
        overlap_chars: int = 200, embedder: PortableEmbedder | None = None,
    ) -> None:
        self._limits = limits
        self._count = max(1, workers)
        self._args = (limits, max_chars, overlap_chars,
                      embedder.portable() if embedder is not None else None)
        self._workers: list[_Worker] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._results: queue.Queue[object] = queue.Queue()

    def __enter__(self) -> ParsePool[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        for worker in self._workers:
            worker.kill()
        self._workers.clear()

    def run(
        self, items: Iterable[T], prepare: Callable[[T], ParseJob | object],
    ) -> Iterator[tuple[T, object]]:
        """Yield ``(item, result)`` for every item, in completion order.

        ``prepare`` runs in the pool's dispatcher thread and returns a ``ParseJob`` to parse
        (the result is then a ``ParseResult``) or anything else, which is passed through as the
        item's result unchanged (an "unchanged" or "unreadable" outcome, say).
        """
        results: queue.Queue[object] = queue.Queue()
        self._results = results
        self._thread = threading.Thread(
            target=self._dispatch, args=(iter(items), prepare, results), daemon=True,
            name="chatref-parse-dispatch",
        )
        self._thread.start()
        while True:
            got = results.get()
            if got is _DONE:
                return
            if isinstance(got, BaseException):
                raise got
            yield got  # type: ignore[misc]

    def ready(self) -> int:
        """How many results ``run`` can yield now without waiting."""
        return self._results.qsize()

    def _spawn(self) -> _Worker:
        """Start a worker; the first time, all of them at once, so they load in parallel."""
        starting = [_Worker(self._args) for _ in range(1 if self._workers else self._count)]
        try:
            for worker in starting:
                worker.wait_ready()
        except BaseException:
            for worker in starting:
                worker.kill()
            raise
        self._workers.extend(starting)
        return starting[0]

    def _replace(self, worker: _Worker, retry: deque[tuple[object, ParseJob]]) -> None:
        """Stop ``worker``; the jobs still queued in it go first to the next ones."""
        worker.kill()
        self._workers.remove(worker)
        retry.extendleft(reversed(worker.inflight))
        worker.inflight.clear()

    def _dispatch(
        self, items: Iterator[T], prepare: Callable[[T], ParseJob | object],
        results: queue.Queue[object],
    ) -> None:
        try:
            self._dispatch_loop(items, prepare, results)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises
            results.put(exc)
        finally:
            results.put(_DONE)

    def _dispatch_loop(
        self, items: Iterator[T], prepare: Callable[[T], ParseJob | object],
        results: queue.Queue[object],
    ) -> None:
        lookahead = 2 * self._count + 2
        retry: deque[tuple[object, ParseJob]] = deque()  # jobs a stopped worker had queued
        exhausted = False
        while not self._stop.is_set():
            while results.qsize() < lookahead:
                if retry:
                    item, job = retry.popleft()
                else:
                    if exhausted:
                        break
                    item = next(items, _DONE)
                    if item is _DONE:
                        exhausted = True
                        break
                    prepared = prepare(item)  # type: ignore[arg-type]
                    if not isinstance(prepared, ParseJob):
                        results.put((item, prepared))
                        continue
                    job = prepared
                if not self._send(item, job):
                    retry.appendleft((item, job))  # every worker is full: wait for results
                    break
            busy = [w for w in self._workers if w.inflight]
            if not busy:
                if exhausted and not retry:
                    return
                time.sleep(0.01)  # the consumer is behind: let it catch up
                continue
            now = time.monotonic()
            timeout = max(0.0, min(min(w.deadline for w in busy) - now, _POLL_S))
            ready = wait([w.conn for w in busy], timeout)
            for worker in busy:
                if worker.conn in ready:
                    self._collect(worker, results, retry)
                elif time.monotonic() >= worker.deadline:
                    results.put((worker.busy, ParseFailure(
                        f"over the per-file time limit of {self._limits.timeout_s:g} s "
                        "(parsing stopped)")))
                    worker.done(0.0)
                    self._replace(worker, retry)

    def _send(self, item: object, job: ParseJob) -> bool:
        """Hand ``job`` to an idle worker (starting one if fewer than asked run), else queue it
        behind the least busy one with room; False if none has room. A worker that died while
        idle is replaced once."""
        idle = next((w for w in self._workers if not w.inflight and not w.broken), None)
        if idle is None and len(self._workers) < self._count:
            idle = self._spawn()
        if idle is not None:
            try:
                idle.send(item, job, self._limits.timeout_s)
            except OSError:
                self._replace(idle, deque())
                self._spawn().send(item, job, self._limits.timeout_s)
            return True
        roomy = [w for w in self._workers if w.can_take(job)]
        if not roomy:
            return False
        worker = min(roomy, key=lambda w: len(w.inflight))
        try:
            worker.send(item, job, self._limits.timeout_s)
        except OSError:  # it died while parsing: its results say how
            worker.broken = True
            return False
        return True

    def _collect(
        self, worker: _Worker, results: queue.Queue[object],
        retry: deque[tuple[object, ParseJob]],
    ) -> None:
        try:
            result = worker.conn.recv()
        except (EOFError, OSError):
            try:
                code: int | None = worker.process.wait(1)
            except subprocess.TimeoutExpired:
                code = None
            item, _ = worker.done(0.0)
            results.put((item, ParseFailure(
                f"the parser process died (exit code {code}) reading this file")))
            self._replace(worker, retry)
            return
        if isinstance(result, _Embedding):  # parsed: embedding is ours, not the file's, time
            worker.deadline = (time.monotonic() + self._limits.timeout_s
                               + result.chunks * _EMBED_S_PER_CHUNK)
            return
        item, _ = worker.done(self._limits.timeout_s)
        results.put((item, result))
        if isinstance(result, ParseFailure) and result.worker_spent:
            self._replace(worker, retry)
        elif worker.broken and not worker.inflight:
            self._replace(worker, retry)


def default_workers(embedding: bool = False) -> int:
    """One parse worker per core when they also embed (this process then only writes, a fifth
    of the work), else one per core beyond the one this process embeds on; at least one, at
    most four."""
    cores = os.cpu_count() or 2
    return max(1, min(4, cores if embedding else cores - 1))
