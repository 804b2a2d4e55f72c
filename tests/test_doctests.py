"""`make doctest` runs every `>>>` example in src/ and tests/fakes, except in policy/rules/ (checkov
imports those modules in its own environment; the app's cannot): that folder must hold none."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT

MAKEFILE = REPO_ROOT / "Makefile"
RULES = REPO_ROOT / "src" / "chatref" / "policy" / "rules"


def test_make_doctest_covers_the_whole_package_but_the_checkov_rules() -> None:
    recipe = re.search(r"^doctest:.*\n\t(.+)$", MAKEFILE.read_text(), re.MULTILINE)
    assert recipe is not None, "the Makefile has no doctest target"
    command = recipe.group(1).split()
    assert "--doctest-modules" in command
    assert {"src/chatref", "tests/fakes"} <= set(command)
    ignored = [arg.split("=", 1)[1] for arg in command if arg.startswith("--ignore=")]
    assert ignored == ["src/chatref/policy/rules"]


def test_the_checkov_rules_hold_no_examples_that_would_never_run() -> None:
    with_examples = [path.name for path in RULES.rglob("*.py") if ">>>" in path.read_text()]
    assert with_examples == []
