"""Core services applied the way Azure accepts them today (CKV_CHATREF_070-089; issue 11
findings 2-5 and 13).

Each rule makes one class of apply-time failure found in review unable to come back: a table
created through the Shared Key data plane of an account whose shared keys are off, an Azure
OpenAI customer-managed key attached two ways (it flips on every apply) or through a
user-assigned identity (not supported for Azure OpenAI).
"""

from __future__ import annotations

import re
from typing import Any

from chatref_rulekit import MISSING, ChatrefCheck, get, unresolved
from checkov.common.models.enums import CheckCategories


class TablesThroughManagementPlane(ChatrefCheck):
    ID = "CKV_CHATREF_070"
    NAME = "Storage tables are created through the management plane, not azurerm_storage_table"
    RESOURCES = ("azurerm_storage_table", "azapi_resource")
    CATEGORY = CheckCategories.GENERAL_SECURITY

    def problems(self, conf: dict[str, Any]) -> list[str] | None:
        kind = get(conf, "type")
        if kind is not MISSING:  # an azapi_resource: judged only when it is a table
            if str(kind).startswith("Microsoft.Storage/storageAccounts/tableServices/tables"):
                return []
            return None
        return ["azurerm_storage_table writes through the Table data plane with Shared Key and "
                "gets 403 once shared_access_key_enabled = false (provider issue #32249): create "
                "the table with azapi_resource "
                "(Microsoft.Storage/storageAccounts/tableServices/tables)"]


class OpenAIKeyOneWay(ChatrefCheck):
    ID = "CKV_CHATREF_071"
    NAME = "Azure OpenAI customer-managed keys: one way, through the system-assigned identity"
    RESOURCES = ("azurerm_cognitive_account", "azurerm_cognitive_account_customer_managed_key")
    CATEGORY = CheckCategories.ENCRYPTION

    def problems(self, conf: dict[str, Any]) -> list[str] | None:
        if "cognitive_account_id" in conf:  # the separate key resource
            client_id = get(conf, "identity_client_id")
            if client_id not in (MISSING, None, "") and not unresolved(client_id):
                return ["identity_client_id names a user-assigned identity: Azure OpenAI "
                        "unwraps its key with the system-assigned identity only"]
            if client_id not in (MISSING, None, ""):
                return ["identity_client_id is set: Azure OpenAI unwraps its key with the "
                        "system-assigned identity only; leave it unset"]
            return []
        kind = get(conf, "kind")
        if kind not in ("OpenAI", "AIServices"):
            return None
        if get(conf, "customer_managed_key") is not MISSING:
            return ["the inline customer_managed_key block is optional-not-computed: set with "
                    "azurerm_cognitive_account_customer_managed_key too, the key flips on every "
                    "apply; attach the key only with that resource"]
        return []


check_tables = TablesThroughManagementPlane()
check_openai_key = OpenAIKeyOneWay()


class StorageThroughManagementPlane(ChatrefCheck):
    ID = "CKV_CHATREF_073"
    NAME = "Storage children and settings go through the management plane"
    RESOURCES = ("azurerm_storage_account", "azurerm_storage_container", "azurerm_storage_queue",
                 "azurerm_storage_share")
    CATEGORY = CheckCategories.GENERAL_SECURITY

    def problems(self, conf: dict[str, Any]) -> list[str] | None:
        if self.entity_type == "azurerm_storage_account":
            return [
                f"{block} is written through the account's data plane: the provider refuses it "
                "with features.storage.data_plane_available = false, and a private data plane "
                "cannot be reached from outside the network at apply"
                for block in ("queue_properties", "static_website")
                if get(conf, block) is not MISSING
            ]
        if get(conf, "storage_account_id") is not MISSING:
            return []
        return ["storage_account_name makes the provider create it through the data plane "
                "(Shared Key or Entra ID over a private endpoint): use storage_account_id, which "
                "goes through Azure Resource Manager"]


# What a diagnostic setting's target looks like when it is an Application Insights component: a
# reference to the resource, a module output named for it, or its ARM resource type in an ID.
_APP_INSIGHTS_TARGET = re.compile(
    r"azurerm_application_insights\.|application_insights[a-z_]*_id|"
    r"/providers/microsoft\.insights/components/",
    re.IGNORECASE,
)


def app_insights_target(value: Any) -> bool:
    """True when a diagnostic setting's ``target_resource_id`` is an Application Insights."""
    return isinstance(value, str) and bool(_APP_INSIGHTS_TARGET.search(value))


class AppInsightsDiagnosticsNotDuplicated(ChatrefCheck):
    ID = "CKV_CHATREF_072"
    NAME = "Workspace-based Application Insights has no diagnostic setting of its own"
    RESOURCES = ("azurerm_monitor_diagnostic_setting",)
    CATEGORY = CheckCategories.LOGGING

    def problems(self, conf: dict[str, Any]) -> list[str] | None:
        target = get(conf, "target_resource_id")
        if not app_insights_target(target):
            return []
        return [f"target_resource_id {target!r} is an Application Insights component: "
                "workspace-based Application Insights already stores its telemetry in the "
                "Log Analytics workspace, so a diagnostic setting on it stores every record "
                "twice (and bills it twice); remove the setting"]


check_app_insights_diagnostics = AppInsightsDiagnosticsNotDuplicated()
check_storage_management_plane = StorageThroughManagementPlane()
