"""Inventory facts (CKV_CHATREF_INVENTORY, not a rule).

Reports private endpoints and diagnostic settings, so chatref knows which module calls hold
them: a central ``private_endpoint`` or ``diagnostics`` module satisfies rules CKV_CHATREF_023
and 030 for the modules it is pointed at (chatref reads the root module's source for that,
since checkov's rendering of ``module.x.id`` is unreliable when modules share output names).
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class Inventory(BaseResourceCheck):
    """Reports resources no rule looks at but configuration rules need to find (a fact)."""

    def __init__(self) -> None:
        super().__init__(
            name="Inventory (fact for chatref's configuration rules)",
            id="CKV_CHATREF_INVENTORY",
            categories=(CheckCategories.GENERAL_SECURITY,),
            supported_resources=("azurerm_private_endpoint", "azurerm_monitor_diagnostic_setting"),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = []
        return CheckResult.PASSED


check_inventory = Inventory()
