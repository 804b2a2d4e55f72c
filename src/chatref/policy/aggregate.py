"""Rules about the whole configuration, decided from facts our checks report per resource.

A checkov check sees one resource at a time, so "OpenAI in 2+ regions", "the three alerts exist"
and "a budget exists" cannot be decided inside checkov. Their checks report facts instead
(``region=westeurope``, ``metrics=exceptions/server``) as checkov details; this module turns the
facts of one scan into one passed or failed record per rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from chatref.policy.catalog import CONFIGURATION_RULES, RULES
from chatref.policy.engine import CheckRecord
from chatref.policy.sources import module_references, module_texts

REQUIRED_ALERT_METRICS = ("exceptions/server", "requests/failed", "requests/duration")
MIN_OPENAI_REGIONS = 2
INVENTORY = "CKV_CHATREF_INVENTORY"
# Graph rules a central module can satisfy: rule id -> the resource type that module holds.
COVERED_THROUGH_MODULES = {
    "CKV_CHATREF_023": "azurerm_private_endpoint",
    "CKV_CHATREF_030": "azurerm_monitor_diagnostic_setting",
}
_MODULE_NAME = re.compile(r"^(?:module\.)?([A-Za-z0-9_-]+)")


def _module_name(address: str) -> str:
    """``module.endpoints["kv"].azurerm_private_endpoint.this`` -> ``endpoints``."""
    match = _MODULE_NAME.match(address)
    return match.group(1) if match else ""


def _facts(record: CheckRecord) -> dict[str, str]:
    pairs = (d.partition("=") for d in record.details)
    return {key: value for key, sep, value in pairs if sep}


def _verdict(
    rule_id: str, ok: bool, message: str, records: list[CheckRecord], anchor: CheckRecord
) -> CheckRecord:
    at = records[0] if records else anchor
    return replace(
        at,
        check_id=rule_id,
        name=RULES[rule_id].title,
        result="passed" if ok else "failed",
        resource=at.resource if records else "(configuration)",
        details=(message,),
    )


def _cover_through_modules(
    records: list[CheckRecord], source: Path | None, inventory: list[CheckRecord]
) -> None:
    """Pass graph failures whose service's module is the target of a central module.

    ``module "private_endpoint" { for_each = { kv = { resource_id = module.key_vault.id } } }``
    gives Key Vault its private endpoint although no edge joins the two resources in checkov's
    graph. Coarse by design: a module referred to by the private endpoint (or diagnostics)
    module counts as covered for the services it holds.
    """
    if source is None:
        return
    refs = module_references(source)
    for rule_id, holder_type in COVERED_THROUGH_MODULES.items():
        holders = {
            _module_name(r.resource)
            for r in [*records, *inventory]
            if r.resource.startswith("module.") and f".{holder_type}." in f"{r.resource}."
        }
        covered = {module: holder for holder in holders for module in refs.get(holder, ())}
        for index, record in enumerate(records):
            if record.check_id != rule_id or record.result != "failed":
                continue
            module = _module_name(record.resource) if record.resource.startswith("module.") else ""
            if module in covered:
                records[index] = replace(
                    record, result="passed",
                    details=(f"reached through module.{covered[module]}",),
                )


# An Application Insights ID handed to a central diagnostics module: a module output named for it.
_APP_INSIGHTS_OUTPUT = re.compile(r"\bmodule\.[A-Za-z0-9_-]+\.(application_insights[a-z_]*_id)\b")
APP_INSIGHTS_RULE = "CKV_CHATREF_072"


def _central_app_insights(records: list[CheckRecord], source: Path | None) -> None:
    """Fail rule 072 for a central diagnostics module given an Application Insights ID.

    When checkov cannot expand the module's ``for_each`` (prod's targets are a ``merge()`` of
    module outputs), it sees one diagnostic setting with ``target_resource_id = each.value``,
    which names nothing; the module call's own text (and the locals it uses) does.
    """
    if source is None:
        return
    texts = module_texts(source)
    for index, record in enumerate(records):
        if record.check_id != APP_INSIGHTS_RULE or record.result != "passed":
            continue
        if record.resource.endswith("]"):
            continue  # checkov expanded the for_each: each instance was judged on its own target
        module = _module_name(record.resource) if record.resource.startswith("module.") else ""
        match = _APP_INSIGHTS_OUTPUT.search(texts.get(module, ""))
        if match:
            records[index] = replace(record, result="failed", details=(
                f"module.{module} is given {match.group(0)} as a target: workspace-based "
                "Application Insights already stores its telemetry in the workspace, so a "
                "diagnostic setting on it stores every record twice; drop it from the targets",
            ))


_RESOURCE_TYPE = re.compile(r"(azurerm_[a-z0-9_]+)\.[A-Za-z0-9_-]+(?:\[[^\]]*\])?$")


def _unevaluated(records: list[CheckRecord]) -> list[CheckRecord]:
    """Failures for resources a graph rule silently skipped.

    checkov's graph checks report nothing for a resource whose attribute is an unresolved
    variable. A guardrail that cannot judge a resource must not pass it, so each resource seen
    anywhere in the scan, of a type a graph rule judges, without a record of that rule, fails.
    """
    judged = {(r.check_id, r.resource) for r in records}
    seen: dict[str, CheckRecord] = {}
    for record in records:
        match = _RESOURCE_TYPE.search(record.resource)
        if match and record.resource not in seen:
            seen[record.resource] = record
    added = []
    for rule in RULES.values():
        for resource, record in seen.items():
            match = _RESOURCE_TYPE.search(resource)
            if match and match.group(1) in rule.types and (rule.id, resource) not in judged:
                added.append(replace(
                    record, check_id=rule.id, name=rule.title, result="failed", details=(
                        "checkov could not evaluate this rule here (a value it needs is an "
                        "unresolved variable)",
                    ),
                ))
    return added


def aggregate(
    records: Iterable[CheckRecord], anchor: CheckRecord, source: Path | None = None
) -> list[CheckRecord]:
    """Replace the fact records of one scan with one verdict per configuration rule.

    ``anchor`` gives the file and line a verdict points at when no resource exists to point at
    (no budget at all, say): the root module's first file, or the plan file. ``source`` is the
    root module's folder, read for central private-endpoint and diagnostics modules (for a
    plan: the folder holding the plan, when its .tf files are there).
    """
    everything = list(records)
    inventory = [r for r in everything if r.check_id == INVENTORY]
    records = [r for r in everything if r.check_id != INVENTORY]
    records += _unevaluated(records)
    _cover_through_modules(records, source, inventory)
    _central_app_insights(records, source)
    facts: dict[str, list[CheckRecord]] = {rule_id: [] for rule_id in CONFIGURATION_RULES}
    kept: list[CheckRecord] = []
    for record in records:
        if record.check_id in facts and record.result == "passed":
            facts[record.check_id].append(record)
        else:
            kept.append(record)  # skipped fact checks stay: the report treats them as skips

    openai = facts["CKV_CHATREF_033"]
    regions = sorted({_facts(r).get("region", "") for r in openai} - {"", "none"})
    if not openai:
        message = "no Azure OpenAI account (kind = \"OpenAI\") found"
    else:
        message = f"Azure OpenAI accounts in {len(regions)} region(s): {', '.join(regions) or '?'}"
    kept.append(_verdict("CKV_CHATREF_033", len(regions) >= MIN_OPENAI_REGIONS, message,
                         openai, anchor))

    alerts = facts["CKV_CHATREF_035"]
    seen = {m for r in alerts for m in _facts(r).get("metrics", "").split(",")}
    missing = [m for m in REQUIRED_ALERT_METRICS if m not in seen]
    message = (
        f"metric alerts missing for: {', '.join(missing)}" if missing
        else "alerts exist for " + ", ".join(REQUIRED_ALERT_METRICS)
    )
    kept.append(_verdict("CKV_CHATREF_035", not missing, message, alerts, anchor))

    budgets = facts["CKV_CHATREF_036"]
    message = f"{len(budgets)} budget(s) found" if budgets else "no consumption budget found"
    kept.append(_verdict("CKV_CHATREF_036", bool(budgets), message, budgets, anchor))
    return kept


def anchor_for(target: Path, *, plan: bool) -> CheckRecord:
    """Where configuration-wide findings point: the plan file, or the root module's main.tf."""
    if plan:
        file = target
    else:
        files = sorted(target.glob("*.tf"))
        main = target / "main.tf"
        file = main if main.exists() else (files[0] if files else target)
    return CheckRecord(
        check_id="", name="", result="passed", resource="(configuration)",
        file=file.resolve(), start_line=1, end_line=1,
    )
