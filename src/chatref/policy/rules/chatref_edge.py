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


def _blocks(conf: dict[str, Any], *path: str) -> list[dict[str, Any]]:
    """Every block at ``path`` (checkov lists repeated blocks; nested ones sit in lists too)."""
    nodes: list[Any] = [conf]
    for part in path:
        found: list[Any] = []
        for node in nodes:
            value = node.get(part) if isinstance(node, dict) else None
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, list):
                    found.extend(item)
                elif item is not None:
                    found.append(item)
        nodes = found
    return [node for node in nodes if isinstance(node, dict)]


def _strings(value: Any) -> list[str]:
    if value is MISSING or value is None:
        return []
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [str(value)]


class WafGateway(ChatrefCheck):
    ID = "CKV_CHATREF_052"
    NAME = "Application Gateway is WAF v2, zone redundant, autoscaling, with a WAF policy"
    RESOURCES = ("azurerm_application_gateway",)
    CATEGORY = CheckCategories.NETWORKING

    def problems(self, conf: dict[str, Any]) -> list[str]:
        found = []
        tier = get(conf, "sku/tier")
        if tier != "WAF_v2":
            found.append(f"sku.tier is {show(tier)} (must be \"WAF_v2\")")
        if get(conf, "firewall_policy_id") in (MISSING, None, ""):
            found.append("firewall_policy_id is not set (attach a WAF policy in Prevention mode)")
        zones = _strings(get(conf, "zones"))
        if len(zones) < 2 and not any(unresolved(z) for z in zones):
            found.append(f"zones is {show(get(conf, 'zones'))} (zone redundant: 2 or more zones)")
        if get(conf, "autoscale_configuration/min_capacity") is MISSING:
            found.append("autoscale_configuration is not set (autoscaling)")
        certificates = _blocks(conf, "ssl_certificate")
        if not certificates:
            found.append("no ssl_certificate: the listener must serve HTTPS")
        for cert in certificates:
            if get(cert, "key_vault_secret_id") in (MISSING, None, ""):
                found.append(f"ssl_certificate {show(get(cert, 'name'))} is not read from Key "
                             "Vault (key_vault_secret_id through the gateway's identity)")
        if get(conf, "identity/type") is MISSING:
            found.append("no identity: the gateway reads its certificate with a user-assigned "
                         "identity")
        return found


_MANAGED_SETS = {"Microsoft_DefaultRuleSet", "OWASP"}


class WafPolicyPrevention(ChatrefCheck):
    ID = "CKV_CHATREF_053"
    NAME = "WAF policy is enabled in Prevention mode with the managed OWASP/DRS rules"
    RESOURCES = ("azurerm_web_application_firewall_policy",)
    CATEGORY = CheckCategories.NETWORKING

    def problems(self, conf: dict[str, Any]) -> list[str]:
        found = []
        mode = get(conf, "policy_settings/mode")
        if mode != "Prevention":  # the provider's default is Prevention, but say it
            found.append(f"policy_settings.mode is {show(mode)} (must be \"Prevention\")")
        enabled = get(conf, "policy_settings/enabled")
        if enabled is not MISSING and str(enabled).lower() == "false":
            found.append("policy_settings.enabled is false")
        sets = _blocks(conf, "managed_rules", "managed_rule_set")
        types = {str(get(s, "type")) if get(s, "type") is not MISSING else "OWASP" for s in sets}
        if not types & _MANAGED_SETS:
            found.append("managed_rules has no Microsoft_DefaultRuleSet or OWASP rule set")
        return found


class DdosProtectedVnet(ChatrefCheck):
    ID = "CKV_CHATREF_054"
    NAME = "Virtual networks carry a DDoS Network Protection plan"
    RESOURCES = ("azurerm_virtual_network",)
    CATEGORY = CheckCategories.NETWORKING

    def problems(self, conf: dict[str, Any]) -> list[str]:
        plan = get(conf, "ddos_protection_plan/id")
        enabled = get(conf, "ddos_protection_plan/enable")
        if plan in (MISSING, None, ""):
            return ["no ddos_protection_plan (pass the subscription's plan ID, or create one)"]
        if enabled is not MISSING and str(enabled).lower() == "false":
            return ["ddos_protection_plan.enable is false"]
        return []


class PublicIpNotUnprotected(ChatrefCheck):
    ID = "CKV_CHATREF_055"
    NAME = "Public IPs keep DDoS protection on"
    RESOURCES = ("azurerm_public_ip",)
    CATEGORY = CheckCategories.NETWORKING

    def problems(self, conf: dict[str, Any]) -> list[str]:
        mode = get(conf, "ddos_protection_mode")
        if mode == "Disabled":
            return ["ddos_protection_mode is \"Disabled\" (VirtualNetworkInherited or Enabled)"]
        if get(conf, "sku") not in ("Standard", MISSING):
            return [f"sku is {show(get(conf, 'sku'))} (Standard: Basic IPs are retired)"]
        return []


class DefaultRouteToFirewall(ChatrefCheck):
    ID = "CKV_CHATREF_056"
    NAME = "The default route goes to the firewall, not straight to the Internet"
    RESOURCES = ("azurerm_route_table",)
    CATEGORY = CheckCategories.NETWORKING

    def problems(self, conf: dict[str, Any]) -> list[str] | None:
        defaults = [r for r in _blocks(conf, "route") if get(r, "address_prefix") == "0.0.0.0/0"]
        if not defaults:
            return None  # a table without a default route decides nothing about egress
        found = []
        for route in defaults:
            hop = get(route, "next_hop_type")
            if hop != "VirtualAppliance":
                found.append(f"route {show(get(route, 'name'))} sends 0.0.0.0/0 to {show(hop)} "
                             "(must be VirtualAppliance: the firewall)")
            elif get(route, "next_hop_in_ip_address") in ("", None):
                found.append(f"route {show(get(route, 'name'))} has no next_hop_in_ip_address")
        return found


class FirewallPolicy(ChatrefCheck):
    ID = "CKV_CHATREF_057"
    NAME = "Azure Firewall runs a policy that denies threat-intelligence hits"
    RESOURCES = ("azurerm_firewall", "azurerm_firewall_policy")
    CATEGORY = CheckCategories.NETWORKING

    def problems(self, conf: dict[str, Any]) -> list[str]:
        if "sku_name" in conf:  # the firewall
            if get(conf, "firewall_policy_id") in (MISSING, None, ""):
                return ["firewall_policy_id is not set (classic rules have no central policy)"]
            return []
        found = []
        mode = get(conf, "threat_intelligence_mode")
        if mode != "Deny":
            found.append(f"threat_intelligence_mode is {show(mode)} (must be \"Deny\"; the "
                         "default is Alert)")
        if get(conf, "sku") == "Premium":
            idps = get(conf, "intrusion_detection/mode")
            if idps != "Deny":
                found.append(f"intrusion_detection.mode is {show(idps)} (Premium: \"Deny\")")
        return found


class FirewallRulesNameTheirTraffic(ChatrefCheck):
    ID = "CKV_CHATREF_058"
    NAME = "Firewall application rules name their sources and destinations"
    RESOURCES = ("azurerm_firewall_policy_rule_collection_group",)
    CATEGORY = CheckCategories.NETWORKING

    def problems(self, conf: dict[str, Any]) -> list[str]:
        found = []
        for collection in _blocks(conf, "application_rule_collection"):
            if get(collection, "action") != "Allow":
                continue
            for rule in _blocks(collection, "rule"):
                name = show(get(rule, "name"))
                sources = _strings(get(rule, "source_addresses"))
                if "*" in sources or (not sources and get(rule, "source_ip_groups") is MISSING):
                    found.append(f"rule {name} allows any source (name the subnet)")
                fqdns = _strings(get(rule, "destination_fqdns"))
                if "*" in fqdns:
                    found.append(f"rule {name} allows every FQDN")
                if get(rule, "web_categories") is not MISSING:
                    found.append(f"rule {name} allows web categories (name the FQDNs)")
        return found


class BastionHardened(ChatrefCheck):
    ID = "CKV_CHATREF_059"
    NAME = "Bastion is Standard or Premium, with shareable links off"
    RESOURCES = ("azurerm_bastion_host",)
    CATEGORY = CheckCategories.NETWORKING

    def problems(self, conf: dict[str, Any]) -> list[str]:
        found = []
        sku = get(conf, "sku")
        if sku not in ("Standard", "Premium"):
            found.append(f"sku is {show(sku)} (Standard or Premium: native client, scale units)")
        if str(get(conf, "shareable_link_enabled")).lower() == "true":
            found.append("shareable_link_enabled is true (links bypass Entra ID sign-in)")
        return found


class VnetFlowLog(ChatrefCheck):
    ID = "CKV_CHATREF_060"
    NAME = "Flow logs target a virtual network, keep 90 days and feed Traffic Analytics"
    RESOURCES = ("azurerm_network_watcher_flow_log",)
    CATEGORY = CheckCategories.LOGGING

    def problems(self, conf: dict[str, Any]) -> list[str]:
        found = []
        if get(conf, "target_resource_id") in (MISSING, None, ""):
            found.append("target_resource_id is not set (NSG flow logs are retired: log the "
                         "virtual network)")
        if str(get(conf, "enabled")).lower() != "true":
            found.append("enabled is not true")
        days = get(conf, "retention_policy/days")
        if str(get(conf, "retention_policy/enabled")).lower() != "true" or not (
            str(days).isdigit() and int(str(days)) >= 90
        ):
            found.append(f"retention_policy keeps {show(days)} days (enabled, 90 or more)")
        if str(get(conf, "traffic_analytics/enabled")).lower() != "true":
            found.append("traffic_analytics is not enabled (flows analysed in Log Analytics)")
        return found


check_waf_gateway = WafGateway()
check_waf_policy = WafPolicyPrevention()
check_ddos_vnet = DdosProtectedVnet()
check_public_ip = PublicIpNotUnprotected()
check_default_route = DefaultRouteToFirewall()
check_firewall_policy = FirewallPolicy()
check_firewall_rules = FirewallRulesNameTheirTraffic()
check_bastion = BastionHardened()
check_flow_log = VnetFlowLog()
