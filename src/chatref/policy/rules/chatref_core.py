"""Core services applied the way Azure accepts them today (CKV_CHATREF_070-089; issue 11
findings 2-5 and 13).

Each rule makes one class of apply-time failure found in review unable to come back: a table
created through the Shared Key data plane of an account whose shared keys are off, an Azure
OpenAI customer-managed key attached two ways (it flips on every apply) or through a
user-assigned identity (not supported for Azure OpenAI).
"""

from __future__ import annotations

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
