"""Key Vault rules (CKV_CHATREF_004-008)."""

from __future__ import annotations

from typing import Any

from chatref_rulekit import (
    MISSING,
    ChatrefCheck,
    as_int,
    get,
    is_false,
    is_true,
    must_be_set,
    must_be_true,
    show,
)
from checkov.common.models.enums import CheckCategories

KV = ("azurerm_key_vault",)


class PurgeProtection(ChatrefCheck):
    ID = "CKV_CHATREF_004"
    NAME = "Key Vault has purge protection"
    RESOURCES = KV
    CATEGORY = CheckCategories.BACKUP_AND_RECOVERY

    def problems(self, conf: dict[str, Any]) -> list[str]:
        return must_be_true(conf, "purge_protection_enabled")


class SoftDeleteRetention(ChatrefCheck):
    ID = "CKV_CHATREF_005"
    NAME = "Key Vault keeps deleted objects for 90 days"
    RESOURCES = KV
    CATEGORY = CheckCategories.BACKUP_AND_RECOVERY

    def problems(self, conf: dict[str, Any]) -> list[str]:
        value = get(conf, "soft_delete_retention_days")
        if value is MISSING:
            return []  # the provider default is 90
        days = as_int(value)
        if days is None or days < 90:
            return [f"soft_delete_retention_days is {show(value)} (must be 90)"]
        return []


class RbacAuthorization(ChatrefCheck):
    ID = "CKV_CHATREF_006"
    NAME = "Key Vault uses Azure RBAC, not access policies"
    RESOURCES = KV
    CATEGORY = CheckCategories.IAM

    def problems(self, conf: dict[str, Any]) -> list[str]:
        # azurerm 4.x renamed enable_rbac_authorization to rbac_authorization_enabled.
        for path in ("rbac_authorization_enabled", "enable_rbac_authorization"):
            if is_true(get(conf, path)):
                return []
        return ["rbac_authorization_enabled is not true"]


class Firewall(ChatrefCheck):
    ID = "CKV_CHATREF_007"
    NAME = "Key Vault firewall denies by default"
    RESOURCES = KV
    CATEGORY = CheckCategories.NETWORKING

    def problems(self, conf: dict[str, Any]) -> list[str]:
        if is_false(get(conf, "public_network_access_enabled")):
            return []
        action = get(conf, "network_acls/default_action")
        if action == "Deny":
            return []
        return [f"network_acls.default_action is {show(action)} (must be \"Deny\")"]


class Expiry(ChatrefCheck):
    ID = "CKV_CHATREF_008"
    NAME = "Key Vault keys and secrets expire"
    RESOURCES = ("azurerm_key_vault_key", "azurerm_key_vault_secret")
    CATEGORY = CheckCategories.SECRETS

    def problems(self, conf: dict[str, Any]) -> list[str]:
        return must_be_set(conf, "expiration_date")


check_purge = PurgeProtection()
check_soft_delete = SoftDeleteRetention()
check_rbac = RbacAuthorization()
check_firewall = Firewall()
check_expiry = Expiry()
