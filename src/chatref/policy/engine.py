"""Run checkov (the engine) and read its JSON into plain records.

checkov lives in its own virtualenv (``make checkov`` creates ``.venv-checkov``): it pins old
libraries and ships an ``hcl2`` module that collides with the app's python-hcl2. chatref runs it
as a subprocess with our rules loaded through ``--external-checks-dir``.

For example (an illustration, not run as a doctest)::

    records = run_checkov(Path("infra/environments/prod"), plan=False)
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatref.errors import ConfigurationError, InputError
from chatref.settings import load_settings

RULES_DIR = Path(__file__).resolve().parent / "rules"
CHECKOV_ENV = "CHATREF_CHECKOV"
# What checkov may need from our environment: where programs and its home are, the locale,
# the proxies and CA bundle of a network that requires them (it downloads nothing with
# --skip-download, but its HTTP library reads them), and its own rendering knob.
CHECKOV_PASSED_ENV = (
    "PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE", "TZ",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "RENDER_EDGES_DUPLICATE_PERCENT",
)
_RESULT_KEYS = {"passed_checks": "passed", "failed_checks": "failed", "skipped_checks": "skipped"}


@dataclass(frozen=True)
class CheckRecord:
    """One check on one resource, as checkov reported it."""

    check_id: str
    name: str
    result: str  # passed | failed | skipped
    resource: str
    file: Path
    start_line: int
    end_line: int
    details: tuple[str, ...] = ()
    guideline: str | None = None
    suppress_comment: str | None = None


def find_checkov(explicit: str | Path | None = None) -> Path:
    """The checkov executable: ``explicit`` (--checkov, else Settings' $CHATREF_CHECKOV), else
    ``.venv-checkov``.

    ``.venv-checkov`` is looked for in the current directory and its parents, then next to the
    source tree this package was installed from (an editable install).
    """
    chosen = explicit
    if chosen:
        path = Path(chosen).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise ConfigurationError(
                f"checkov executable {path} (from --checkov or ${CHECKOV_ENV}) does not exist "
                "or is not executable; run `make checkov` or point to a checkov 3.3 binary"
            )
        return path
    here = Path.cwd().resolve()
    candidates = [p / ".venv-checkov" / "bin" / "checkov" for p in (here, *here.parents)]
    candidates += [p / ".venv-checkov" / "bin" / "checkov" for p in RULES_DIR.parents]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ConfigurationError(
        "checkov is not installed: run `make checkov` in the chatref repository (it creates "
        f".venv-checkov), or set ${CHECKOV_ENV} to a checkov executable"
    )


def checkov_command(
    target: Path,
    *,
    plan: bool,
    checkov: Path,
    var_files: tuple[Path, ...] = (),
    rules_dir: Path = RULES_DIR,
) -> list[str]:
    command = [
        str(checkov),
        "--file" if target.is_file() else "--directory",
        str(target),
        "--framework",
        "terraform_plan" if plan else "terraform",
        "--external-checks-dir",
        str(rules_dir),
        "--skip-download",
        "--soft-fail",
        "--output",
        "json",
    ]
    for var_file in var_files:
        command += ["--var-file", str(var_file)]
    return command


def run_checkov(
    target: Path,
    *,
    plan: bool,
    checkov: Path | None = None,
    var_files: tuple[Path, ...] = (),
    timeout_s: float = 600.0,
    environment: Mapping[str, str] | None = None,
) -> list[CheckRecord]:
    """Scan a Terraform directory (or, with ``plan``, a plan JSON file) with our rules loaded.

    With ``plan`` the target may also be a directory of plan files (the tests scan theirs so).
    checkov's environment is ``environment``, by default the variables of
    ``CHECKOV_PASSED_ENV`` that are set (read through Settings): never the app's keys.
    """
    target = target.resolve()
    if plan and not target.exists():
        raise InputError(f"plan file {target} does not exist (make it with `terraform show -json`)")
    if not plan and not target.is_dir():
        raise InputError(f"Terraform directory {target} does not exist")
    if not plan and not any(target.rglob("*.tf")):
        raise InputError(f"{target} holds no .tf files: point at a Terraform root module")
    for var_file in var_files:
        if not var_file.is_file():
            raise InputError(f"var file {var_file} does not exist")
    if plan and target.is_file():
        _validate_plan(target)
    command = checkov_command(
        target, plan=plan, checkov=find_checkov(checkov), var_files=var_files
    )
    if environment is None:
        environment = load_settings().subprocess_environment(CHECKOV_PASSED_ENV)
    env = {**environment, "LOG_LEVEL": "ERROR", "BC_SKIP_MAPPING": "TRUE", "PYTHONUTF8": "1"}
    # checkov stops resolving variables once 90% of the edges it renders repeat for 4 rounds;
    # a configuration whose modules feed each other (ours) trips that early and leaves whole
    # modules as `var.x`. 100% keeps it going until done or its 50-round cap.
    env.setdefault("RENDER_EDGES_DUPLICATE_PERCENT", "100")
    try:
        done = subprocess.run(  # noqa: S603 - a fixed argv, no shell
            command, capture_output=True, text=True, timeout=timeout_s, env=env, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ConfigurationError(f"checkov did not finish within {timeout_s:.0f}s") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise ConfigurationError(
            f"checkov failed with exit status {done.returncode}: " + " | ".join(tail)
        )
    return parse_checkov_json(done.stdout, target)


def _validate_plan(path: Path) -> None:
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"plan file {path} is not JSON: {exc}") from exc
    if not isinstance(data, dict) or not {"planned_values", "resource_changes"} & set(data):
        raise InputError(
            f"{path} is not a Terraform plan in JSON (no planned_values or resource_changes); "
            "make it with `terraform show -json tfplan > plan.json`"
        )


def parse_checkov_json(stdout: str, target: Path) -> list[CheckRecord]:
    """checkov's ``-o json`` output (one report, a list of them, or a bare summary) as records."""
    try:
        data: Any = json.loads(stdout)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"checkov printed something that is not JSON: {exc}") from exc
    reports = data if isinstance(data, list) else [data]
    base = target if target.is_dir() else target.parent
    records: list[CheckRecord] = []
    for report in reports:
        results = report.get("results") if isinstance(report, dict) else None
        if not results:
            continue  # no resources scanned: checkov prints only a summary
        for key, result in _RESULT_KEYS.items():
            for item in results.get(key) or []:
                records.append(_record(item, result, base))
    return records


def _record(item: dict[str, Any], result: str, base: Path) -> CheckRecord:
    file_text = item.get("file_abs_path") or str(base) + str(item.get("file_path", ""))
    lines = item.get("file_line_range") or [1, 1]
    suppress = item.get("check_result", {}).get("suppress_comment")
    return CheckRecord(
        check_id=str(item["check_id"]),
        name=str(item.get("check_name") or item["check_id"]),
        result=result,
        resource=str(item.get("resource") or ""),
        file=Path(file_text),
        start_line=max(1, int(lines[0])),
        end_line=max(1, int(lines[-1])),
        details=tuple(str(d) for d in item.get("details") or ()),
        guideline=item.get("guideline"),
        suppress_comment=str(suppress) if suppress else None,
    )
