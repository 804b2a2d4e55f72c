"""Checks for two review findings that neither the schema nor a plan can show (issue 11).

- ``autoscale-count`` (finding 10): an App Service plan that an autoscale setting in the same
  module targets must ignore ``worker_count`` after creation
  (``lifecycle { ignore_changes = [worker_count] }``); otherwise every apply scales the plan back
  to ``worker_count``, whatever the load. A plan JSON has no lifecycle, so this is HCL-only.
- ``literal-next-hop`` (finding 8): a route's ``next_hop_in_ip_address`` (or a module argument
  feeding one: ``*firewall*ip*``, ``*next_hop*``) must be a reference to the appliance, never a
  literal address: the review found ``10.10.0.4``, where nothing existed.

>>> from pathlib import Path
>>> from chatref.infra_validate.model import ModuleDir
>>> found = []
>>> check_edge(ModuleDir(Path(".")), lambda *args: found.append(args))
>>> found
[]
"""

from __future__ import annotations

import re
from typing import Any

from chatref.infra_validate.hcl import body_items, unquote
from chatref.infra_validate.model import Add, ModuleDir

_PLAN_REF = re.compile(r"azurerm_service_plan\.([A-Za-z0-9_-]+)\b")
_LITERAL_IP = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_HOP_ARGUMENT = re.compile(r"(firewall.*_ip|next_hop)", re.IGNORECASE)


def check_edge(mod: ModuleDir, add: Add) -> None:
    """Add an ``autoscale-count`` or ``literal-next-hop`` finding for each problem in ``mod``."""
    _check_autoscaled_plans(mod, add)
    _check_next_hops(mod, add)


def _blocks(value: Any) -> list[dict[str, Any]]:
    return [b for b in value if isinstance(b, dict)] if isinstance(value, list) else []


def _ignored(body: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for lifecycle in _blocks(body.get("lifecycle")):
        ignore = lifecycle.get("ignore_changes")
        items = ignore if isinstance(ignore, list) else [ignore]
        names |= {unquote(str(item)).strip("${}[] ") for item in items if item is not None}
    return names


def _check_autoscaled_plans(mod: ModuleDir, add: Add) -> None:
    targeted: set[str] = set()
    for (rtype, _), blk in mod.resources.items():
        if rtype == "azurerm_monitor_autoscale_setting":
            targeted |= set(_PLAN_REF.findall(str(blk.body.get("target_resource_id", ""))))
    for name in sorted(targeted):
        plan = mod.resources.get(("azurerm_service_plan", name))
        if plan is None or "worker_count" not in plan.body:
            continue
        if not {"worker_count", "all"} & _ignored(plan.body):
            add(plan.file, plan.address, "autoscale-count",
                "an autoscale setting owns this plan's instance count: add lifecycle "
                "{ ignore_changes = [worker_count] }, or every apply scales it back")


def _literal_ip(value: Any) -> str | None:
    text = unquote(str(value)) if isinstance(value, str) else ""
    return text if _LITERAL_IP.match(text) else None


def _check_next_hops(mod: ModuleDir, add: Add) -> None:
    message = ("next hop {ip} is a literal address: take the firewall's private IP from its "
               "resource or module output, so the route cannot point where nothing exists")
    for (rtype, _), blk in mod.resources.items():
        routes: list[dict[str, Any]] = []
        if rtype == "azurerm_route_table":
            routes = _blocks(blk.body.get("route"))
        elif rtype == "azurerm_route":
            routes = [blk.body]
        for route in routes:
            ip = _literal_ip(route.get("next_hop_in_ip_address"))
            if ip:
                add(blk.file, blk.address, "literal-next-hop", message.format(ip=ip))
    for name, call in mod.modules.items():
        for key, value in body_items(call.body):
            ip = _literal_ip(value) if _HOP_ARGUMENT.search(key) else None
            if ip:
                add(call.file, f"module.{name}.{key}", "literal-next-hop", message.format(ip=ip))
