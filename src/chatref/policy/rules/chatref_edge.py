"""The app's front door and the network edge (CKV_CHATREF_050-069; issue 11 findings 6-13).

Each rule makes one class of mistake found in review unable to come back: a container App
Service that does not say which port its container listens on, Easy Auth that lets any user of
the tenant in, and (below) the gateway, firewall, route, DDoS and flow-log rules.
"""

from __future__ import annotations

from typing import Any

from chatref_rulekit import MISSING, ChatrefCheck, get, show, unresolved
from checkov.common.models.enums import CheckCategories

# App Service apps and their deployment slots: a slot is a whole app of its own.
APPS_AND_SLOTS = (
    "azurerm_linux_web_app",
    "azurerm_linux_web_app_slot",
)


def _settings(conf: dict[str, Any]) -> dict[str, Any] | None:
    """The app_settings map, or None when checkov could not resolve it to a map."""
    value = get(conf, "app_settings")
    if value is MISSING:
        return {}
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value if isinstance(value, dict) else None


def _nonempty_list(value: Any) -> bool:
    if value is MISSING or unresolved(value):
        return False
    if isinstance(value, list):
        return any(item not in ("", None, []) for item in value)
    return bool(value)


class ContainerPort(ChatrefCheck):
    ID = "CKV_CHATREF_050"
    NAME = "A container web app sets WEBSITES_PORT to the port its container listens on"
    RESOURCES = APPS_AND_SLOTS
    CATEGORY = CheckCategories.GENERAL_SECURITY

    def problems(self, conf: dict[str, Any]) -> list[str] | None:
        if get(conf, "site_config/application_stack/docker_image_name") is MISSING:
            return None  # not a container: the platform knows the port
        settings = _settings(conf)
        if settings is None:
            return ["app_settings cannot be resolved statically (must set WEBSITES_PORT)"]
        port = settings.get("WEBSITES_PORT", MISSING)
        if port is MISSING or port in ("", None):
            return ["app_settings has no WEBSITES_PORT: App Service cannot reach the container"]
        listen = settings.get("PORT", MISSING)
        if listen is not MISSING and str(listen) != str(port):
            return [f"WEBSITES_PORT is {show(port)} but the container listens on PORT "
                    f"{show(listen)}"]
        return []


class SignInLimited(ChatrefCheck):
    ID = "CKV_CHATREF_051"
    NAME = "Easy Auth admits an allowed group or app role, not the whole tenant"
    RESOURCES = APPS_AND_SLOTS
    CATEGORY = CheckCategories.IAM

    def problems(self, conf: dict[str, Any]) -> list[str] | None:
        if get(conf, "auth_settings_v2") is MISSING:
            return None  # no Easy Auth: CKV_CHATREF_028 judges that
        aad = "auth_settings_v2/active_directory_v2"
        for key in ("allowed_groups", "allowed_identities"):
            if _nonempty_list(get(conf, f"{aad}/{key}")):
                return []
        settings = _settings(conf) or {}
        role = settings.get("CHATREF_AUTH_REQUIRED_ROLE")
        if role not in (None, "") and not unresolved(role):
            return []
        return ["any user of the tenant may sign in: set auth_settings_v2.active_directory_v2."
                "allowed_groups or the app role CHATREF_AUTH_REQUIRED_ROLE"]


check_container_port = ContainerPort()
check_sign_in_limited = SignInLimited()
