"""schemathesis against the served app: every check (`--checks all`), every phase (examples,
coverage, fuzzing, stateful), bounded by `--max-examples`. Local mode (loopback, the one local
user): authentication is tested in test_auth.py; here, that no input gives a 500, that every
answer is documented, and that the schema and the app agree. Exceptions the schema cannot
express are in schemathesis.toml beside this file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import LiveServer

pytestmark = pytest.mark.timeout(420)
SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
CONFIG = Path(__file__).with_name("schemathesis.toml")


def test_schemathesis_finds_nothing(live_server: LiveServer, tmp_path: Path) -> None:
    result = subprocess.run(
        [SCHEMATHESIS, "--config-file", str(CONFIG), "run", f"{live_server.url}/openapi.json",
         "--checks", "all", "--max-examples", "15", "--seed", "7", "--no-color",
         "--report-dir", str(tmp_path / "report")],
        capture_output=True, text=True, timeout=400, check=False, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "Stateful" in output and "passed" in output
