"""Model families: what a chat-completions request may carry, decided per endpoint.

Azure OpenAI serves two kinds of chat model behind the same API, and they refuse each other's
requests:

- ``chat`` (gpt-4o, gpt-4.1, most OpenAI-compatible servers): ``max_tokens`` bounds the answer
  and ``temperature`` is honoured.
- ``reasoning`` (gpt-5 family, o-series): ``max_tokens`` is refused (400 ``unsupported_parameter``)
  in favour of ``max_completion_tokens``, which also counts the hidden reasoning tokens; any
  ``temperature`` but the default 1 is refused (400 ``unsupported_value``); ``reasoning_effort``
  trades answer quality for latency. The model thinks before its first visible token, so the
  first-token timeout must allow for it.

The family is configuration (``model_family`` per endpoint, or ``CHATREF_LLM_MODEL_FAMILY``),
because Azure deployment names are free text (Terraform names ours ``chat``). Only when neither
says does the model or deployment name decide, by the prefixes below, and an unknown name is a
``chat`` model. docs/resilience.md has the table.

>>> family_from_name("gpt-5.5"), family_from_name("o4-mini"), family_from_name("gpt-4.1")
('reasoning', 'reasoning', 'chat')
>>> family_from_name("chat") is None
True
>>> request_fields("reasoning", max_tokens=800, temperature=0.0, reasoning_effort="low",
...                reasoning_budget_tokens=4096)
{'max_completion_tokens': 4896, 'reasoning_effort': 'low'}
>>> request_fields("chat", max_tokens=800, temperature=0.0, reasoning_effort="low",
...                reasoning_budget_tokens=4096)
{'max_tokens': 800, 'temperature': 0.0}
"""

from __future__ import annotations

import re
from typing import Literal, get_args

ModelFamily = Literal["chat", "reasoning"]
ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh"]
MODEL_FAMILIES: tuple[str, ...] = get_args(ModelFamily)
REASONING_EFFORTS: tuple[str, ...] = get_args(ReasoningEffort)

# "low" is accepted by every reasoning model Azure serves (gpt-5 family and o-series); "minimal"
# is not accepted by gpt-5-codex, "none" only by gpt-5.1 and later (Azure's reasoning-models page).
DEFAULT_REASONING_EFFORT: ReasoningEffort = "low"

_REASONING_NAMES = re.compile(r"^(gpt-5|o1|o3|o4|codex-mini)", re.IGNORECASE)
_CHAT_NAMES = re.compile(r"^(gpt-4|gpt-35|gpt-3\.5)", re.IGNORECASE)

# Room for hidden reasoning on top of the visible answer's budget, by effort. A cap, not a
# charge: only tokens the model generates are billed. Too small a budget ends the answer with
# finish_reason "length" before any visible text (reported as an error, see openai_model.py).
REASONING_BUDGET_TOKENS: dict[str, int] = {
    "none": 0, "minimal": 1024, "low": 4096, "medium": 8192, "high": 16384, "xhigh": 32768}

# How long to wait for the first visible token. A reasoning model is silent while it thinks, so
# a chat model's 30 s would fail over from a healthy region that is merely reasoning.
CHAT_FIRST_TOKEN_TIMEOUT_S = 30.0
REASONING_FIRST_TOKEN_TIMEOUT_S: dict[str, float] = {
    "none": 30.0, "minimal": 30.0, "low": 60.0, "medium": 120.0, "high": 300.0, "xhigh": 300.0}
DEFAULT_READ_TIMEOUT_S = 60.0

# Azure OpenAI API versions. "v1" is the GA v1 API ({endpoint}/openai/v1/, no api-version), which
# Azure recommends since August 2025; a dated version uses the deployments path with
# ?api-version=. gpt-5 models need a dated version of at least MIN_REASONING_API_VERSION.
V1_API = "v1"
MIN_REASONING_API_VERSION = "2025-04-01-preview"
API_VERSION_PATTERN = r"^(v1|\d{4}-\d{2}-\d{2}(-preview)?)$"


def family_from_name(name: str) -> ModelFamily | None:
    """The family a model or deployment name shows, or None when the name does not tell."""
    if _REASONING_NAMES.match(name):
        return "reasoning"
    if _CHAT_NAMES.match(name):
        return "chat"
    return None


def first_token_timeout_s(family: str, effort: str | None) -> float:
    if family != "reasoning":
        return CHAT_FIRST_TOKEN_TIMEOUT_S
    return REASONING_FIRST_TOKEN_TIMEOUT_S.get(effort or "medium", 120.0)


def reasoning_budget_tokens(effort: str | None) -> int:
    """The default reasoning allowance; no effort sent means the model's default (medium)."""
    return REASONING_BUDGET_TOKENS.get(effort or "medium", 8192)


def api_version_too_old_for_reasoning(api_version: str) -> bool:
    """Dated versions sort as text; "v1" is always new enough."""
    return api_version != V1_API and api_version < MIN_REASONING_API_VERSION


def request_fields(family: str, *, max_tokens: int, temperature: float,
                   reasoning_effort: str | None, reasoning_budget_tokens: int) -> dict[str, object]:
    """The token-limit and sampling fields of a chat-completions body for ``family``.

    ``max_tokens`` is the visible answer's budget either way; a reasoning model gets
    ``max_completion_tokens`` = answer + reasoning allowance, and no ``temperature``.
    """
    if family == "reasoning":
        fields: dict[str, object] = {
            "max_completion_tokens": max_tokens + reasoning_budget_tokens}
        if reasoning_effort is not None:
            fields["reasoning_effort"] = reasoning_effort
        return fields
    return {"max_tokens": max_tokens, "temperature": temperature}
