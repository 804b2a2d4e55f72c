"""Baseline rules: managed identity, tags, TLS (CKV_CHATREF_001-003)."""

from __future__ import annotations

from typing import Any

from chatref_rulekit import (
    MISSING,
    TAGGABLE,
    TAGGED_MORE,
    TAGGED_ONLY,
    WEB_APPS,
    ChatrefCheck,
    get,
    show,
    unresolved,
)
from checkov.common.models.enums import CheckCategories

REQUIRED_TAGS = ("owner", "environment", "cost-center", "application")
_OLD_TLS = {"1.0", "1.1", "TLS1_0", "TLS1_1"}


class ManagedIdentity(ChatrefCheck):
    ID = "CKV_CHATREF_001"
    NAME = "Services authenticate with a managed identity"
    # The services that call others: the web app (OpenAI, Search, Storage, Key Vault) and the
    # AI workspaces. A model or search account needs an identity only for CMK or indexers.
    RESOURCES = (*WEB_APPS, "azurerm_machine_learning_workspace", "azurerm_ai_foundry")
    CATEGORY = CheckCategories.IAM

    def problems(self, conf: dict[str, Any]) -> list[str]:
        identity_type = get(conf, "identity/type")
        if identity_type is MISSING:
            return ["no identity block: add identity { type = \"SystemAssigned\" } or UserAssigned"]
        if isinstance(identity_type, str) and not (
            unresolved(identity_type) or "Assigned" in identity_type
        ):
            return [f"identity.type is {show(identity_type)}"]
        # Anything else is an identity block checkov could not render (a dynamic block with
        # `for_each = [1]` comes out as type = 1): the block exists, which is what we require.
        return []


class RequiredTags(ChatrefCheck):
    ID = "CKV_CHATREF_002"
    NAME = "Resources carry the owner, environment, cost-center and application tags"
    RESOURCES = (*TAGGABLE, *TAGGED_ONLY, *TAGGED_MORE)
    CATEGORY = CheckCategories.CONVENTION

    def problems(self, conf: dict[str, Any]) -> list[str]:
        tags = conf.get("tags")
        while isinstance(tags, list) and tags:
            tags = tags[0]
        if not tags:
            return [f"no tags: set {', '.join(REQUIRED_TAGS)}"]
        if not isinstance(tags, dict):
            return [f"tags = {tags!r} cannot be resolved statically"]
        missing = [t for t in REQUIRED_TAGS if not tags.get(t)]
        return [f"missing tag(s): {', '.join(missing)}"] if missing else []


class MinimumTls(ChatrefCheck):
    ID = "CKV_CHATREF_003"
    NAME = "Endpoints accept TLS 1.2 or newer only"
    RESOURCES = ("azurerm_storage_account", *WEB_APPS)
    CATEGORY = CheckCategories.ENCRYPTION

    def problems(self, conf: dict[str, Any]) -> list[str]:
        if self.entity_type == "azurerm_storage_account":
            paths = ["min_tls_version"]
        else:
            paths = ["site_config/minimum_tls_version", "site_config/scm_minimum_tls_version"]
        found = []
        for path in paths:
            value = get(conf, path)  # absent: azurerm 4.x defaults to TLS 1.2
            if value is not MISSING and str(value) in _OLD_TLS:
                found.append(f"{path} is {value!r} (must be 1.2 or newer)")
        return found


check_identity = ManagedIdentity()
check_tags = RequiredTags()
check_tls = MinimumTls()
