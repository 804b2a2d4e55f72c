"""Azure OpenAI rules (CKV_CHATREF_009, the fact check behind CKV_CHATREF_033)."""

from __future__ import annotations

from typing import Any

from chatref_rulekit import ChatrefCheck, FactCheck, get, must_be_set
from checkov.common.models.enums import CheckCategories


class ContentFilterAttached(ChatrefCheck):
    ID = "CKV_CHATREF_009"
    NAME = "Model deployments have a content filter (RAI policy) attached"
    RESOURCES = ("azurerm_cognitive_deployment",)
    CATEGORY = CheckCategories.GENERAL_SECURITY

    def problems(self, conf: dict[str, Any]) -> list[str]:
        return must_be_set(conf, "rai_policy_name")


class OpenAIRegions(FactCheck):
    ID = "CKV_CHATREF_033"
    NAME = "Azure OpenAI is deployed in two or more regions"
    RESOURCES = ("azurerm_cognitive_account",)
    CATEGORY = CheckCategories.GENERAL_SECURITY

    def facts(self, conf: dict[str, Any]) -> dict[str, str] | None:
        if str(get(conf, "kind")) != "OpenAI":
            return None
        return {"region": str(get(conf, "location")).lower().replace(" ", "")}


check_filter = ContentFilterAttached()
check_regions = OpenAIRegions()
