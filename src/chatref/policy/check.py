"""``chatref policy check`` as a function: scan, aggregate, apply the profile and overrides.

For example (an illustration, not run as a doctest)::

    report = policy_check(Path("infra/prod"), profile="production")
    report.exit_code
    # 0
"""

from __future__ import annotations

import time
from pathlib import Path

from chatref.policy.aggregate import aggregate, anchor_for
from chatref.policy.engine import CheckRecord, run_checkov
from chatref.policy.overrides import DEFAULT_NAME, Override, load_overrides
from chatref.policy.report import Report, display_path, evaluate


def default_overrides(target: Path, *, plan: bool) -> Path | None:
    """``policy-overrides.toml`` in the scanned directory, or beside the plan file."""
    candidate = (target.parent if plan else target) / DEFAULT_NAME
    return candidate if candidate.is_file() else None


def policy_check(
    target: Path,
    *,
    plan: bool = False,
    profile: str = "production",
    overrides: Path | None = None,
    var_files: tuple[Path, ...] = (),
    checkov: Path | None = None,
) -> Report:
    """Scan ``target`` (a Terraform directory, or a plan JSON file with ``plan``) and judge it."""
    started = time.perf_counter()
    records = run_checkov(target, plan=plan, checkov=checkov, var_files=var_files)
    report = judge(
        records, target, plan=plan, profile=profile,
        overrides=overrides or default_overrides(target, plan=plan),
    )
    report.duration_s = time.perf_counter() - started
    return report


def judge(
    records: list[CheckRecord],
    target: Path,
    *,
    plan: bool,
    profile: str,
    overrides: Path | None = None,
) -> Report:
    """The pure half of ``policy_check``: checkov's records in, the report out."""
    loaded: list[Override] = load_overrides(overrides) if overrides else []
    target = target.resolve()
    folder = target.parent if plan else target
    source = folder if any(folder.glob("*.tf")) else None
    records = aggregate(records, anchor_for(target, plan=plan), source)
    report = evaluate(
        records, profile=profile, overrides=loaded, target=display_path(target),
        input_kind="plan" if plan else "terraform",
    )
    if overrides:
        report.notes.insert(0, f"overrides from {display_path(overrides)}")
    return report
