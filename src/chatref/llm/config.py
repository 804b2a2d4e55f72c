"""Endpoint configuration: CHATREF_LLM_ENDPOINTS parsed and validated, or the single-endpoint vars.

``CHATREF_LLM_ENDPOINTS`` is a JSON list; each item describes one deployment (see
docs/resilience.md). Example::

    [{"name": "swc-ptu", "endpoint": "https://aoai-swc.openai.azure.com", "deployment": "chat",
      "model_family": "reasoning", "kind": "ptu", "priority": 1},
     {"name": "frc-paygo", "endpoint": "https://aoai-frc.openai.azure.com", "deployment": "chat",
      "model_family": "reasoning", "reasoning_effort": "low", "kind": "paygo", "priority": 2}]

Each endpoint's model family (llm/families.py) decides what a request carries: its own
``model_family``, else ``CHATREF_LLM_MODEL_FAMILY``, else what the model or deployment name shows,
else ``chat``. A reasoning endpoint's ``reasoning_effort``, ``reasoning_budget_tokens`` and
first-token timeout default from its effort. Mistakes raise ``ConfigurationError`` naming the
variable, the item and what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from chatref.errors import ConfigurationError
from chatref.llm.families import (
    API_VERSION_PATTERN,
    DEFAULT_READ_TIMEOUT_S,
    DEFAULT_REASONING_EFFORT,
    MIN_REASONING_API_VERSION,
    V1_API,
    ModelFamily,
    ReasoningEffort,
    api_version_too_old_for_reasoning,
    family_from_name,
    first_token_timeout_s,
    reasoning_budget_tokens,
)
from chatref.settings import Settings

ENDPOINTS_VAR = "CHATREF_LLM_ENDPOINTS"
DEFAULT_API_VERSION = V1_API


@dataclass(frozen=True)
class EndpointDefaults:
    """What an endpoint that does not say gets (from Settings; see ``endpoints_from_settings``)."""

    api_version: str = DEFAULT_API_VERSION
    model_family: ModelFamily | None = None
    reasoning_effort: ReasoningEffort | None = DEFAULT_REASONING_EFFORT


class EndpointConfig(BaseModel):
    """One chat-model endpoint: an Azure OpenAI deployment or an OpenAI-compatible model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    endpoint: str = Field(min_length=1, pattern=r"^https?://")
    deployment: str | None = Field(None, min_length=1)
    model: str | None = Field(None, min_length=1)
    api: Literal["azure", "openai"] | None = None
    api_version: str | None = Field(None, pattern=API_VERSION_PATTERN)
    api_key: SecretStr | None = None
    api_key_env: str | None = None
    priority: int = Field(1, ge=1)
    weight: float = Field(1.0, gt=0)
    kind: Literal["ptu", "paygo"] = "paygo"
    timeout_s: float = Field(10.0, gt=0, description="connect timeout")
    first_token_timeout_s: float | None = Field(30.0, gt=0)
    read_timeout_s: float = Field(DEFAULT_READ_TIMEOUT_S, gt=0,
                                  description="longest silence between chunks")
    model_family: ModelFamily = "chat"
    reasoning_effort: ReasoningEffort | None = None
    reasoning_budget_tokens: int = Field(0, ge=0, description="reasoning allowance on top of "
                                         "the answer's max_tokens (reasoning models)")

    @model_validator(mode="before")
    @classmethod
    def _family_defaults(cls, data: Any, info: ValidationInfo) -> Any:
        """Fill what the endpoint left out from its family (see the module docstring)."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        defaults = EndpointDefaults(**(info.context or {}))
        azure = data.get("api") == "azure" or (data.get("api") is None
                                               and data.get("deployment") is not None)
        if azure and data.get("api_version") is None:
            data["api_version"] = defaults.api_version
        if data.get("model_family") is None:
            name = str(data.get("deployment") or data.get("model") or "")
            data["model_family"] = defaults.model_family or family_from_name(name) or "chat"
        family = data["model_family"]
        if family == "reasoning" and data.get("reasoning_effort") is None:
            data["reasoning_effort"] = defaults.reasoning_effort  # null as left out (Terraform)
        # a wrong type is left for the field's own validation to name
        effort = data.get("reasoning_effort")
        effort = effort if isinstance(effort, str) else None
        if family == "reasoning" and data.get("reasoning_budget_tokens") is None:
            data["reasoning_budget_tokens"] = reasoning_budget_tokens(effort)
        data.setdefault("first_token_timeout_s", first_token_timeout_s(str(family), effort))
        first_token = data["first_token_timeout_s"]
        if "read_timeout_s" not in data:  # a reasoning stream is silent while the model thinks
            data["read_timeout_s"] = max(DEFAULT_READ_TIMEOUT_S, first_token
                                         if isinstance(first_token, int | float) else 0.0)
        return data

    @model_validator(mode="after")
    def _check(self) -> EndpointConfig:
        if self.deployment is None and self.model is None:
            raise ValueError("give `deployment` (Azure OpenAI) or `model` (OpenAI-compatible)")
        if self.deployment is not None and self.model is not None:
            raise ValueError("give either `deployment` or `model`, not both")
        if self.api_key is not None and self.api_key_env is not None:
            raise ValueError("give either `api_key` or `api_key_env`, not both")
        if self.api == "azure" and self.deployment is None:
            raise ValueError("an Azure OpenAI endpoint needs `deployment`")
        if self.model_family == "chat" and self.reasoning_effort is not None:
            raise ValueError("`reasoning_effort` is for reasoning models: set "
                             "`model_family` to reasoning, or drop it")
        if (self.model_family == "reasoning" and self.is_azure and self.api_version is not None
                and api_version_too_old_for_reasoning(self.api_version)):
            raise ValueError(f"api_version {self.api_version} predates reasoning models: use "
                             f"{V1_API} (recommended) or {MIN_REASONING_API_VERSION} or later")
        return self

    @property
    def is_azure(self) -> bool:
        if self.api is not None:
            return self.api == "azure"
        return self.deployment is not None

    @property
    def deployment_or_model(self) -> str:
        return self.deployment or self.model or ""


def parse_endpoints(raw: str, *, environ: Mapping[str, str] | None = None,
                    defaults: EndpointDefaults | None = None) -> list[EndpointConfig]:
    """Parse and validate the JSON of CHATREF_LLM_ENDPOINTS (``api_key_env`` resolved now from
    ``environ``, which ``endpoints_from_settings`` builds from Settings; what an item leaves
    out from ``defaults``)."""
    environ = {} if environ is None else environ
    context = asdict(defaults or EndpointDefaults())
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{ENDPOINTS_VAR} is not valid JSON: {exc.msg} at line "
                                 f"{exc.lineno} column {exc.colno}") from exc
    if not isinstance(data, list) or not data:
        raise ConfigurationError(f"{ENDPOINTS_VAR} must be a non-empty JSON list of endpoints")
    endpoints: list[EndpointConfig] = []
    for index, item in enumerate(data):
        label = f"{ENDPOINTS_VAR}[{index}]"
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            label += f" ({item['name']})"
        try:
            config = EndpointConfig.model_validate(item, context=context)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'item'}: {err['msg']}"
                for err in exc.errors())
            raise ConfigurationError(f"{label}: {problems}") from exc
        if config.api_key_env is not None:
            value = environ.get(config.api_key_env)
            if not value:
                raise ConfigurationError(f"{label}: api_key_env names {config.api_key_env}, "
                                         "which is not set")
            config = config.model_copy(update={"api_key": SecretStr(value)})
        endpoints.append(config)
    names = [e.name for e in endpoints]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigurationError(f"{ENDPOINTS_VAR}: endpoint names must be unique; repeated: "
                                 f"{', '.join(duplicates)}")
    return endpoints


class _SettingsSecrets(Mapping[str, str]):
    """The ``api_key_env`` variables, looked up through Settings (the one environment reader)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def __getitem__(self, name: str) -> str:
        value = self._settings.secret_from_environment(name)
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def endpoints_from_settings(settings: Settings) -> list[EndpointConfig]:
    """The endpoints chatref should use: the router list, else the single endpoint, else none."""
    defaults = EndpointDefaults(api_version=settings.azure_openai_api_version,
                                model_family=settings.chatref_llm_model_family,
                                reasoning_effort=settings.chatref_llm_reasoning_effort)
    if settings.chatref_llm_endpoints and settings.chatref_llm_endpoints.strip():
        return parse_endpoints(settings.chatref_llm_endpoints,
                               environ=_SettingsSecrets(settings), defaults=defaults)
    if settings.azure_openai_endpoint:
        if not settings.azure_openai_chat_deployment:
            raise ConfigurationError("AZURE_OPENAI_ENDPOINT is set but "
                                     "AZURE_OPENAI_CHAT_DEPLOYMENT is not: name the deployment")
        return [_single("azure", defaults, endpoint=settings.azure_openai_endpoint,
                        deployment=settings.azure_openai_chat_deployment,
                        api_key=settings.azure_openai_api_key, variable="AZURE_OPENAI_ENDPOINT")]
    if settings.openai_base_url or settings.openai_model:
        if not settings.openai_base_url or not settings.openai_model:
            raise ConfigurationError("OPENAI_BASE_URL and OPENAI_MODEL must be set together")
        return [_single("openai", defaults, endpoint=settings.openai_base_url,
                        model=settings.openai_model, api_key=settings.openai_api_key,
                        variable="OPENAI_BASE_URL")]
    return []


def _single(name: str, defaults: EndpointDefaults, *, variable: str,
            **values: object) -> EndpointConfig:
    try:
        return EndpointConfig.model_validate({"name": name, **values}, context=asdict(defaults))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in exc.errors())
        raise ConfigurationError(f"{variable}: {problems}") from exc
