"""Turn checkov's records into chatref's report: levels per profile, overrides, exit status.

For example (an illustration, not run as a doctest)::

    report = evaluate(records, profile="production", overrides=[])
    report.exit_code  # 0 only when nothing hard, and nothing soft without an override, failed
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from chatref.errors import InputError
from chatref.policy.catalog import BUILTIN_LEVEL, PROFILES, RULES, Level, Severity
from chatref.policy.engine import CheckRecord
from chatref.policy.overrides import Override


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # blocks the build (hard, or soft without an override)
    WARNING = "warning"  # advisory failure
    OVERRIDDEN = "overridden"  # soft failure with a recorded reason


@dataclass(frozen=True)
class Finding:
    """One rule on one resource, with everything a person needs to act on it."""

    rule_id: str
    title: str
    severity: Severity
    level: Level
    status: Status
    resource: str
    file: str
    start_line: int
    end_line: int
    message: str
    rationale: str
    fix: str
    enforces: str
    builtin: bool
    override_reason: str | None = None


@dataclass
class Report:
    target: str
    profile: str
    input_kind: str  # terraform | plan
    findings: list[Finding]
    notes: list[str] = field(default_factory=list)
    duration_s: float = 0.0

    def with_status(self, *statuses: Status) -> list[Finding]:
        return [f for f in self.findings if f.status in statuses]

    @property
    def blocking(self) -> list[Finding]:
        return self.with_status(Status.FAILED)

    @property
    def exit_code(self) -> int:
        return 1 if self.blocking else 0

    def counts(self) -> dict[str, int]:
        return {status.value: len(self.with_status(status)) for status in Status}


def display_path(path: Path) -> str:
    """Relative to the working directory when inside it (what SARIF and editors want)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def evaluate(
    records: Iterable[CheckRecord],
    *,
    profile: str,
    overrides: Iterable[Override] = (),
    target: str = "",
    input_kind: str = "terraform",
    today: dt.date | None = None,
) -> Report:
    """Apply ``profile``'s levels and the overrides to checkov's records."""
    if profile not in PROFILES:
        raise InputError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    today = today or dt.date.today()
    active: list[Override] = []
    notes: list[str] = []
    for override in overrides:
        if override.expired(today):
            notes.append(f"{override.source}: expired on {override.expires}, ignored")
        else:
            active.append(override)
    used: set[int] = set()
    findings: list[Finding] = []
    for record in records:
        finding = _finding(record, profile, active, used, notes)
        if finding is not None:
            findings.append(finding)
    for index, override in enumerate(active):
        if index not in used:
            notes.append(f"{override.source}: matched no soft failure ({override.rule})")
    order = {Status.FAILED: 0, Status.OVERRIDDEN: 1, Status.WARNING: 2, Status.PASSED: 3}
    findings.sort(key=lambda f: (order[f.status], f.builtin, f.rule_id, f.resource))
    return Report(target=target, profile=profile, input_kind=input_kind, findings=findings,
                  notes=notes)


@dataclass(frozen=True)
class _RuleText:
    level: Level
    title: str
    severity: Severity
    rationale: str
    fix: str
    enforces: str


def _rule_text(record: CheckRecord, profile: str) -> _RuleText | None:
    """What the report says of the record's rule (ours from the catalog, or checkov's own);
    None when the profile does not apply the rule."""
    rule = RULES.get(record.check_id)
    if rule is None:
        fix = f"see {record.guideline}" if record.guideline else "see the checkov documentation"
        return _RuleText(BUILTIN_LEVEL, record.name, Severity.MEDIUM,
                         "checkov built-in Azure check", fix, f"checkov {record.check_id}")
    level = rule.level(profile)
    if level is None:
        return None
    return _RuleText(level, rule.title, rule.severity, rule.rationale, rule.fix, rule.enforces)


def _status(
    record: CheckRecord,
    level: Level,
    profile: str,
    overrides: list[Override],
    used: set[int],
    notes: list[str],
) -> tuple[Status, str | None, str | None]:
    """The record's status, a message replacing checkov's (or None), and an override reason."""
    if record.result == "passed":
        return Status.PASSED, None, None
    if record.result == "skipped":
        # An inline `checkov:skip=<id>:<reason>` comment: an override for soft and advisory
        # rules; a hard rule cannot be skipped, so it fails.
        comment = record.suppress_comment or "no reason given"
        if level is Level.HARD:
            return (Status.FAILED,
                    f"skipped inline ({comment}), but this rule is hard in {profile}", None)
        return Status.OVERRIDDEN, None, f"inline checkov:skip: {comment}"
    if level is Level.ADVISORY:
        return Status.WARNING, None, None
    for index, override in enumerate(overrides):
        if not override.matches(record.check_id, record.resource):
            continue
        used.add(index)
        if level is Level.SOFT:
            return (Status.OVERRIDDEN, None,
                    f"{override.reason} (approved by {override.approved_by})")
        notes.append(f"{override.source}: {record.check_id} is hard in {profile}; override ignored")
    return Status.FAILED, None, None


def _finding(
    record: CheckRecord,
    profile: str,
    overrides: list[Override],
    used: set[int],
    notes: list[str],
) -> Finding | None:
    text = _rule_text(record, profile)
    if text is None:
        return None  # the profile does not apply this rule
    status, replaced, reason = _status(record, text.level, profile, overrides, used, notes)
    message = replaced or "; ".join(record.details) or text.title
    return Finding(
        rule_id=record.check_id,
        title=text.title,
        severity=text.severity,
        level=text.level,
        status=status,
        resource=record.resource,
        file=display_path(record.file),
        start_line=record.start_line,
        end_line=record.end_line,
        message=message,
        rationale=text.rationale,
        fix=text.fix,
        enforces=text.enforces,
        builtin=record.check_id not in RULES,
        override_reason=reason,
    )
