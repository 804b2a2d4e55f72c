"""Monitoring, cost and naming rules (CKV_CHATREF_034-037)."""

from __future__ import annotations

import re
from typing import Any

from chatref_rulekit import (
    MISSING,
    NOT_INDEXED,
    TAGGABLE,
    TAGGED_MORE,
    TAGGED_ONLY,
    ChatrefCheck,
    FactCheck,
    as_int,
    get,
    show,
    unresolved,
)
from checkov.common.models.enums import CheckCategories

_ENVS = "dev|test|staging|prod"
_HYPHENATED = re.compile(rf"^[a-z0-9]+-({_ENVS})-[a-z0-9][a-z0-9-]*$")
_COMPACT = re.compile(rf"^[a-z0-9]+({_ENVS})[a-z0-9]*$")
# Azure forbids hyphens in these names; key vault names may use either form.
_NO_HYPHENS = {"azurerm_storage_account", "azurerm_container_registry"}
_EITHER = {"azurerm_key_vault"}
# Types the naming policy exempts (infra/modules/governance, naming_exempted_types), by the ARM
# type the policy sees: Azure fixes their names (privatelink.vaultcore.azure.net), requires a GUID
# (workbooks), or the name is scoped to a parent that follows the convention (a slot's host name
# is <app>-<slot>). tests/policy keeps this map and the module's default list in step.
NAMING_EXEMPT = {
    "azurerm_private_dns_zone": "Microsoft.Network/privateDnsZones",
    "azurerm_application_insights_workbook": "Microsoft.Insights/workbooks",
    "azurerm_linux_web_app_slot": "Microsoft.Web/sites/slots",
    "azurerm_windows_web_app_slot": "Microsoft.Web/sites/slots",
}
# Every resource the naming policy judges (mode Indexed: tags and a location), less the exempt.
NAMED = tuple(
    t for t in (*TAGGABLE, *TAGGED_ONLY, *TAGGED_MORE)
    if t not in NAMING_EXEMPT and t not in NOT_INDEXED
)
_INTERPOLATION = re.compile(r"\$\{[^}]*\}")


class LogRetention(ChatrefCheck):
    ID = "CKV_CHATREF_034"
    NAME = "Log Analytics keeps logs for 90 days or more"
    RESOURCES = ("azurerm_log_analytics_workspace",)
    CATEGORY = CheckCategories.LOGGING

    def problems(self, conf: dict[str, Any]) -> list[str]:
        value = get(conf, "retention_in_days")
        days = 30 if value is MISSING else as_int(value)
        if days is not None and days >= 90:
            return []
        return [f"retention_in_days is {show(value)} (must be 90 or more; default 30)"]


class AlertMetrics(FactCheck):
    ID = "CKV_CHATREF_035"
    NAME = "Alerts on server exceptions, failed requests and response time"
    RESOURCES = ("azurerm_monitor_metric_alert",)
    CATEGORY = CheckCategories.LOGGING

    def facts(self, conf: dict[str, Any]) -> dict[str, str] | None:
        blocks = conf.get("criteria") or []
        names = [str(get(block, "metric_name")) for block in blocks if isinstance(block, dict)]
        if not names:
            return None
        return {"metrics": ",".join(names)}


class Budget(FactCheck):
    ID = "CKV_CHATREF_036"
    NAME = "A cost budget with alerts exists"
    RESOURCES = (
        "azurerm_consumption_budget_resource_group",
        "azurerm_consumption_budget_subscription",
        "azurerm_consumption_budget_management_group",
    )
    CATEGORY = CheckCategories.GENERAL_SECURITY

    def facts(self, conf: dict[str, Any]) -> dict[str, str] | None:
        return {"amount": str(get(conf, "amount"))}


class NamingConvention(ChatrefCheck):
    ID = "CKV_CHATREF_037"
    NAME = "Names follow <prefix>-<environment>-<service>"
    RESOURCES = NAMED
    CATEGORY = CheckCategories.CONVENTION

    def problems(self, conf: dict[str, Any]) -> list[str] | None:
        name = get(conf, "name")
        if name is MISSING:
            return None
        # A for_each key left in the name ("chatref-prod-${each.key}-pe") stands for one word;
        # the convention is about the parts around it.
        name = _INTERPOLATION.sub("x", str(name)) if "each." in str(name) else str(name)
        if unresolved(name):
            return [f"name {name!r} cannot be resolved statically"]
        if self.entity_type in _NO_HYPHENS:
            patterns, expected = [_COMPACT], "<prefix><environment><service>"
        elif self.entity_type in _EITHER:
            patterns = [_HYPHENATED, _COMPACT]
            expected = "<prefix>-<environment>-<service> or <prefix><environment><service>"
        else:
            patterns, expected = [_HYPHENATED], "<prefix>-<environment>-<service>"
        if any(p.match(name) for p in patterns):
            return []
        return [f"name {name!r} does not match {expected} (environment one of {_ENVS})"]


check_retention = LogRetention()
check_alerts = AlertMetrics()
check_budget = Budget()
check_naming = NamingConvention()
