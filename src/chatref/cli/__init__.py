"""The `chatref` command: a thin layer over the services (typer + rich).

Each command group lives in its own module and registers itself here. ``main`` is the one CLI
error translator: a ``ChatrefError`` becomes a one-line message on stderr and exit status 2.
"""

from __future__ import annotations

import sys

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from chatref.cli import drill as _drill
from chatref.cli import index as _index
from chatref.cli import index_admin as _index_admin
from chatref.cli import policy as _policy
from chatref.cli import probe as _probe
from chatref.cli import retention as _retention
from chatref.cli import serve as _serve
from chatref.errors import ChatrefError
from chatref.settings import describe_settings_error

app = typer.Typer(
    name="chatref",
    help="Grounded chat over your documents, built to run on Azure.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
for _module in (_index, _index_admin, _serve, _drill, _policy, _probe, _retention):
    _module.register(app)


def _fail(message: str) -> None:
    """One line on stderr (no wrapping, no markup from the message) and exit status 2."""
    Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {escape(message)}",
                                               highlight=False)
    sys.exit(2)


def main() -> None:
    try:
        app()
    except ChatrefError as exc:
        _fail(exc.message)
    except ValidationError as exc:  # Settings() read a bad environment variable
        _fail(describe_settings_error(exc))
    except KeyboardInterrupt:
        Console(stderr=True).print("interrupted")
        sys.exit(130)
