"""Recorded overrides for soft failures (Sentinel's "soft-mandatory" with a paper trail).

An override file is TOML, by default ``policy-overrides.toml`` in the scanned directory (or
beside the plan file)::

    [[override]]
    rule = "CKV_CHATREF_028"                          # the rule id
    resource = "module.app.azurerm_linux_web_app.*"   # optional glob; default: every resource
    reason = "internal tool behind the VPN until Entra app registration lands"
    approved_by = "platform-team@example.com"
    expires = 2027-03-31                              # optional; after it the override stops

Only soft failures can be overridden; an override of a hard rule is reported and ignored.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatref.errors import InputError

DEFAULT_NAME = "policy-overrides.toml"
MIN_REASON_CHARS = 10


@dataclass(frozen=True)
class Override:
    rule: str
    reason: str
    approved_by: str
    resource: str = "*"
    expires: dt.date | None = None
    source: str = ""

    def matches(self, rule_id: str, resource: str) -> bool:
        return rule_id == self.rule and fnmatch.fnmatchcase(resource, self.resource)

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today > self.expires


def load_overrides(path: Path) -> list[Override]:
    """Read and validate an override file; every problem names the file and the entry."""
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise InputError(f"override file {path}: cannot read it: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"override file {path} is not valid TOML: {exc}") from exc
    entries = data.get("override", [])
    unknown = set(data) - {"override"}
    if unknown or not isinstance(entries, list):
        raise InputError(
            f"override file {path}: expected only [[override]] tables, found {sorted(unknown)}"
        )
    return [_parse(entry, f"{path} override #{n}") for n, entry in enumerate(entries, 1)]


def _parse(entry: Any, where: str) -> Override:
    if not isinstance(entry, dict):
        raise InputError(f"{where}: must be a table")
    allowed = {"rule", "resource", "reason", "approved_by", "expires"}
    if extra := set(entry) - allowed:
        raise InputError(f"{where}: unknown key(s) {sorted(extra)}; allowed: {sorted(allowed)}")
    for key in ("rule", "reason", "approved_by"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise InputError(f"{where}: `{key}` is required and must be a non-empty string")
    if len(entry["reason"].strip()) < MIN_REASON_CHARS:
        raise InputError(f"{where}: `reason` must say why (at least {MIN_REASON_CHARS} chars)")
    resource = entry.get("resource", "*")
    if not isinstance(resource, str) or not resource:
        raise InputError(f"{where}: `resource` must be a non-empty string (a glob)")
    expires = entry.get("expires")
    if expires is not None and not (
        isinstance(expires, dt.date) and not isinstance(expires, dt.datetime)
    ):
        raise InputError(f"{where}: `expires` must be a TOML date like 2027-03-31")
    return Override(
        rule=entry["rule"].strip(),
        reason=entry["reason"].strip(),
        approved_by=entry["approved_by"].strip(),
        resource=resource,
        expires=expires,
        source=where,
    )
