"""Every alert names a runbook in docs/runbooks/ that exists, and every runbook has its alert.

An alert names its runbook as ``docs/runbooks/<name>.md`` in its ``description``; an alert made
with ``for_each`` over a local map names one in every entry (``runbook = "docs/runbooks/..."``);
a resource with no description (a budget) carries a ``# runbook: docs/runbooks/...`` comment on
the line above it. Runbooks ending in ``-drill.md`` are drill procedures, run on a schedule, not
answers to an alert.
"""

from __future__ import annotations

import re
from pathlib import Path

from chatref.infra_validate import load_module_dir
from tests.conftest import REPO_ROOT
from tests.infra.conftest import INFRA, WriteTf

RUNBOOKS = REPO_ROOT / "docs" / "runbooks"
ALERT_TYPES = (
    "azurerm_monitor_metric_alert",
    "azurerm_monitor_scheduled_query_rules_alert",
    "azurerm_monitor_scheduled_query_rules_alert_v2",
    "azurerm_monitor_activity_log_alert",
    "azurerm_consumption_budget_resource_group",
    "azurerm_consumption_budget_subscription",
    "azurerm_consumption_budget_management_group",
)
_RUNBOOK = re.compile(r"docs/runbooks/[a-z0-9-]+\.md")
_LOCAL = re.compile(r"^\$\{local\.([a-z0-9_]+)\}$")


def alert_runbooks(module: Path) -> dict[str, list[str]]:
    """Each alert resource of the module directory and the runbooks it names (maybe none)."""
    loaded = load_module_dir(module)
    found: dict[str, list[str]] = {}
    for (rtype, name), block in loaded.resources.items():
        if rtype not in ALERT_TYPES:
            continue
        address = f"{module.name}: {rtype}.{name}"
        body = block.body
        local = _LOCAL.match(str(body.get("for_each", "")))
        if local:
            # one alert per entry: every entry that describes an alert names its runbook
            entries = str(loaded.locals[local.group(1)][0])
            described = entries.count("'description'") + entries.count("description =")
            named = _RUNBOOK.findall(entries)
            found[address] = named if described and len(named) == described else []
            continue
        named = _RUNBOOK.findall(str(body.get("description", "")))
        if not named:
            lines = block.file.read_text(encoding="utf-8").splitlines()
            header = f'resource "{rtype}" "{name}"'
            for i, line in enumerate(lines):
                if line.startswith(header) and i and lines[i - 1].startswith("# runbook:"):
                    named = _RUNBOOK.findall(lines[i - 1])
        found[address] = named
    return found


def _all_alerts() -> dict[str, list[str]]:
    alerts: dict[str, list[str]] = {}
    for module in sorted(p for p in (INFRA / "modules").iterdir() if p.is_dir()):
        alerts.update(alert_runbooks(module))
    return alerts


def test_every_alert_names_an_existing_runbook() -> None:
    alerts = _all_alerts()
    assert len(alerts) >= 6, alerts  # the guide's three, the SLO sets, the budget
    assert [a for a, named in alerts.items() if not named] == []
    missing = {rb for named in alerts.values() for rb in named if not (REPO_ROOT / rb).is_file()}
    assert missing == set()


def test_every_runbook_has_its_alert() -> None:
    named = {rb for runbooks in _all_alerts().values() for rb in runbooks}
    runbooks = {f"docs/runbooks/{p.name}" for p in RUNBOOKS.glob("*.md")
                if not p.name.endswith("-drill.md") and p.name != "README.md"}
    assert runbooks, "docs/runbooks/ holds no runbook"
    assert sorted(runbooks - named) == []


def test_the_slo_runbooks_of_issue_12_exist() -> None:
    for name in ("model-region-down", "throttling", "search-degraded", "latency",
                 "ingest-failures", "certificate-expiry", "budget"):
        assert (RUNBOOKS / f"{name}.md").is_file(), name


def test_an_alert_without_a_runbook_is_caught(write_tf: WriteTf) -> None:
    path = write_tf("m/main.tf", '''
resource "azurerm_monitor_metric_alert" "named" {
  name                = "x"
  resource_group_name = "rg"
  scopes              = ["id"]
  description         = "Too slow. Runbook: docs/runbooks/latency.md"
}

resource "azurerm_monitor_metric_alert" "silent" {
  name                = "y"
  resource_group_name = "rg"
  scopes              = ["id"]
  description         = "Too slow."
}

locals {
  alerts = {
    a = { description = "one", runbook = "docs/runbooks/latency.md" }
    b = { description = "two" }
  }
}

resource "azurerm_monitor_metric_alert" "many" {
  for_each            = local.alerts
  name                = each.key
  resource_group_name = "rg"
  scopes              = ["id"]
  description         = each.value.description
}

# runbook: docs/runbooks/budget.md
resource "azurerm_consumption_budget_resource_group" "budget" {
  name = "b"
}
''')
    found = alert_runbooks(path.parent)
    assert found == {
        "m: azurerm_monitor_metric_alert.named": ["docs/runbooks/latency.md"],
        "m: azurerm_monitor_metric_alert.silent": [],
        "m: azurerm_monitor_metric_alert.many": [],
        "m: azurerm_consumption_budget_resource_group.budget": ["docs/runbooks/budget.md"],
    }
