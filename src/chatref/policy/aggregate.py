"""Rules about the whole configuration, decided from facts our checks report per resource.

A checkov check sees one resource at a time, so "OpenAI in 2+ regions", "the three alerts exist"
and "a budget exists" cannot be decided inside checkov. Their checks report facts instead
(``region=westeurope``, ``metrics=exceptions/server``) as checkov details; this module turns the
facts of one scan into one passed or failed record per rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from chatref.policy.catalog import CONFIGURATION_RULES, RULES
from chatref.policy.engine import CheckRecord

REQUIRED_ALERT_METRICS = ("exceptions/server", "requests/failed", "requests/duration")
MIN_OPENAI_REGIONS = 2


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


def aggregate(records: Iterable[CheckRecord], anchor: CheckRecord) -> list[CheckRecord]:
    """Replace the fact records of one scan with one verdict per configuration rule.

    ``anchor`` gives the file and line a verdict points at when no resource exists to point at
    (no budget at all, say): the root module's first file, or the plan file.
    """
    records = list(records)
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
