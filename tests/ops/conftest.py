from __future__ import annotations

from tests.fakes.openai_server import fake_openai, fake_openai_server, fake_regions  # noqa: F401
