"""App Service and plan rules (CKV_CHATREF_026-029, 031)."""

from __future__ import annotations

import re
from typing import Any

from chatref_rulekit import (
    MISSING,
    WEB_APPS,
    ChatrefCheck,
    as_int,
    get,
    is_true,
    must_be_set,
    must_be_true,
    show,
)
from checkov.common.models.enums import CheckCategories

_PREMIUM = re.compile(r"^(P\d+v[23]|P\d+mv3|I\d+v2|EP\d)$")


class HttpsOnly(ChatrefCheck):
    ID = "CKV_CHATREF_026"
    NAME = "App Service redirects HTTP to HTTPS"
    RESOURCES = WEB_APPS
    CATEGORY = CheckCategories.ENCRYPTION

    def problems(self, conf: dict[str, Any]) -> list[str]:
        return must_be_true(conf, "https_only")


class FtpsDisabled(ChatrefCheck):
    ID = "CKV_CHATREF_027"
    NAME = "App Service has FTP and FTPS deployment disabled"
    RESOURCES = WEB_APPS
    CATEGORY = CheckCategories.GENERAL_SECURITY

    def problems(self, conf: dict[str, Any]) -> list[str]:
        state = get(conf, "site_config/ftps_state")  # azurerm 4.x default: Disabled
        if state is MISSING or state == "Disabled":
            return []
        return [f"site_config.ftps_state is {show(state)} (must be \"Disabled\")"]


class AuthEnabled(ChatrefCheck):
    ID = "CKV_CHATREF_028"
    NAME = "App Service authentication (Easy Auth) is on"
    RESOURCES = WEB_APPS
    CATEGORY = CheckCategories.IAM

    def problems(self, conf: dict[str, Any]) -> list[str]:
        if is_true(get(conf, "auth_settings_v2/auth_enabled")):
            return []
        if is_true(get(conf, "auth_settings/enabled")):
            return []
        return ["auth_settings_v2.auth_enabled is not true"]


class HealthCheck(ChatrefCheck):
    ID = "CKV_CHATREF_029"
    NAME = "App Service has a health check path"
    RESOURCES = WEB_APPS
    CATEGORY = CheckCategories.GENERAL_SECURITY

    def problems(self, conf: dict[str, Any]) -> list[str]:
        return must_be_set(conf, "site_config/health_check_path")


class PremiumZoneRedundantPlan(ChatrefCheck):
    ID = "CKV_CHATREF_031"
    NAME = "App Service plan is Premium, zone balanced, with 3+ instances"
    RESOURCES = ("azurerm_service_plan",)
    CATEGORY = CheckCategories.GENERAL_SECURITY

    def problems(self, conf: dict[str, Any]) -> list[str]:
        found = []
        sku = get(conf, "sku_name")
        if not _PREMIUM.match(str(sku)):
            found.append(f"sku_name is {show(sku)} (must be Premium: P1v3, P1v2 or higher)")
        found += must_be_true(conf, "zone_balancing_enabled")
        workers = get(conf, "worker_count")
        count = as_int(workers)
        if count is None or count < 3:
            found.append(f"worker_count is {show(workers)} (must be 3 or more)")
        return found


check_https = HttpsOnly()
check_ftps = FtpsDisabled()
check_auth = AuthEnabled()
check_health = HealthCheck()
check_plan = PremiumZoneRedundantPlan()
