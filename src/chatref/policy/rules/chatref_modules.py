"""Module calls as facts (CKV_CHATREF_MODULE_CALL, not a rule).

Reports every module call with its file and lines, so chatref can see which modules a central
``private_endpoint`` or ``diagnostics`` module is pointed at (rules CKV_CHATREF_023 and 030).
checkov's own rendering of such references is unreliable when several modules share output
names (``id``), so chatref reads the module block's source text itself.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.module.base_module_check import BaseModuleCheck
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class ModuleCall(BaseModuleCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Module call (fact for chatref's configuration rules)",
            id="CKV_CHATREF_MODULE_CALL",
            categories=(CheckCategories.GENERAL_SECURITY,),
        )

    def scan_module_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = []
        return CheckResult.PASSED


check_module_call = ModuleCall()


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
