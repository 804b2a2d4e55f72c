"""Helpers shared by chatref's checkov checks (runs inside .venv-checkov).

checkov hands a check the resource's configuration with every attribute wrapped in a list, in
both inputs: ``{"https_only": [True], "site_config": [{"minimum_tls_version": ["1.2"]}]}``.
A check lists what is wrong in plain words; the words become checkov's ``details`` and then the
finding's message in chatref's report.
"""

from __future__ import annotations

import re
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

MISSING = object()
_UNRESOLVED = re.compile(r"\$\{|^(var|local|module|data)\.")
# A whole value that is still a reference: what checkov leaves in a block it did not render.
_BARE_REFERENCE = re.compile(r"^(var|local|each|module|data)\.[A-Za-z0-9_.\[\]\"-]+$")

# Azure resources that carry tags and a user-chosen name (the ones our rules look at).
TAGGABLE = (
    "azurerm_resource_group",
    "azurerm_virtual_network",
    "azurerm_network_security_group",
    "azurerm_private_endpoint",
    "azurerm_private_dns_zone",
    "azurerm_user_assigned_identity",
    "azurerm_key_vault",
    "azurerm_storage_account",
    "azurerm_container_registry",
    "azurerm_cognitive_account",
    "azurerm_search_service",
    "azurerm_service_plan",
    "azurerm_linux_web_app",
    "azurerm_windows_web_app",
    "azurerm_log_analytics_workspace",
    "azurerm_application_insights",
    "azurerm_monitor_action_group",
    "azurerm_monitor_metric_alert",
    "azurerm_monitor_autoscale_setting",
    "azurerm_machine_learning_workspace",
    "azurerm_ai_foundry",
    "azurerm_ai_foundry_project",
    "azurerm_public_ip",
    "azurerm_network_ddos_protection_plan",
)

# More resources that carry tags, but whose names are not ours to choose or are not Azure
# resources of their own (a key's name inside its vault, a DNS link, ...).
TAGGED_ONLY = (
    "azurerm_application_security_group",
    "azurerm_cognitive_account_rai_policy",
    "azurerm_key_vault_key",
    "azurerm_key_vault_secret",
    "azurerm_linux_web_app_slot",
    "azurerm_windows_web_app_slot",
    "azurerm_portal_dashboard",
    "azurerm_private_dns_zone_virtual_network_link",
    "azurerm_route_table",
    "azurerm_firewall",
    "azurerm_bastion_host",
)

# More resources that carry tags and a location: Azure Policy evaluates them in mode Indexed, so
# the governance module's tag and naming policies judge them when they are created.
TAGGED_MORE = (
    "azurerm_application_gateway",
    "azurerm_web_application_firewall_policy",
    "azurerm_firewall_policy",
    "azurerm_network_watcher_flow_log",
    "azurerm_container_app_environment",
    "azurerm_container_app_job",
    "azurerm_application_insights_workbook",
    "azurerm_monitor_scheduled_query_rules_alert_v2",
)

# Tagged, but not judged by a mode-Indexed policy on their names: Key Vault keys and secrets
# are written through the vault's data plane, a content filter has no location of its own.
NOT_INDEXED = (
    "azurerm_cognitive_account_rai_policy",
    "azurerm_key_vault_key",
    "azurerm_key_vault_secret",
)

# PaaS services that hold data or models: private endpoint, no public access, diagnostics.
PAAS = (
    "azurerm_key_vault",
    "azurerm_storage_account",
    "azurerm_container_registry",
    "azurerm_cognitive_account",
    "azurerm_search_service",
    "azurerm_machine_learning_workspace",
    "azurerm_ai_foundry",
)

WEB_APPS = ("azurerm_linux_web_app", "azurerm_windows_web_app")


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def dynamic_block_absent(conf: dict[str, Any], name: str) -> bool:
    """True when block ``name`` comes from a ``dynamic`` block checkov did not expand.

    checkov leaves a dynamic block whose ``for_each`` is empty, or that it cannot expand (a
    ``for_each`` over a list variable), as its raw content: some value is still the iterator
    (``location = "georeplications.value"``) or a bare reference (``"var.key_id"``). Such a
    block proves nothing, so rules treat it as absent. An expanded block has its values
    rendered (``"francecentral"``; for ``for_each = [1]`` checkov writes the iterator's value,
    1, everywhere) and counts as present. So write optional blocks as
    ``for_each = var.x != null ? [1] : []``, which checkov expands.
    """
    dynamic = {key for entry in conf.get("dynamic") or [] if isinstance(entry, dict)
               for key in entry}
    if name not in dynamic or not conf.get(name):
        return False
    leaves = [leaf for leaf in _leaves(conf[name]) if leaf != "__is_block__"]
    return any(
        isinstance(leaf, str) and (_BARE_REFERENCE.match(leaf) or leaf.startswith(f"{name}."))
        for leaf in leaves
    )


def get(conf: dict[str, Any], path: str) -> Any:
    """The value at ``a/b/c`` (blocks are lists of one dict), or MISSING."""
    if dynamic_block_absent(conf, path.split("/")[0]):
        return MISSING
    node: Any = conf
    for part in path.split("/"):
        while isinstance(node, list):
            if not node:
                return MISSING
            node = node[0]
        if not isinstance(node, dict) or part not in node:
            return MISSING
        node = node[part]
    while isinstance(node, list) and len(node) == 1 and not isinstance(node[0], dict):
        node = node[0]
    return node


def unresolved(value: Any) -> bool:
    """True when checkov could not resolve a variable or reference to a value."""
    return isinstance(value, str) and bool(_UNRESOLVED.search(value))


def is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def show(value: Any) -> str:
    return "not set" if value is MISSING else repr(value)


def must_be_true(conf: dict[str, Any], path: str, default: bool = False) -> list[str]:
    value = get(conf, path)
    if value is MISSING:
        return [] if default else [f"{path} is not set (must be true)"]
    if is_true(value):
        return []
    if unresolved(value):
        return [f"{path} = {value} cannot be resolved statically (must be true)"]
    return [f"{path} is {show(value)} (must be true)"]


def must_be_false(conf: dict[str, Any], path: str, default: bool = True) -> list[str]:
    """``default`` is the provider's default when the attribute is absent."""
    value = get(conf, path)
    if value is MISSING:
        return [] if not default else [f"{path} is not set and defaults to true (set false)"]
    if is_false(value):
        return []
    if unresolved(value):
        return [f"{path} = {value} cannot be resolved statically (must be false)"]
    return [f"{path} is {show(value)} (must be false)"]


def must_be_set(conf: dict[str, Any], path: str) -> list[str]:
    value = get(conf, path)
    if value is MISSING or value in ("", None, [], {}):
        return [f"{path} is not set"]
    return []


class ChatrefCheck(BaseResourceCheck):
    """A check that lists problems; none means PASSED.

    Subclasses set ``ID``, ``NAME``, ``RESOURCES`` and implement ``problems``; returning None
    from ``problems`` means "this rule does not apply to this resource" (checkov's UNKNOWN).
    """

    ID = ""
    NAME = ""
    RESOURCES: tuple[str, ...] = ()
    CATEGORY = CheckCategories.GENERAL_SECURITY

    def __init__(self) -> None:
        super().__init__(
            name=self.NAME,
            id=self.ID,
            categories=(self.CATEGORY,),
            supported_resources=self.RESOURCES,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = []
        found = self.problems(conf)
        if found is None:
            return CheckResult.UNKNOWN
        self.details.extend(found)
        return CheckResult.FAILED if found else CheckResult.PASSED

    def problems(self, conf: dict[str, Any]) -> list[str] | None:
        raise NotImplementedError


class FactCheck(ChatrefCheck):
    """Reports facts about a resource (always PASSED); chatref aggregates them across the scan.

    Used for rules about the whole configuration ("OpenAI in 2+ regions", "a budget exists"),
    which a per-resource check cannot decide.
    """

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = []
        facts = self.facts(conf)
        if facts is None:
            return CheckResult.UNKNOWN
        self.details.extend(f"{key}={value}" for key, value in facts.items())
        return CheckResult.PASSED

    def facts(self, conf: dict[str, Any]) -> dict[str, str] | None:
        raise NotImplementedError
