"""The container image's process: ``python -m chatref.web.container --seed /opt/chatref/seed``.

It does two things before it serves the web app:

1. **Seed the index.** The image indexes its bundled docs while it is built (no network, same
   code) into ``--seed``. On a first start with an empty data volume that index is copied into
   ``$CHATREF_DATA_DIR``, so the container answers from the bundled docs within seconds with no
   settings at all. An index already in the data volume is never overwritten; none is copied
   when Azure AI Search is configured.
2. **Choose the address from the auth mode.** In ``token`` and ``easyauth`` mode every request is
   authenticated, so it listens on all interfaces, ``0.0.0.0:$PORT`` (App Service routes to
   ``WEBSITES_PORT``, which Terraform sets to the same port). In ``local`` mode (the default)
   every caller is trusted as the one local user, so it listens on loopback only,
   ``127.0.0.1:$PORT``: run the container with ``--network host`` and open
   ``http://127.0.0.1:$PORT``. No setting opens local mode to the network: traffic to a port
   published with ``-p`` reaches the container from a non-loopback address, which is exactly
   what local mode must refuse.

It is a module of its own rather than a ``chatref`` subcommand so that a cold start imports the
web app only, not every command of the CLI (about a second less on a busy machine).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
from pathlib import Path

from chatref.errors import ChatrefError
from chatref.identity.config import IdentityConfig, check_listen_address
from chatref.settings import Settings, load_settings

ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - only in the authenticated modes, see listen_host
LOOPBACK = "127.0.0.1"
log = logging.getLogger("chatref.container")


def listen_host(settings: Settings) -> str:
    """All interfaces when every request is authenticated; loopback in local mode.

    >>> listen_host(Settings(chatref_auth_mode="easyauth"))
    '0.0.0.0'
    >>> listen_host(Settings(chatref_auth_mode="local"))
    '127.0.0.1'
    """
    return ALL_INTERFACES if settings.chatref_auth_mode in ("token", "easyauth") else LOOPBACK


def seed_index(settings: Settings, seed_dir: Path) -> bool:
    """Copy the image's prebuilt index into the data dir if it has none. True when copied.

    The copy goes to a temporary name first and is renamed into place, so a second process
    starting at the same moment sees either no index or a whole one.
    """
    source = seed_dir / "index.sqlite"
    target = settings.index_path
    if settings.azure_search_endpoint or target.exists() or not source.is_file():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    shutil.copyfile(source, partial)
    os.replace(partial, target)
    return True


def start(settings: Settings, seed_dir: Path | None, log_level: str = "info") -> None:
    """Seed, then serve the web app on ``listen_host(settings):settings.port`` until stopped."""
    import uvicorn

    from chatref.llm.config import endpoints_from_settings
    from chatref.web.app import create_app
    from chatref.web.logs import log_config

    IdentityConfig.from_settings(settings)  # contradictory identity settings stop us here
    endpoints_from_settings(settings)  # a model configuration that cannot work fails here
    host = listen_host(settings)
    check_listen_address(settings.chatref_auth_mode, host)  # the rule `chatref serve` applies
    if seed_dir is not None and seed_index(settings, seed_dir):
        log.warning("seeded %s with the image's index of its bundled docs", settings.index_path)
    if host == LOOPBACK:
        log.warning(
            "auth mode 'local': listening on %s:%d only (every caller is trusted as the local "
            "user). Run the container with --network host to reach it, or set "
            "CHATREF_AUTH_MODE=token or easyauth to listen on all interfaces.",
            LOOPBACK, settings.port,
        )
    uvicorn.run(create_app(settings), host=host, port=settings.port, log_level=log_level,
                log_config=log_config(log_level), timeout_graceful_shutdown=5)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m chatref.web.container",
                                     description="Start chatref inside its container image.")
    parser.add_argument("--seed", type=Path, default=None,
                        help="folder holding an index.sqlite built into the image")
    parser.add_argument("--log-level", default="info", help="uvicorn log level")
    args = parser.parse_args(argv)
    # Until uvicorn applies log_config (web/logs.py): the seeding and listening warnings, in the
    # format uvicorn's lines have; no library's INFO lines.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s:     %(message)s")
    try:
        start(load_settings(), args.seed, args.log_level)
    except ChatrefError as exc:  # the CLI's translation: one line, exit 2, no traceback
        print(f"error: {exc.message}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
