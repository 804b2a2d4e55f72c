"""AI Foundry / ML workspace, AI Search and public-access rules (CKV_CHATREF_019-022, 025)."""

from __future__ import annotations

from typing import Any

from chatref_rulekit import (
    MISSING,
    PAAS,
    WEB_APPS,
    ChatrefCheck,
    as_int,
    get,
    is_false,
    must_be_false,
    show,
)
from checkov.common.models.enums import CheckCategories

_STANDARD_SKUS = {
    "standard", "standard2", "standard3", "storage_optimized_l1", "storage_optimized_l2"
}


def _public_access_disabled(conf: dict[str, Any]) -> bool:
    # azurerm_ai_foundry spells it public_network_access = "Disabled".
    return is_false(get(conf, "public_network_access_enabled")) or (
        get(conf, "public_network_access") == "Disabled"
    )


class WorkspaceHardening(ChatrefCheck):
    ID = "CKV_CHATREF_019"
    NAME = "AI Foundry / ML workspaces are private with a managed network"
    RESOURCES = ("azurerm_machine_learning_workspace", "azurerm_ai_foundry")
    CATEGORY = CheckCategories.NETWORKING

    def problems(self, conf: dict[str, Any]) -> list[str]:
        found = []
        if not _public_access_disabled(conf):
            found.append("public network access is not disabled")
        mode = get(conf, "managed_network/isolation_mode")
        if mode is MISSING or mode == "Disabled":
            found.append(
                f"managed_network.isolation_mode is {show(mode)} "
                "(use AllowOnlyApprovedOutbound or AllowInternetOutbound)"
            )
        return found


class SearchStandardTier(ChatrefCheck):
    ID = "CKV_CHATREF_020"
    NAME = "AI Search runs on the Standard tier or higher"
    RESOURCES = ("azurerm_search_service",)
    CATEGORY = CheckCategories.GENERAL_SECURITY

    def problems(self, conf: dict[str, Any]) -> list[str]:
        sku = get(conf, "sku")
        if str(sku).lower() in _STANDARD_SKUS:
            return []
        return [f"sku is {show(sku)} (must be standard or higher for replicas across zones)"]


class SearchReplicas(ChatrefCheck):
    ID = "CKV_CHATREF_021"
    NAME = "AI Search has 3 or more replicas"
    RESOURCES = ("azurerm_search_service",)
    CATEGORY = CheckCategories.GENERAL_SECURITY

    def problems(self, conf: dict[str, Any]) -> list[str]:
        value = get(conf, "replica_count")
        count = 1 if value is MISSING else as_int(value)
        if count is not None and count >= 3:
            return []
        return [f"replica_count is {show(value)} (must be 3 or more)"]


class SearchLocalAuthOff(ChatrefCheck):
    ID = "CKV_CHATREF_022"
    NAME = "AI Search accepts Entra ID only (API keys off)"
    RESOURCES = ("azurerm_search_service",)
    CATEGORY = CheckCategories.IAM

    def problems(self, conf: dict[str, Any]) -> list[str]:
        return must_be_false(conf, "local_authentication_enabled", default=True)


class NoPublicNetworkAccess(ChatrefCheck):
    ID = "CKV_CHATREF_025"
    NAME = "PaaS services, App Service apps and slots refuse public network access"
    # The services the governance module's deny-public assignments cover (Storage, Key Vault,
    # Azure OpenAI, Search, Container Registry, App Service apps and slots) and the AI workspaces.
    RESOURCES = (*PAAS, *WEB_APPS, "azurerm_linux_web_app_slot", "azurerm_windows_web_app_slot")
    CATEGORY = CheckCategories.NETWORKING

    def problems(self, conf: dict[str, Any]) -> list[str]:
        if _public_access_disabled(conf):
            return []
        return ["public_network_access_enabled is not false (reach it through a private endpoint)"]


check_workspace = WorkspaceHardening()
check_search_tier = SearchStandardTier()
check_search_replicas = SearchReplicas()
check_search_local_auth = SearchLocalAuthOff()
check_public_access = NoPublicNetworkAccess()
