"""Azure OpenAI deployments against the model catalogue: offered in the region, not retired.

The catalogue (``model-catalogue.json`` beside the openai module) lists each model, version and
deployment SKU with the regions that offer it and its lifecycle dates, each with its source and
the date it was read. The openai module checks the same file at plan time (preconditions); this
check runs without Terraform, on every call of the openai module: the models it deploys (the
call's ``chat_model``/``embedding_model`` or the module's defaults) in the regions of its
``accounts`` (followed through locals, variable defaults and ``*.tfvars*`` files).

A combination that is not listed, a region that does not offer it, a retirement date that has
passed or a deprecation (no new customers) are errors; a retirement within 90 days, or a
not-sooner-than date within 90 days or already passed, is a warning.

>>> catalogue = ModelCatalogue({"models": [{"model": "m", "version": "1", "sku": "GlobalStandard",
...     "regions": ["swedencentral"], "retirement": "2027-01-10"}]})
>>> for severity, message in catalogue.problems("m", "1", "GlobalStandard", "swedencentral",
...                                            date(2026, 12, 3)):
...     print(severity, message)
warning m 1 (GlobalStandard) retires on 2027-01-10, in 38 days: plan the upgrade
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from chatref.infra_validate.hcl import unquote
from chatref.infra_validate.model import Add, ModuleDir

CATALOGUE_NAME = "model-catalogue.json"
WARN_BEFORE = timedelta(days=90)
_REF = re.compile(r"^\$\{(var|local)\.([\w-]+)\}$")


@dataclass(frozen=True)
class Deployment:
    """One model deployment the Terraform asks for."""

    role: str
    model: str
    version: str
    sku: str


class ModelCatalogue:
    """The catalogue's entries by (model, version, sku)."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.entries: dict[tuple[str, str, str], dict[str, Any]] = {
            (m["model"], m["version"], m["sku"]): m for m in raw["models"]
        }

    @classmethod
    def load(cls, path: Path) -> ModelCatalogue:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def problems(
        self, model: str, version: str, sku: str, region: str, today: date
    ) -> Iterator[tuple[str, str]]:
        """(severity, message) for one deployment in one region."""
        name = f"{model} {version} ({sku})"
        entry = self.entries.get((model, version, sku))
        if entry is None:
            yield "error", (f"{name} is not in the model catalogue: pick a listed combination, "
                            "or add it with its source and the date read")
            return
        if region not in entry.get("regions", []):
            yield "error", f"{name} is not offered in {region} (model catalogue)"
        retirement = _day(entry.get("retirement"))
        deprecation = _day(entry.get("deprecation"))
        not_before = _day(entry.get("retirement_not_before"))
        if retirement is not None and retirement <= today:
            yield "error", f"{name} retired on {retirement}: deploy its replacement"
            return
        if deprecation is not None and deprecation <= today:
            yield "error", (f"{name} is deprecated since {deprecation}: no new deployments "
                            "(existing ones run until retirement)")
        if retirement is not None and retirement - today <= WARN_BEFORE:
            yield "warning", (f"{name} retires on {retirement}, in {(retirement - today).days} "
                              "days: plan the upgrade")
        elif retirement is None and not_before is not None and not_before - today <= WARN_BEFORE:
            yield "warning", (f"{name} is guaranteed only until {not_before}; its retirement "
                              "date is not announced yet: watch the retirement table")


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def _resolve(value: Any, mod: ModuleDir, tfvars: dict[str, Any]) -> Any:
    """Follow a bare ``${var.x}``/``${local.x}`` to a literal: tfvars, then the default."""
    for _ in range(5):
        match = _REF.match(value) if isinstance(value, str) else None
        if match is None:
            return value
        kind, name = match.groups()
        if kind == "local" and name in mod.locals:
            value = mod.locals[name][0]
        elif kind == "var" and name in tfvars:
            value = tfvars[name]
        elif kind == "var" and name in mod.variables and "default" in mod.variables[name].body:
            value = mod.variables[name].body["default"]
        else:
            return None
    return None


def _field(obj: Any, key: str, default: str | None = None) -> str | None:
    if not isinstance(obj, dict) or key not in obj:
        return default
    value = obj[key]
    return unquote(value) if isinstance(value, str) and "${" not in value else default


def deployments(call: dict[str, Any], callee: ModuleDir, mod: ModuleDir,
                tfvars: dict[str, Any]) -> list[Deployment]:
    """The chat and embedding deployments one openai module call asks for."""
    found: list[Deployment] = []
    for role in ("chat", "embedding"):
        variable = callee.variables.get(f"{role}_model")
        default = variable.body.get("default") if variable else None
        given = _resolve(call.get(f"{role}_model", default), mod, tfvars)
        sku_default = _sku_default(variable.body.get("type") if variable else None)
        model, version = _field(given, "name"), _field(given, "version")
        sku = _field(given, "sku_name", sku_default)
        if model and version and sku:
            found.append(Deployment(role, model, version, sku))
    return found


def _sku_default(type_expr: Any) -> str | None:
    match = re.search(r'sku_name\s*=\s*optional\(string,\s*"([^"]+)"\)', str(type_expr))
    return match.group(1) if match else None


def regions(call: dict[str, Any], mod: ModuleDir, tfvars: dict[str, Any]) -> list[str]:
    """Locations of the call's accounts that resolve to literals."""
    accounts = _resolve(call.get("accounts"), mod, tfvars)
    found: list[str] = []
    if isinstance(accounts, dict):
        for key, account in accounts.items():
            if str(key).startswith("__") or not isinstance(account, dict):
                continue
            location = _resolve(account.get("location"), mod, tfvars)
            if isinstance(location, str) and "${" not in location:
                found.append(unquote(location))
    return found


def check_model_catalogue(
    mod: ModuleDir, callees: dict[str, ModuleDir], tfvars: dict[str, Any], add: Add,
    today: date | None = None,
) -> None:
    """Every call of a module that ships a model catalogue, against that catalogue."""
    today = today or date.today()
    for name, callee in callees.items():
        catalogue_path = callee.path / CATALOGUE_NAME
        if not catalogue_path.is_file():
            continue
        catalogue = ModelCatalogue.load(catalogue_path)
        call = mod.modules[name]
        for deployment in deployments(call.body, callee, mod, tfvars):
            for region in regions(call.body, mod, tfvars):
                problems = catalogue.problems(deployment.model, deployment.version,
                                              deployment.sku, region, today)
                for severity, message in problems:
                    code = "model" if severity == "error" else "model-warning"
                    add(call.file, f"{call.address}.{deployment.role}_model", code, message)
