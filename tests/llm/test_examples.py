"""The ``>>>`` examples of the model-family modules run as tests (they are pure: no I/O)."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from chatref.llm import clients, families
from chatref.ops import fakerules
from tests.fakes import openai_spec


@pytest.mark.parametrize("module", [families, clients, fakerules, openai_spec],
                         ids=lambda m: m.__name__)
def test_examples(module: ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
