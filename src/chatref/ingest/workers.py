"""Parse and chunk files in worker processes, each file under a deadline and a memory cap.

A parser stuck in C code (lxml, zlib, a PDF content stream) cannot be interrupted from inside
its own process, so each file is parsed in a worker process that is killed when the file's time
limit passes, and whose address space is capped (``FileLimits.worker_memory_mb``): the file is
reported failed with the reason, a fresh worker takes the next file, and the ingest goes on.
The workers also run beside the embedder, so parsing and embedding overlap on two cores.

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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Generic, TypeVar

from chatref.errors import DocumentError
from chatref.ingest.chunking import Chunk, chunk_blocks
from chatref.ingest.limits import FileLimits, over
from chatref.ingest.parsers import parse_document

T = TypeVar("T")
_POLL_S = 0.5  # how often the dispatcher checks for close() while workers are busy
_READY = "ready"
_START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ParseJob:
    """One file's bytes to parse; ``name`` is the path as the user gave it (for the suffix and
    the error messages)."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Parsed:
    title: str
    chunks: list[Chunk]
    parse_s: float = 0.0
    chunk_s: float = 0.0


@dataclass(frozen=True)
class ParseFailure:
    reason: str
    worker_spent: bool = False  # the worker exits after this file (out of memory)


ParseResult = Parsed | ParseFailure


def _worker_main(
    inbox: Connection, conn: Connection, limits: FileLimits, max_chars: int, overlap_chars: int
) -> None:
    """Loop: receive a job, parse and chunk it, send the result; exit on EOF or None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    import bs4  # noqa: F401 - imported now, so no file's time limit pays for it
    import pypdf  # noqa: F401

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
        result: ParseResult
        try:
            started = time.perf_counter()
            parsed = parse_document(Path(job.name), job.data, limits)
            parsed_at = time.perf_counter()
            chunks = chunk_blocks(parsed.blocks, max_chars=max_chars, overlap_chars=overlap_chars)
            result = Parsed(parsed.title, chunks, parsed_at - started,
                            time.perf_counter() - parsed_at)
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


class _Worker:
    """One worker process, started as ``python -m chatref.ingest._worker_main`` with two pipes.

    Not ``multiprocessing``'s spawn: that re-imports the parent's ``__main__``, which re-runs
    any script without an ``if __name__ == "__main__"`` guard (a benchmark, a notebook cell).
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
        self.busy: object | None = None  # the item being parsed
        self.deadline = 0.0
        self._send_conn.send(args)
        # Wait until it has imported its parsers: a file's time limit is for parsing only.
        if not self.conn.poll(_START_TIMEOUT_S) or self.conn.recv() != _READY:
            self.kill()
            raise RuntimeError("a parse worker did not start")

    def send(self, job: ParseJob) -> None:
        self._send_conn.send(job)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a kill -9 that did not take
            pass
        self._send_conn.close()
        self.conn.close()


def serve(read_fd: int, write_fd: int) -> None:
    """The worker process's main: read the settings, then parse jobs until EOF."""
    inbox, outbox = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    limits, max_chars, overlap_chars = inbox.recv()
    _worker_main(inbox, outbox, limits, max_chars, overlap_chars)


_DONE = object()


class ParsePool(Generic[T]):
    """Worker processes that parse files; see the module docstring."""

    def __init__(
        self, *, limits: FileLimits, workers: int = 1, max_chars: int = 1200,
        overlap_chars: int = 200,
    ) -> None:
        self._limits = limits
        self._count = max(1, workers)
        self._args = (limits, max_chars, overlap_chars)
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
        worker = _Worker(self._args)
        self._workers.append(worker)
        return worker

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        self._workers.remove(worker)

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
        exhausted = False
        while not self._stop.is_set():
            busy = [w for w in self._workers if w.busy is not None]
            while not exhausted and len(busy) < self._count and results.qsize() < lookahead:
                item = next(items, _DONE)
                if item is _DONE:
                    exhausted = True
                    break
                job = prepare(item)  # type: ignore[arg-type]
                if not isinstance(job, ParseJob):
                    results.put((item, job))
                    continue
                worker = self._send(job)
                worker.busy, worker.deadline = item, time.monotonic() + self._limits.timeout_s
                busy.append(worker)
            if not busy:
                if exhausted:
                    return
                time.sleep(0.01)  # the consumer is behind: let it catch up
                continue
            now = time.monotonic()
            timeout = max(0.0, min(min(w.deadline for w in busy) - now, _POLL_S))
            ready = wait([w.conn for w in busy], timeout)
            for worker in busy:
                if worker.conn in ready:
                    self._collect(worker, results)
                elif time.monotonic() >= worker.deadline:
                    results.put((worker.busy, ParseFailure(
                        f"over the per-file time limit of {self._limits.timeout_s:g} s "
                        "(parsing stopped)")))
                    self._replace(worker)

    def _send(self, job: ParseJob) -> _Worker:
        """Hand ``job`` to an idle worker; one that died while idle is replaced once."""
        worker = next((w for w in self._workers if w.busy is None), None) or self._spawn()
        try:
            worker.send(job)
        except OSError:
            self._replace(worker)
            worker = self._spawn()
            worker.send(job)
        return worker

    def _collect(self, worker: _Worker, results: queue.Queue[object]) -> None:
        try:
            result = worker.conn.recv()
        except (EOFError, OSError):
            try:
                code: int | None = worker.process.wait(1)
            except subprocess.TimeoutExpired:
                code = None
            results.put((worker.busy, ParseFailure(
                f"the parser process died (exit code {code}) reading this file")))
            self._replace(worker)
            return
        results.put((worker.busy, result))
        worker.busy = None
        if isinstance(result, ParseFailure) and result.worker_spent:
            self._replace(worker)


def default_workers() -> int:
    """One parse worker per core beyond the one the embedder uses (at least one)."""
    return max(1, min(4, (os.cpu_count() or 2) - 1))
