"""Report formats: a rich table for people, JSON for scripts, SARIF 2.1.0 for GitHub code
scanning, JUnit XML for CI test reports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from rich.console import Console
from rich.table import Table

from chatref import __version__
from chatref.policy.catalog import RULES, Level, Severity
from chatref.policy.report import Finding, Report, Status

FORMATS = ("table", "json", "sarif", "junit")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/chatref/chatref/blob/main/docs/policy.md"
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0"
}
_STYLE = {
    Status.FAILED: "bold red", Status.OVERRIDDEN: "yellow", Status.WARNING: "cyan",
    Status.PASSED: "green",
}


def render(report: Report, fmt: str, *, show_passed: bool = False) -> str:
    """The report as text in ``fmt`` (table output is rendered to a string too)."""
    if fmt == "json":
        return to_json(report)
    if fmt == "sarif":
        return to_sarif(report)
    if fmt == "junit":
        return to_junit(report)
    console = Console(record=True, width=160, force_terminal=False)
    print_table(report, console, show_passed=show_passed)
    return console.export_text()


def print_table(
    report: Report, console: Console, *, show_passed: bool = False, summary_only: bool = False
) -> None:
    """Per rule, a row of counts; then each finding with where it is and how to fix it."""
    if not summary_only:
        _print_rule_table(report, console)
        shown = [f for f in report.findings if show_passed or f.status is not Status.PASSED]
        for f in shown:
            console.print(
                f"[{_STYLE[f.status]}]{f.status.value.upper()}[/] ({f.level.value}) "
                f"[bold]{f.rule_id}[/] {f.title}",
                highlight=False,
            )
            console.print(f"    {f.resource}  {f.file}:{f.start_line}", highlight=False)
            if f.message != f.title:
                console.print(f"    {f.message}", highlight=False)
            if f.status is Status.FAILED:
                console.print(f"    why: {f.rationale}", highlight=False)
            if f.status is not Status.PASSED:
                console.print(f"    fix: {f.fix}", highlight=False)
            if f.override_reason:
                console.print(f"    override: {f.override_reason}", highlight=False)
    counts = report.counts()
    verdict = "[bold red]FAILED[/]" if report.exit_code else "[bold green]PASSED[/]"
    console.print(
        f"{verdict}  {counts['failed']} blocking, {counts['overridden']} overridden, "
        f"{counts['warning']} advisory, {counts['passed']} passed "
        f"({report.profile} profile, {report.input_kind}, {report.duration_s:.1f}s)",
        highlight=False,
    )
    for note in report.notes:
        console.print(f"note: {note}", highlight=False)


def _print_rule_table(report: Report, console: Console) -> None:
    counts: dict[str, dict[Status, int]] = {}
    for f in report.findings:
        if not f.builtin:
            counts.setdefault(f.rule_id, dict.fromkeys(Status, 0))[f.status] += 1
    builtin = [f for f in report.findings if f.builtin]
    table = Table(title=f"chatref policy check: {report.target} ({report.profile})")
    table.add_column("rule", no_wrap=True, min_width=15)
    table.add_column("level", no_wrap=True, min_width=8)
    for header in ("pass", "fail", "warn", "ovr"):
        table.add_column(header, justify="right", no_wrap=True, min_width=4)
    table.add_column("title", ratio=1)
    for rule_id in sorted(counts):
        rule = RULES[rule_id]
        level = rule.level(report.profile)
        row = counts[rule_id]
        table.add_row(
            rule_id, level.value if level else "-",
            *(f"[{_STYLE[s]}]{row[s]}[/]" if row[s] and s is not Status.PASSED else str(row[s])
              for s in Status),
            rule.title,
        )
    if builtin:
        table.add_row(
            "checkov", "advisory",
            *(str(sum(1 for f in builtin if f.status is s)) for s in Status),
            "checkov's built-in Azure checks",
        )
    console.print(table)


def _finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule_id, "title": f.title, "severity": f.severity.value,
        "level": f.level.value, "status": f.status.value, "resource": f.resource,
        "file": f.file, "start_line": f.start_line, "end_line": f.end_line,
        "message": f.message, "rationale": f.rationale, "fix": f.fix, "enforces": f.enforces,
        "builtin": f.builtin, "override_reason": f.override_reason,
    }


def to_json(report: Report) -> str:
    return json.dumps(
        {
            "target": report.target, "profile": report.profile, "input": report.input_kind,
            "passed": report.exit_code == 0, "exit_code": report.exit_code,
            "counts": report.counts(), "duration_s": round(report.duration_s, 3),
            "notes": report.notes,
            "findings": [_finding_dict(f) for f in report.findings],
        },
        indent=2,
    )


def _sarif_level(f: Finding) -> str:
    if f.status is Status.WARNING or f.level is Level.ADVISORY:
        return "note" if f.builtin else "warning"
    return "error"


def _sarif_rule(f: Finding) -> dict[str, Any]:
    rule = RULES.get(f.rule_id)
    help_text = (
        f"{f.title}\n\nWhy: {f.rationale}\nEnforces: {f.enforces}\nFix: {f.fix}"
    )
    return {
        "id": f.rule_id,
        "name": f.rule_id.replace("_", ""),
        "shortDescription": {"text": f.title},
        "fullDescription": {"text": f.rationale},
        "help": {
            "text": help_text,
            "markdown": f"**{f.title}**\n\n*Why:* {f.rationale}\n\n*Enforces:* {f.enforces}"
                        f"\n\n*Fix:* {f.fix}",
        },
        "helpUri": INFORMATION_URI,
        "defaultConfiguration": {"level": _sarif_level(f)},
        "properties": {
            "tags": ["security", "terraform", rule.area if rule else "checkov"],
            "security-severity": _SECURITY_SEVERITY[f.severity],
            "precision": "high",
        },
    }


def _artifact_location(file: str) -> dict[str, str]:
    """Repo-relative URIs (what code scanning places on a diff); absolute ones as file URIs."""
    path = PurePosixPath(file)
    if path.is_absolute():
        return {"uri": path.as_uri()}
    return {"uri": quote(file), "uriBaseId": "%SRCROOT%"}


def to_sarif(report: Report) -> str:
    """SARIF 2.1.0 for GitHub code scanning: failures, overrides (as suppressed) and warnings."""
    reported = [f for f in report.findings if f.status is not Status.PASSED]
    rules: dict[str, dict[str, Any]] = {}
    for f in reported:
        rules.setdefault(f.rule_id, _sarif_rule(f))
    index = {rule_id: n for n, rule_id in enumerate(rules)}
    results = []
    for f in reported:
        result: dict[str, Any] = {
            "ruleId": f.rule_id,
            "ruleIndex": index[f.rule_id],
            "level": _sarif_level(f),
            "message": {"text": f"{f.resource}: {f.message}. Fix: {f.fix}"},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": _artifact_location(f.file),
                    "region": {"startLine": f.start_line, "endLine": f.end_line},
                },
                "logicalLocations": [{"fullyQualifiedName": f.resource, "kind": "resource"}],
            }],
            "partialFingerprints": {"chatrefFinding/v1": f"{f.rule_id}:{f.resource}"},
            "properties": {"enforcement": f.level.value, "profile": report.profile},
        }
        if f.status is Status.OVERRIDDEN:
            result["suppressions"] = [
                {"kind": "external", "status": "accepted", "justification": f.override_reason}
            ]
        results.append(result)
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "chatref-policy", "version": __version__,
                "informationUri": INFORMATION_URI, "rules": list(rules.values()),
            }},
            "automationDetails": {"id": f"chatref-policy/{report.profile}/"},
            "results": results,
        }],
    }
    return json.dumps(sarif, indent=2)


def to_junit(report: Report) -> str:
    """One testcase per rule and resource; blocking failures are <failure>, overrides <skipped>."""
    suite = ET.Element(
        "testsuite",
        name=f"chatref-policy.{report.profile}",
        tests=str(len(report.findings)),
        failures=str(len(report.blocking)),
        errors="0",
        skipped=str(len(report.with_status(Status.OVERRIDDEN))),
        time=f"{report.duration_s:.3f}",
    )
    for f in report.findings:
        case = ET.SubElement(
            suite, "testcase", classname=f"{f.rule_id}", name=f.resource or f.rule_id,
            file=f.file, line=str(f.start_line),
        )
        text = f"{f.title}\n{f.file}:{f.start_line} {f.resource}\n{f.message}\nWhy: " \
               f"{f.rationale}\nFix: {f.fix}"
        if f.status is Status.FAILED:
            ET.SubElement(case, "failure", message=f"{f.level.value}: {f.message}",
                          type=f.rule_id).text = text
        elif f.status is Status.OVERRIDDEN:
            ET.SubElement(case, "skipped", message=f"overridden: {f.override_reason}")
        elif f.status is Status.WARNING:
            ET.SubElement(case, "system-out").text = f"advisory: {text}"
    root = ET.Element("testsuites", name="chatref policy check")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
