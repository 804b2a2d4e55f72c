from __future__ import annotations

from tests.fakes.search_server import fake_search, fake_search_server  # noqa: F401
