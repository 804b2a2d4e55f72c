from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from chatref.settings import Settings


def test_settings_reads_contract_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://example.openai.azure.com")
    monkeypatch.setenv("AZURE_OPENAI_CHAT_DEPLOYMENT", "gpt-4o")
    monkeypatch.setenv("CHATREF_AUTH_MODE", "easyauth")
    settings = Settings()
    assert settings.azure_openai_endpoint == "https://example.openai.azure.com"
    assert settings.azure_openai_chat_deployment == "gpt-4o"
    assert settings.chatref_auth_mode == "easyauth"


def test_index_path_follows_data_dir(isolated_env: Path) -> None:
    assert Settings().index_path == isolated_env / "index.sqlite"


def test_bad_auth_mode_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATREF_AUTH_MODE", "open-to-all")
    with pytest.raises(ValidationError, match="chatref_auth_mode"):
        Settings()


@pytest.mark.parametrize("build", ["", "a b", "<script>", "-x", "x" * 65])
def test_a_build_name_that_is_not_a_plain_identifier_is_rejected(
        isolated_env: Path, monkeypatch: pytest.MonkeyPatch, build: str) -> None:
    """CHATREF_BUILD is echoed to operators: a plain name only (a commit, a describe)."""
    monkeypatch.setenv("CHATREF_BUILD", build)
    with pytest.raises(ValidationError, match="chatref_build"):
        Settings()


def test_the_build_is_dev_unless_the_image_names_it(
        isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().chatref_build == "dev"
    monkeypatch.setenv("CHATREF_BUILD", "v1.4.0-3-g0f1e2d3c4b5a-dirty")
    assert Settings().chatref_build == "v1.4.0-3-g0f1e2d3c4b5a-dirty"
