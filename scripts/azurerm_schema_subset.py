"""Write the subset of the azurerm provider schema that chatref's Terraform and tests use.

The full schema (``terraform providers schema -json`` for azurerm 4.79.0, about 3 MB) is not in
the repository; the validator reads this compressed subset instead, so a plain clone can check
the Terraform offline. Regenerate it whenever a module starts using a new azurerm type (the
validator names the command when it meets a type that exists in azurerm but not in the subset)::

    python scripts/azurerm_schema_subset.py ../shared/azurerm-schema/azurerm-4.79.0.json

Which types go in: every ``azurerm_*`` name that appears in infra/, tests/, src/chatref/ or
docs/ and exists in the full schema, plus every type of the families in ``FAMILIES`` (the
services the production architecture uses or is about to: ingress, egress, operators, jobs,
monitoring, governance, identity). Both the resource and the data source of a name are kept.
The output also lists every type name of the full schema, so the validator can tell "not in
azurerm" from "not in the subset". The gzip stream carries no timestamp: the same input gives
the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "infra" / "schema" / "azurerm-4.79.0-subset.json.gz"
SCANNED = ("infra", "tests", "src/chatref", "docs", "scripts")
SUFFIXES = {".tf", ".py", ".md", ".tfvars", ".example", ".yaml", ".json", ".toml"}
SOURCE = (
    "azurerm 4.79.0 provider schema, from the public repository "
    "lonegunmanb/terraform-azurerm-schema (commit 195b01c, tag v4.79.0), which stores each "
    "type's schema as emitted by the provider in generated/{resource,data}/*.go; the JSON was "
    "taken out of those files unchanged. Subset written by scripts/azurerm_schema_subset.py."
)

# Families kept whole (a name equal to one of these, or starting with it and "_").
FAMILIES = (
    "azurerm_ai_foundry", "azurerm_api_management", "azurerm_app_service",
    "azurerm_application_gateway", "azurerm_application_insights",
    "azurerm_application_security_group", "azurerm_bastion_host", "azurerm_client_config",
    "azurerm_cognitive", "azurerm_consumption_budget", "azurerm_container_app",
    "azurerm_container_registry", "azurerm_dns_zone", "azurerm_federated_identity_credential",
    "azurerm_firewall", "azurerm_ip_group", "azurerm_key_vault", "azurerm_linux_virtual_machine",
    "azurerm_linux_web_app", "azurerm_log_analytics", "azurerm_management_group",
    "azurerm_management_lock", "azurerm_monitor", "azurerm_nat_gateway",
    "azurerm_network_ddos_protection_plan", "azurerm_network_interface",
    "azurerm_network_security_group", "azurerm_network_security_rule", "azurerm_network_watcher",
    "azurerm_policy", "azurerm_portal_dashboard", "azurerm_private_dns", "azurerm_private_endpoint",
    "azurerm_public_ip", "azurerm_resource_group", "azurerm_role_assignment",
    "azurerm_role_definition", "azurerm_route", "azurerm_search", "azurerm_security_center",
    "azurerm_service_plan", "azurerm_storage", "azurerm_subnet", "azurerm_subscription",
    "azurerm_user_assigned_identity", "azurerm_virtual_machine_extension",
    "azurerm_virtual_network", "azurerm_web_app", "azurerm_web_application_firewall_policy",
    "azurerm_windows_web_app",
)
_NAME = re.compile(r"\bazurerm_[a-z0-9_]+")


def names_in_repo(root: Path = REPO_ROOT) -> set[str]:
    """Every azurerm_* word in the project's Terraform, tests, package and docs."""
    found: set[str] = set()
    for part in SCANNED:
        for path in (root / part).rglob("*"):
            if path.is_file() and (path.suffix in SUFFIXES) and ".terraform" not in path.parts:
                found.update(_NAME.findall(path.read_text(encoding="utf-8", errors="replace")))
    return found


def in_family(name: str) -> bool:
    return any(name == f or name.startswith(f + "_") for f in FAMILIES)


def subset(full: dict[str, Any], wanted: Iterable[str]) -> dict[str, Any]:
    """The subset document: the kept schemas, the source, and every type name of `full`."""
    resources: dict[str, Any] = full["resource_schemas"]
    data: dict[str, Any] = full["data_source_schemas"]
    keep = {n for n in wanted if n in resources or n in data}
    keep |= {n for n in (*resources, *data) if in_family(n)}
    return {
        "provider": full.get("provider", "registry.terraform.io/hashicorp/azurerm"),
        "version": full["version"],
        "source": SOURCE,
        "resource_schemas": {n: resources[n] for n in sorted(keep) if n in resources},
        "data_source_schemas": {n: data[n] for n in sorted(keep) if n in data},
        "all_resource_types": sorted(resources),
        "all_data_sources": sorted(data),
    }


def write(document: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")
    with out.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                                              filename="", compresslevel=9) as handle:
        handle.write(payload)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("full_schema", type=Path, help="azurerm-4.79.0.json (full schema)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if not args.full_schema.is_file():
        print(f"error: full schema not found at {args.full_schema}", file=sys.stderr)
        return 2
    full = json.loads(args.full_schema.read_text(encoding="utf-8"))
    document = subset(full, names_in_repo())
    write(document, args.out)
    print(f"{args.out}: {len(document['resource_schemas'])} resource types and "
          f"{len(document['data_source_schemas'])} data sources of azurerm {document['version']} "
          f"({args.out.stat().st_size:,} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
