"""Azurite, the Azure Storage emulator, for tests: real Blob and Table Storage on 127.0.0.1.

`make test` installs the pinned npm package (package.json / package-lock.json in the repository
root, into node_modules/). Each service runs as its own process on a port the kernel picks (port
0), read back from the process's listening socket, so tests running at the same time in several
checkouts never collide. Always `--disableTelemetry`: tests reach nothing but 127.0.0.1.

Fixtures (import them in a directory's conftest.py)::

    from tests.fakes.azurite import azurite  # noqa: F401

    def test_something(azurite):
        azurite.connection_string   # the well-known devstoreaccount1 account, these endpoints
        azurite.table_url           # http://127.0.0.1:PORT/devstoreaccount1
        azurite.blob_url
        azurite.unique_name("conv") # a table or container name no other test uses

- ``azurite`` (session): one Azurite for the whole run; isolate tests by table/container names.

``start_azurite(folder)`` is the context manager behind it, for a test or a benchmark that wants
its own (``python -m tests.fakes.azurite`` serves one until Ctrl-C).
"""

from __future__ import annotations

import ctypes
import itertools
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
AZURITE_BIN = REPO_ROOT / "node_modules" / ".bin"

# The emulator's published development account (the same in every Azurite): not a secret.
ACCOUNT_NAME = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
START_TIMEOUT_S = 90.0  # node starts slowly on a loaded 2-core machine

_counter = itertools.count(1)


@dataclass
class Azurite:
    """One running Azurite: its endpoints and the development connection string."""

    blob_url: str
    table_url: str
    location: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list, repr=False)

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={self.blob_url};TableEndpoint={self.table_url};"
        )

    @staticmethod
    def unique_name(prefix: str = "t") -> str:
        """A table or container name unique to this run (letters and digits, starts a letter)."""
        return f"{prefix}{uuid.uuid4().hex[:12]}{next(_counter)}"


def _binary(service: str) -> Path:
    path = AZURITE_BIN / f"azurite-{service}"
    if not path.exists():
        raise RuntimeError(
            f"Azurite is not installed ({path} is missing): run `make azurite` (npm ci) in "
            f"{REPO_ROOT}"
        )
    return path


def _listening_port(process: subprocess.Popen[bytes], service: str, log: Path) -> int:
    """Wait until ``process`` listens on 127.0.0.1 and accepts a connection; return the port."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"azurite-{service} exited with status {process.returncode}: "
                f"{log.read_text(errors='replace')[-2000:]}"
            )
        try:
            sockets = psutil.Process(process.pid).net_connections(kind="tcp")
        except psutil.Error:
            sockets = []
        for sock in sockets:
            if sock.status == psutil.CONN_LISTEN and sock.laddr:
                port = int(sock.laddr.port)
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                except OSError:
                    break
                return port
        time.sleep(0.1)
    raise RuntimeError(f"azurite-{service} did not listen within {START_TIMEOUT_S:.0f} s")


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the test process dies, however it dies (a killed
    pytest must not leave emulators behind). Linux's prctl(PR_SET_PDEATHSIG)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def start_azurite(
    location: Path, services: tuple[str, ...] = ("blob", "table"), *,
    tls: tuple[Path, Path] | None = None, oauth: bool = False,
) -> Iterator[Azurite]:
    """Run Azurite's ``services`` with their data under ``location``; stop them on exit.

    ``tls`` (a certificate and its key, PEM) serves HTTPS; ``oauth`` also accepts Entra ID bearer
    tokens (Azurite's "basic" check: issuer, audience and lifetime, no signature; HTTPS only).
    """
    extra: list[str] = []
    if tls:
        extra += ["--cert", str(tls[0]), "--key", str(tls[1])]
    if oauth:
        extra += ["--oauth", "basic"]
    location.mkdir(parents=True, exist_ok=True)
    ports: dict[str, int] = {}
    processes: list[subprocess.Popen[bytes]] = []
    with ExitStack() as stack:
        logs: dict[str, Path] = {}
        for service in services:  # all started first: node's start-up is slow, let them overlap
            logs[service] = location / f"{service}.log"
            out = stack.enter_context(logs[service].open("wb"))
            process = subprocess.Popen(
                [
                    str(_binary(service)), "--silent", "--disableTelemetry",
                    "--location", str(location / service),
                    f"--{service}Host", "127.0.0.1", f"--{service}Port", "0", *extra,
                ],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={k: v for k, v in os.environ.items() if k != "AZURITE_ACCOUNTS"},
                start_new_session=True, preexec_fn=_die_with_parent,
            )
            processes.append(process)
            stack.callback(_stop, process)
        for service, process in zip(services, processes, strict=True):
            ports[service] = _listening_port(process, service, logs[service])

        def url(service: str) -> str:
            port = ports.get(service)
            scheme = "https" if tls else "http"
            return f"{scheme}://127.0.0.1:{port}/{ACCOUNT_NAME}" if port else ""

        yield Azurite(url("blob"), url("table"), location, processes)


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """Azurite's Blob and Table services for the whole test session."""
    with start_azurite(tmp_path_factory.mktemp("azurite")) as server:
        yield server


if __name__ == "__main__":
    import sys
    import tempfile

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop the emulators on the way out
    with tempfile.TemporaryDirectory() as folder, start_azurite(Path(folder)) as server:
        print(f"blob:  {server.blob_url}\ntable: {server.table_url}\n"
              f"AZURE_STORAGE_CONNECTION_STRING='{server.connection_string}'", flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
