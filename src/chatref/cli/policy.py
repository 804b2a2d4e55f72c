"""``chatref policy check``: production guardrails that fail the build.

Exit status: 0 when nothing hard (and nothing soft without a recorded override) failed, 1 when
something did, 2 when the check could not run (the CLI's error translator).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from chatref.errors import InputError
from chatref.policy.catalog import PROFILES, RULES
from chatref.policy.check import policy_check
from chatref.policy.formats import FORMATS, print_table, render
from chatref.settings import load_settings

policy_app = typer.Typer(
    name="policy",
    help="Policy as code: prove a Terraform configuration meets the production guide.",
    no_args_is_help=True,
)


@policy_app.command("check")
def check(
    path: Annotated[
        Path | None,
        typer.Argument(help="Terraform root module to scan statically (default: .)."),
    ] = None,
    plan: Annotated[
        Path | None,
        typer.Option("--plan", help="A plan in JSON (`terraform show -json tfplan`) instead."),
    ] = None,
    profile: Annotated[
        str, typer.Option("--profile", help=f"One of: {', '.join(PROFILES)}.")
    ] = "production",
    fmt: Annotated[
        str, typer.Option("--format", "-f", help=f"One of: {', '.join(FORMATS)}.")
    ] = "table",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report here, not stdout.")
    ] = None,
    overrides: Annotated[
        Path | None,
        typer.Option("--overrides", help="Override file (default: policy-overrides.toml there)."),
    ] = None,
    var_file: Annotated[
        list[Path] | None, typer.Option("--var-file", help="tfvars to apply (repeatable).")
    ] = None,
    checkov: Annotated[
        Path | None,
        typer.Option("--checkov", help="checkov executable (default: $CHATREF_CHECKOV, "
                     ".venv-checkov)."),
    ] = None,
    show_passed: Annotated[
        bool, typer.Option("--show-passed", help="List passed checks in the table too.")
    ] = False,
) -> None:
    """Check a Terraform directory or plan against the chatref rule pack and checkov's Azure
    checks.

    Example: chatref policy check infra/environments/prod --profile production
    """
    if profile not in PROFILES:
        raise InputError(f"--profile {profile!r}: choose one of {', '.join(PROFILES)}")
    if fmt not in FORMATS:
        raise InputError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if plan is not None and path is not None:
        raise InputError("give either a Terraform directory or --plan, not both")
    target = plan if plan is not None else (path or Path("."))
    report = policy_check(
        target, plan=plan is not None, profile=profile, overrides=overrides,
        var_files=tuple(var_file or ()), checkov=checkov or load_settings().chatref_checkov,
    )
    if output is not None:
        output.write_text(render(report, fmt, show_passed=show_passed) + "\n")
        print_table(report, Console(stderr=True), summary_only=True)
    elif fmt == "table":
        print_table(report, Console(), show_passed=show_passed)
    else:
        typer.echo(render(report, fmt))
    raise typer.Exit(report.exit_code)


@policy_app.command("rules")
def rules(
    profile: Annotated[
        str | None, typer.Option("--profile", help="Show only the rules this profile applies.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List the rule pack: id, title, severity, level per profile, what it enforces."""
    if profile is not None and profile not in PROFILES:
        raise InputError(f"--profile {profile!r}: choose one of {', '.join(PROFILES)}")
    shown = [r for r in RULES.values() if profile is None or r.level(profile) is not None]
    if as_json:
        typer.echo(json.dumps([
            {"id": r.id, "title": r.title, "severity": r.severity.value, "area": r.area,
             "levels": {p: (lvl.value if (lvl := r.level(p)) else None) for p in PROFILES},
             "rationale": r.rationale, "enforces": r.enforces, "fix": r.fix}
            for r in shown
        ], indent=2))
        return
    table = Table(title="chatref policy rules")
    for column in ("rule", "severity", *PROFILES, "title"):
        table.add_column(column, no_wrap=column != "title")
    for r in shown:
        levels = [(lvl.value if (lvl := r.level(p)) else "-") for p in PROFILES]
        table.add_row(r.id, r.severity.value, *levels, r.title)
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.add_typer(policy_app, name="policy")
