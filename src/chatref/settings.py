"""Settings: the only reader of environment variables.

The names follow Azure's conventions and form the contract with Terraform: the app_service
module sets exactly these as app settings (see docs/architecture.md). Example::

    settings = Settings()            # reads the environment and ./.env
    settings.index_path              # $CHATREF_DATA_DIR/index.sqlite
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

AuthMode = Literal["local", "easyauth", "token"]


class Settings(BaseSettings):
    """Every knob of chatref, read from the environment (field name = variable name)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    # --- local data -------------------------------------------------------------------------
    chatref_data_dir: Path = Field(
        default=Path("data"), description="Folder of the index and database."
    )

    # --- one Azure OpenAI endpoint ----------------------------------------------------------
    azure_openai_endpoint: str | None = None
    azure_openai_chat_deployment: str | None = None
    azure_openai_api_version: str = Field(
        default="v1", pattern=r"^(v1|\d{4}-\d{2}-\d{2}(-preview)?)$",
        description="`v1`: Azure's GA v1 API ({endpoint}/openai/v1/, no api-version), the one "
        "Azure recommends; or a dated api-version (gpt-5 models need 2025-04-01-preview or later).",
    )
    azure_openai_api_key: SecretStr | None = None
    azure_openai_embedding_deployment: str | None = None
    chatref_embedding_dimensions: int | None = Field(
        default=None, ge=1, le=3072, description="Vector size of the Azure OpenAI embedder."
    )

    # --- or any OpenAI-compatible endpoint --------------------------------------------------
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_model: str | None = None

    # --- the multi-endpoint router (JSON list; see docs/resilience.md) ---------------------
    chatref_llm_endpoints: str | None = None
    chatref_llm_model_family: Literal["chat", "reasoning"] | None = Field(
        default=None, description="Family of the single endpoint's model, and of router "
        "endpoints without their own `model_family` [default: from the model or deployment "
        "name, else chat] (llm/families.py).",
    )
    chatref_llm_reasoning_effort: Literal["none", "minimal", "low", "medium", "high",
                                          "xhigh"] | None = Field(
        default="low", description="reasoning_effort sent to reasoning models unless an "
        "endpoint says otherwise (low latency for chat).",
    )

    # --- Azure data services ------------------------------------------------------------------
    azure_search_endpoint: str | None = None
    azure_search_index: str | None = Field(
        default=None, description="Index name on AZURE_SEARCH_ENDPOINT [default: chatref]."
    )
    azure_search_api_key: SecretStr | None = Field(
        default=None, description="Development only; production uses the managed identity."
    )
    chatref_search_semantic: bool = Field(
        default=False, description="Azure AI Search semantic ranker (production sets true)."
    )
    chatref_search_ca_file: str | None = Field(
        default=None, description="CA bundle to trust for AZURE_SEARCH_ENDPOINT (a private CA)."
    )
    azure_storage_blob_endpoint: str | None = None
    azure_storage_container: str | None = None
    azure_storage_table_endpoint: str | None = None
    chatref_conversations_table: str = Field(
        default="conversations", pattern=r"^[A-Za-z][A-Za-z0-9]{2,62}$",
        description="Table Storage table of the conversations (Terraform's storage module "
        "creates it under this name).",
    )
    azure_storage_connection_string: SecretStr | None = Field(
        default=None, description="Development and Azurite only: production uses the identity."
    )
    azure_client_id: str | None = None

    # --- web ------------------------------------------------------------------------------------
    chatref_auth_mode: AuthMode = "local"
    port: int = Field(default=8000, ge=1, le=65535, description="Port of `chatref serve`.")

    # --- identity and abuse protection (docs/security.md) --------------------------------------
    chatref_auth_tenant_id: str | None = None
    chatref_auth_audience: str | None = Field(
        default=None, description="Comma-separated: the app ID URI and/or the client ID.")
    chatref_auth_openid_config_url: str | None = None
    chatref_auth_required_role: str | None = None
    chatref_auth_operator_role: str = "Chat.Operator"
    chatref_allowed_hosts: str | None = Field(
        default=None, description="Comma-separated Host names the app answers to.")
    chatref_cors_origins: str | None = Field(
        default=None, description="Comma-separated origins allowed to call the API (CORS).")
    chatref_rate_limit_per_minute: int = Field(default=20, ge=1)
    chatref_max_concurrent_streams: int = Field(default=3, ge=1)
    chatref_daily_token_quota: int | None = Field(default=None, ge=1)
    chatref_retention_days: int | None = Field(default=None, ge=1)
    # Set by the image (Dockerfile ARG CHATREF_BUILD: the release's commit), read only.
    chatref_build: str = Field(
        default="dev", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]*$",
        description="The build this process runs; /health/ready shows it to the operator, so a "
        "release can tell its new container from the one it replaces.",
    )
    # Set by App Service, read only.
    website_auth_enabled: bool = False
    website_hostname: str | None = None
    applicationinsights_connection_string: SecretStr | None = None

    # --- chat behaviour ---------------------------------------------------------------------
    chatref_top_k: int = Field(default=5, ge=1, le=50, description="Passages given to the model.")
    chatref_max_message_chars: int = Field(default=8000, ge=1, description="Longest message.")
    chatref_max_messages: int = Field(default=100, ge=1, description="Most messages per request.")
    chatref_history_token_budget: int = Field(default=3000, ge=0)
    chatref_max_answer_tokens: int = Field(default=800, ge=1)

    # --- tools ------------------------------------------------------------------------------
    chatref_checkov: Path | None = Field(
        default=None, description="The checkov executable (default: .venv-checkov, found from "
        "the current folder up)."
    )

    def secret_from_environment(self, name: str) -> str | None:
        """The variable ``name`` that CHATREF_LLM_ENDPOINTS names in an ``api_key_env``: the one
        variable chatref reads by a name it learns at run time (a key per endpoint)."""
        return os.environ.get(name)

    def subprocess_environment(self, names: Iterable[str]) -> dict[str, str]:
        """Those of the variables ``names`` that are set: the whole environment of a tool chatref
        runs as a subprocess (checkov), so it inherits what it needs and none of our secrets."""
        return {name: os.environ[name] for name in names if name in os.environ}

    @property
    def index_path(self) -> Path:
        return self.chatref_data_dir / "index.sqlite"

    @property
    def database_path(self) -> Path:
        return self.chatref_data_dir / "chatref.sqlite"


def describe_settings_error(exc: ValidationError) -> str:
    """One line naming each bad variable (pydantic's own text spans many lines)."""
    problems = "; ".join(
        f"{'.'.join(str(p) for p in error['loc']).upper()}={error.get('input')!r}: "
        f"{error['msg']}" for error in exc.errors()[:3]
    )
    return f"bad setting: {problems}"


def load_settings() -> Settings:
    """``Settings()``, a bad value raising one ``ConfigurationError`` line naming the variable."""
    from chatref.errors import ConfigurationError

    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigurationError(describe_settings_error(exc)) from None
