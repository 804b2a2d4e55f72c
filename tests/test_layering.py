"""The layering docs/architecture.md draws, checked on the imports of every module.

Services (chat/, ingest/, retrieval/) and the store import no web framework, CLI, or SDK type; only
the backends named here wrap an Azure or OpenAI SDK. Nothing below web/ and cli/ imports them,
and the store imports nothing of the chat flow (that is why ``Citation`` lives in store/types.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "src" / "chatref"
FRAMEWORKS = ("fastapi", "starlette", "uvicorn", "typer", "rich", "openai", "azure")
UPPER_LAYERS = ("chatref.web", "chatref.cli", "chatref.app")
# The backends that translate an SDK at the boundary (each imported only by app.py and the CLI).
SDK_BACKENDS = {
    "ingest/blob_source.py", "retrieval/azure_search.py", "retrieval/openai_embedder.py",
    "store/table_store.py",
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (PACKAGE / folder).rglob("*.py"))


def _offending(path: Path, prefixes: tuple[str, ...]) -> list[str]:
    return sorted(n for n in _imports(path)
                  if any(n == p or n.startswith(p + ".") for p in prefixes))


@pytest.mark.parametrize("path", _modules("chat", "ingest", "retrieval", "store"),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_services_and_the_store_import_no_framework_and_no_upper_layer(path: Path) -> None:
    relative = str(path.relative_to(PACKAGE))
    forbidden = UPPER_LAYERS if relative in SDK_BACKENDS else UPPER_LAYERS + FRAMEWORKS
    assert _offending(path, forbidden) == []


@pytest.mark.parametrize("path", _modules("store"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_store_imports_nothing_of_the_chat_flow(path: Path) -> None:
    assert _offending(path, ("chatref.chat", "chatref.retrieval", "chatref.llm")) == []


@pytest.mark.parametrize("path", _modules("llm", "identity"),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_nothing_below_the_edges_imports_web_or_cli(path: Path) -> None:
    assert _offending(path, UPPER_LAYERS) == []


def test_the_sdk_backends_exist() -> None:  # a renamed backend must not silently pass
    assert all((PACKAGE / name).is_file() for name in SDK_BACKENDS)


def _reads_environment(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "environb"}:
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "os" and any(
            alias.name in {"environ", "getenv", "environb"} for alias in node.names
        ):
            return True
    return False


def test_settings_is_the_only_reader_of_environment_variables() -> None:
    readers = [str(p.relative_to(PACKAGE)) for p in _modules(".") if _reads_environment(p)]
    assert readers == ["settings.py"]
