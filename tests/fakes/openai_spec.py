"""Request validation for the fake Azure OpenAI against the v1 API's OpenAPI document.

The spec file is a verbatim excerpt of Azure's v1 OpenAPI 3.0 document (tests/fakes/specs/README
has the source and what was copied): the ``/chat/completions`` operation, its request body
``AzureCreateChatCompletionRequest`` and the ``api-version`` enum. Made as strict as the service:

- OpenAPI's ``nullable: true`` also accepts ``null``;
- a property the schema does not list is refused (the service answers 400 "Unrecognized request
  argument supplied");
- on a deployment path (a dated api-version) the deployment is in the path, so ``model`` is not
  required there, as in the dated specs;
- ``$ref``s to schemas outside the excerpt (the message union, ``OpenAI.ReasoningEffort``, ...)
  accept anything: the fake checks messages itself, and the model family rules
  (chatref.ops.fakerules) check what a deployment accepts.

>>> spec = ChatCompletionsSpec.load()
>>> spec.body_errors({"model": "chat", "messages": [{"role": "user", "content": "hi"}],
...                   "max_completion_tokens": 900, "reasoning_effort": "low", "stream": True,
...                   "stream_options": {"include_usage": True}})
[]
>>> spec.body_errors({"model": "chat", "messages": [], "temperature": 3})[0]
'messages: [] should be non-empty'
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SPEC_FILE = Path(__file__).parent / "specs" / "azure-openai-v1" / "chat-completions.json"
REQUEST_SCHEMA = "AzureCreateChatCompletionRequest"


def _strict(schema: Any, known: set[str], top: bool = False) -> Any:
    if isinstance(schema, list):
        return [_strict(item, known) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.rsplit("/", 1)[-1] not in known:
        return {}  # outside the excerpt: not checked here
    out = {k: _strict(v, known) for k, v in schema.items()
           if k not in ("description", "x-oaiTypeLabel", "deprecated", "format")}
    if "allOf" in out:
        out["allOf"] = [s for s in out["allOf"] if s != {}]
        if not out["allOf"]:
            del out["allOf"]
            out.pop("type", None)  # "type": "object" beside an unchecked $ref: the ref decides
    if out.get("nullable") is True:
        out.pop("nullable")
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        elif "type" not in out:
            out = {"anyOf": [out, {"type": "null"}]}
    if top and isinstance(out.get("properties"), dict):
        out["additionalProperties"] = False
    return out


class ChatCompletionsSpec:
    """The chat-completions request schema and api-version values, ready to check requests."""

    def __init__(self, document: dict[str, Any]) -> None:
        schemas = document["components"]["schemas"]
        known = set(schemas)
        self.api_versions = frozenset(schemas["AzureAIFoundryModelsApiVersion"]["enum"])
        schema = _strict(schemas[REQUEST_SCHEMA], known, top=True)
        self._validator = jsonschema.Draft7Validator(schema)
        in_path = {**schema, "required": [r for r in schema["required"] if r != "model"]}
        self._deployment_validator = jsonschema.Draft7Validator(in_path)

    @classmethod
    @cache
    def load(cls) -> ChatCompletionsSpec:
        return cls(json.loads(SPEC_FILE.read_text(encoding="utf-8")))

    def body_errors(self, body: Any, *, deployment_in_path: bool = False) -> list[str]:
        """What is wrong with ``body``, one line each (empty: the spec accepts it)."""
        validator = self._deployment_validator if deployment_in_path else self._validator
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
        return [f"{'.'.join(str(p) for p in e.path) or 'body'}: {e.message}" for e in errors]

    @staticmethod
    def unknown_argument(body: dict[str, Any], message: str) -> str | None:
        """The first unknown top-level argument named by a validation message, if any."""
        if "Additional properties are not allowed" not in message:
            return None
        known = ChatCompletionsSpec.load()._validator.schema.get("properties", {})
        unknown = sorted(set(body) - set(known))
        return unknown[0] if unknown else None
