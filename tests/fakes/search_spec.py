"""Request validation for the fake Azure AI Search against the official Swagger (2024-07-01).

The spec files are verbatim copies in tests/fakes/specs/ (see its README for the source and how to
refresh them). Every request the fake receives is checked here before it is served: the path must
be an operation of the spec, required query and header parameters present (``api-version`` equal
to the spec's version, as the service answers 400 to an unknown one), and the body valid against
the operation's schema, made stricter than plain JSON Schema the way the service is strict:

- ``enum``s marked ``x-ms-enum.modelAsString`` are extensible: their ``enum`` is dropped
  (``Collection(Edm.Single)`` is not listed under ``SearchFieldDataType`` but is what the service
  takes).
- ``x-nullable: true`` properties also accept ``null``.
- Objects that list their properties reject unknown ones (the service answers 400 to a property it
  does not know), except where the spec says ``additionalProperties`` (an index action carries the
  document's fields: those are checked against the index's own fields by the fake).
- A polymorphic base (``discriminator``) is resolved to the subtype its discriminator names
  (``VectorQuery`` ``kind: vector`` -> ``RawVectorQuery``), and the instance is validated against
  the base's and the subtype's properties together; an unknown kind is an error.

>>> spec = SearchSpec.load()
>>> spec.check("POST", "/indexes('docs')/docs/search.post.search",
...            {"api-version": "2024-07-01"}, {}, {"search": "x", "top": 5})
[]
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema import validators

SPEC_DIR = Path(__file__).parent / "specs" / "search-2024-07-01"
API_VERSION = "2024-07-01"


@dataclass(frozen=True)
class Operation:
    method: str
    template: str  # e.g. /indexes('{indexName}')/docs/search.post.search
    pattern: re.Pattern[str]
    body_ref: str | None
    body_required: bool
    query: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> parameter
    headers: dict[str, dict[str, Any]] = field(default_factory=dict)  # lower name -> parameter


def _strict(schema: Any, bases: set[str]) -> Any:
    """The spec's schemas made as strict as the service (see the module docstring)."""
    if isinstance(schema, list):
        return [_strict(item, bases) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v, bases) for k, v in schema.items()}
    if out.get("x-ms-enum", {}).get("modelAsString"):
        out.pop("enum", None)
    if out.get("x-nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    if isinstance(out.get("properties"), dict) and "additionalProperties" not in out \
            and "discriminator" not in out and "allOf" not in out:
        out["additionalProperties"] = False
    return out


class SearchSpec:
    """The operations of searchservice.json and searchindex.json, ready to check requests."""

    def __init__(self, documents: dict[str, dict[str, Any]]) -> None:
        self.operations: list[Operation] = []
        definitions: dict[str, Any] = {}
        for name, doc in documents.items():
            prefix = "/indexes('{indexName}')" if name == "searchindex" else ""
            for path, ops in doc["paths"].items():
                for method, op in ops.items():
                    if method == "parameters":
                        continue
                    self.operations.append(self._operation(doc, method, prefix + path, op))
            for key, value in doc["definitions"].items():
                definitions.setdefault(key, value)
        # Subtypes of each polymorphic base: {base: {discriminator value: subtype name}}.
        self.subtypes: dict[str, dict[str, str]] = {}
        for name, schema in definitions.items():
            for part in schema.get("allOf", []):
                ref = part.get("$ref", "")
                if ref.startswith("#/definitions/"):
                    base = ref.rsplit("/", 1)[1]
                    value = schema.get("x-ms-discriminator-value", name)
                    self.subtypes.setdefault(base, {})[value] = name
        bases = set(self.subtypes)
        self.definitions = {k: _strict(v, bases) for k, v in definitions.items()}
        # Subtype validation uses base + own properties, so drop their allOf back to the base.
        self._flat: dict[str, dict[str, Any]] = {}
        for values in self.subtypes.values():
            for sub in values.values():
                self._flat[sub] = self._flatten(sub)
        self._by_id = {id(v): k for k, v in self.definitions.items()}
        self._validator_class = validators.extend(
            jsonschema.Draft4Validator, {"discriminator": self._discriminator}
        )

    @classmethod
    def load(cls, spec_dir: Path = SPEC_DIR) -> SearchSpec:
        return _load(spec_dir)

    # ---- building ---------------------------------------------------------------------------
    @staticmethod
    def _operation(doc: dict[str, Any], method: str, template: str,
                   op: dict[str, Any]) -> Operation:
        regex = re.escape(template)
        regex = re.sub(r"\\\{[A-Za-z]+\\\}", r"[^/']+", regex)
        # The $count path literally has a dollar sign.
        pattern = re.compile("^" + regex + "$")
        body_ref, body_required = None, False
        query: dict[str, dict[str, Any]] = {}
        headers: dict[str, dict[str, Any]] = {}
        for param in op.get("parameters", []):
            if "$ref" in param:
                param = doc["parameters"][param["$ref"].rsplit("/", 1)[1]]
            where = param.get("in")
            if where == "body":
                body_ref = param["schema"].get("$ref")
                body_required = bool(param.get("required"))
            elif where == "query":
                query[param["name"]] = param
            elif where == "header":
                headers[param["name"].lower()] = param
        return Operation(method.upper(), template, pattern, body_ref, body_required, query,
                         headers)

    def _flatten(self, name: str) -> dict[str, Any]:
        schema = self.definitions[name]
        properties: dict[str, Any] = {}
        required: list[str] = []
        for part in schema.get("allOf", []):
            ref = part.get("$ref", "")
            if ref.startswith("#/definitions/"):
                base = self._flatten(ref.rsplit("/", 1)[1])
                properties.update(base.get("properties", {}))
                required.extend(base.get("required", []))
        properties.update(schema.get("properties", {}))
        required.extend(schema.get("required", []))
        return {"type": "object", "properties": properties, "required": sorted(set(required)),
                "additionalProperties": False}

    # ---- validating -------------------------------------------------------------------------
    def _discriminator(self, validator: Any, prop: str, instance: Any,
                       schema: dict[str, Any]) -> Iterator[jsonschema.ValidationError]:
        if not isinstance(instance, dict):
            return
        base = self._by_id.get(id(schema))
        if base is None:
            return
        value = instance.get(prop)
        subtype = self.subtypes.get(base, {}).get(value)
        if subtype is None:
            known = ", ".join(sorted(self.subtypes.get(base, {})))
            yield jsonschema.ValidationError(f"{prop} {value!r} is not one of {known} ({base})")
            return
        yield from validator.descend(instance, self._flat[subtype])

    def body_errors(self, ref: str, body: Any) -> list[str]:
        root = {"definitions": self.definitions, "$ref": ref}
        checker = self._validator_class(root)
        return [f"{'/'.join(str(p) for p in e.absolute_path) or '(body)'}: {e.message}"
                for e in checker.iter_errors(body)]

    def find(self, method: str, path: str) -> Operation | None:
        for op in self.operations:
            if op.method == method and op.pattern.match(path):
                return op
        return None

    def check(self, method: str, path: str, query: Mapping[str, str],
              headers: Mapping[str, str], body: Any) -> list[str]:
        """What is wrong with this request, as the service would see it ([] when valid)."""
        op = self.find(method, path)
        if op is None:
            return [f"no operation {method} {path} in the 2024-07-01 API"]
        errors: list[str] = []
        for name, param in op.query.items():
            if param.get("required") and name not in query:
                errors.append(f"query parameter {name} is required")
        if query.get("api-version") not in (None, API_VERSION):
            errors.append(f"api-version {query.get('api-version')!r} is not {API_VERSION}")
        for name, param in op.headers.items():
            if param.get("required") and name not in {h.lower() for h in headers}:
                errors.append(f"header {param['name']} is required")
            value = {k.lower(): v for k, v in headers.items()}.get(name)
            if value is not None and "enum" in param and value not in param["enum"]:
                errors.append(f"header {param['name']} {value!r} is not one of {param['enum']}")
        if op.body_ref is not None:
            if body is None:
                if op.body_required:
                    errors.append("a JSON body is required")
            else:
                errors.extend(self.body_errors(op.body_ref, body))
        return errors


@cache
def _load(spec_dir: Path) -> SearchSpec:
    documents = {
        name: json.loads((spec_dir / f"{name}.json").read_text(encoding="utf-8"))
        for name in ("searchservice", "searchindex")
    }
    return SearchSpec(copy.deepcopy(documents))
