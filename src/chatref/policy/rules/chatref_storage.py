"""Storage and container registry rules (CKV_CHATREF_010-018; 014 is a graph check)."""

from __future__ import annotations

from typing import Any

from chatref_rulekit import (
    MISSING,
    ChatrefCheck,
    get,
    is_false,
    is_true,
    must_be_false,
    must_be_true,
    show,
)
from checkov.common.models.enums import CheckCategories

SA = ("azurerm_storage_account",)
ACR = ("azurerm_container_registry",)


class SecureTransfer(ChatrefCheck):
    ID = "CKV_CHATREF_010"
    NAME = "Storage accepts HTTPS only (secure transfer)"
    RESOURCES = SA
    CATEGORY = CheckCategories.ENCRYPTION

    def problems(self, conf: dict[str, Any]) -> list[str]:
        # azurerm 4.x name; absent means the provider default, true.
        return must_be_true(conf, "https_traffic_only_enabled", default=True)


class NoPublicBlobs(ChatrefCheck):
    ID = "CKV_CHATREF_011"
    NAME = "Storage allows no anonymous public blob access"
    RESOURCES = SA
    CATEGORY = CheckCategories.GENERAL_SECURITY

    def problems(self, conf: dict[str, Any]) -> list[str]:
        return must_be_false(conf, "allow_nested_items_to_be_public", default=True)


class BlobSoftDelete(ChatrefCheck):
    ID = "CKV_CHATREF_012"
    NAME = "Storage keeps deleted blobs and containers (soft delete)"
    RESOURCES = SA
    CATEGORY = CheckCategories.BACKUP_AND_RECOVERY

    def problems(self, conf: dict[str, Any]) -> list[str]:
        found = []
        for block in ("delete_retention_policy", "container_delete_retention_policy"):
            if get(conf, f"blob_properties/{block}") is MISSING:
                found.append(f"blob_properties.{block} is not set")
        return found


class BlobVersioning(ChatrefCheck):
    ID = "CKV_CHATREF_013"
    NAME = "Storage keeps blob versions"
    RESOURCES = SA
    CATEGORY = CheckCategories.BACKUP_AND_RECOVERY

    def problems(self, conf: dict[str, Any]) -> list[str]:
        return must_be_true(conf, "blob_properties/versioning_enabled")


class StorageNetworkRules(ChatrefCheck):
    ID = "CKV_CHATREF_015"
    NAME = "Storage firewall denies by default"
    RESOURCES = SA
    CATEGORY = CheckCategories.NETWORKING

    def problems(self, conf: dict[str, Any]) -> list[str]:
        if is_false(get(conf, "public_network_access_enabled")):
            return []
        action = get(conf, "network_rules/default_action")
        if action == "Deny":
            return []
        return [f"network_rules.default_action is {show(action)} (must be \"Deny\")"]


class RegistryAdminDisabled(ChatrefCheck):
    ID = "CKV_CHATREF_016"
    NAME = "Container registry admin user is disabled"
    RESOURCES = ACR
    CATEGORY = CheckCategories.IAM

    def problems(self, conf: dict[str, Any]) -> list[str]:
        return must_be_false(conf, "admin_enabled", default=False)


class RegistryNoTrustOrQuarantine(ChatrefCheck):
    ID = "CKV_CHATREF_017"
    NAME = "Container registry uses neither Docker Content Trust nor quarantine"
    RESOURCES = ACR
    CATEGORY = CheckCategories.SUPPLY_CHAIN

    def problems(self, conf: dict[str, Any]) -> list[str]:
        found = []
        if is_true(get(conf, "trust_policy_enabled")) or is_true(get(conf, "trust_policy/enabled")):
            found.append("trust_policy_enabled is true: content trust is refused for new "
                         "registries (ContentTrustUnsupported); sign with Notation instead")
        if is_true(get(conf, "quarantine_policy_enabled")):
            found.append("quarantine_policy_enabled is true: pushed images stay unpullable "
                         "without a scanner; use Defender for container registries")
        return found


class RegistryGeoReplication(ChatrefCheck):
    ID = "CKV_CHATREF_018"
    NAME = "Container registry is geo-replicated"
    RESOURCES = ACR
    CATEGORY = CheckCategories.BACKUP_AND_RECOVERY

    def problems(self, conf: dict[str, Any]) -> list[str]:
        if get(conf, "georeplications/location") is MISSING:
            return ["no georeplications block (needs the Premium SKU and a second region)"]
        return []


check_secure_transfer = SecureTransfer()
check_public_blobs = NoPublicBlobs()
check_soft_delete = BlobSoftDelete()
check_versioning = BlobVersioning()
check_network_rules = StorageNetworkRules()
check_admin = RegistryAdminDisabled()
check_trust = RegistryNoTrustOrQuarantine()
check_georeplication = RegistryGeoReplication()
