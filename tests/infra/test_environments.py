"""Both environments validate clean, and prod carries every control of the production guide."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2.utils import SerializationOptions

from scripts import tfdocs
from chatref.infra_validate import Schema, load_module_dir, validate_tree
from tests.conftest import REPO_ROOT
from tests.infra.conftest import INFRA

PROD = INFRA / "environments" / "prod"
DEV = INFRA / "environments" / "dev"
MODULES = INFRA / "modules"
DATA = Path(__file__).resolve().parent / "reference"
REQUIRED_TAGS = {"owner", "environment", "cost-center", "application"}
_OPTIONS = SerializationOptions(with_comments=False, preserve_heredocs=False)


def module_calls(env: Path) -> dict[str, dict[str, Any]]:
    with (env / "main.tf").open(encoding="utf-8") as handle:
        doc = hcl2.load(handle, serialization_options=_OPTIONS)
    calls: dict[str, dict[str, Any]] = {}
    for entry in doc["module"]:
        for name, body in entry.items():
            if not name.startswith("__"):
                calls[name.strip('"')] = body
    return calls


def local_value(env: Path, name: str) -> Any:
    return load_module_dir(env).locals[name][0]


@pytest.fixture(scope="module")
def prod() -> dict[str, dict[str, Any]]:
    return module_calls(PROD)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_environment_validates_clean(env: str, schema: Schema) -> None:
    findings = validate_tree(INFRA / "environments" / env, schema)
    assert [str(f) for f in findings if not f.is_warning] == []
    # the only warnings allowed: model lifecycle notices from the model catalogue
    assert {f.code for f in findings if f.is_warning} <= {"model-warning"}


def test_every_module_validates_clean(schema: Schema) -> None:
    assert [str(f) for f in validate_tree(MODULES, schema)] == []


@pytest.mark.parametrize("env", [DEV, PROD], ids=["dev", "prod"])
def test_environment_layout(env: Path) -> None:
    for name in ("backend.tf", "providers.tf", "variables.tf", "main.tf", "outputs.tf",
                 "terraform.tfvars.example"):
        assert (env / name).is_file(), f"{env.name} lacks {name}"
    backend = (env / "backend.tf").read_text(encoding="utf-8")
    assert re.search(r'backend "azurerm" \{\}', backend), "backend must be azurerm, partial config"
    # environments compose modules: no raw resources
    assert load_module_dir(env).resources == {}


def test_every_module_has_its_files_and_a_current_readme() -> None:
    for module in sorted(p for p in MODULES.iterdir() if p.is_dir()):
        for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
            assert (module / name).is_file(), f"{module.name} lacks {name}"
        readme = (module / "README.md").read_text(encoding="utf-8")
        assert readme == tfdocs.updated_readme(module), f"{module.name}/README.md: run make docs"


def test_pins_azurerm_4() -> None:
    for versions in [*MODULES.glob("*/versions.tf"), PROD / "providers.tf", DEV / "providers.tf"]:
        assert 'version = "~> 4.79"' in versions.read_text(encoding="utf-8"), versions


def test_every_taggable_resource_is_tagged(schema: Schema) -> None:
    untagged = []
    for module in MODULES.iterdir():
        for (rtype, name), blk in load_module_dir(module).resources.items():
            if rtype not in schema.resources:
                continue  # azapi, time: no schema here (a tableServices table takes no tags)
            attributes = schema.resources[rtype]["block"]["attributes"]
            if "tags" in attributes and "tags" not in blk.body:
                untagged.append(f"{module.name}: {rtype}.{name}")
            if "tags" in blk.body:
                assert "var.tags" in str(blk.body["tags"]), f"{module.name}: {rtype}.{name}"
    assert untagged == []
    for env in (DEV, PROD):
        tags = local_value(env, "tags")
        assert set(tags) - {"__is_block__"} == REQUIRED_TAGS
        for name, call in module_calls(env).items():
            callee = load_module_dir(MODULES / call["source"].strip('"').split("/")[-1])
            if "tags" in callee.variables:
                assert call.get("tags") == "${local.tags}", f"{env.name}: module.{name}"


def test_names_follow_prefix_environment_service(prod: dict[str, dict[str, Any]]) -> None:
    assert local_value(PROD, "stem") == '"${var.prefix}-${var.environment}"'
    for name, call in prod.items():
        if "name" not in call:
            continue
        value = call["name"]
        assert value.startswith(('"${local.stem}', '"${var.prefix}${var.environment}',
                                 "${local.stem}")), f"module.{name}: {value}"


def test_app_settings_are_exactly_the_contract() -> None:
    design = (DATA / "design-contract.md").read_text(encoding="utf-8")
    table = design.split("| variable | meaning | when unset |", 1)[1].split("\n\n", 1)[0]
    rows = [row.strip() for row in table.splitlines()]
    first_cells = [row.split("|")[1] for row in rows if row.startswith("| ")]
    contract = {n for cell in first_cells for n in re.findall(r"\b[A-Z][A-Z0-9_]{3,}\b", cell)}
    # variables the app reads that Terraform deliberately does not set: other model providers,
    # and keys or connection strings (production uses the managed identity)
    not_set = {"AZURE_OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL",
               "AZURE_STORAGE_CONNECTION_STRING", "AZURE_SEARCH_API_KEY"}
    app = load_module_dir(MODULES / "app_service")
    plain = app.locals["contract_settings"][0]
    merged = app.locals["app_settings"][0]
    names = {k for k in plain if not k.startswith("__")}
    names |= set(re.findall(r"\b([A-Z][A-Z0-9_]+)\s*=", str(merged)))
    platform = {k for k in app.locals["platform_settings"][0] if not k.startswith("__")}
    assert platform == {"WEBSITES_PORT"}  # read by App Service, not the app
    assert names - platform == contract - not_set
    assert plain["CHATREF_AUTH_MODE"] == '"easyauth"'
    assert plain["CHATREF_LLM_ENDPOINTS"] == "${jsonencode(var.llm_endpoints)}"
    assert "@Microsoft.KeyVault(SecretUri=" in str(merged)


def test_container_port_matches_websites_port() -> None:
    """Finding 6: App Service forwards to WEBSITES_PORT, the app listens on PORT: one value."""
    app = load_module_dir(MODULES / "app_service")
    assert app.locals["contract_settings"][0]["PORT"] == '"${var.port}"'
    assert app.locals["platform_settings"][0]["WEBSITES_PORT"] == '"${var.port}"'
    assert app.variables["port"].body["default"] == 8000


def test_llm_endpoints_come_from_the_openai_module(prod: dict[str, dict[str, Any]]) -> None:
    assert prod["app_service"]["llm_endpoints"] == "${module.openai.endpoints}"
    outputs = (MODULES / "openai" / "main.tf").read_text(encoding="utf-8")
    for field in ("name", "endpoint", "deployment", "priority", "weight", "kind"):
        assert re.search(rf"\n\s+{field}\s+=", outputs), field
    assert "api_key" not in outputs
    assert '"ptu"' in outputs and '"paygo"' in outputs


def test_prod_app_service(prod: dict[str, dict[str, Any]]) -> None:
    app = prod["app_service"]
    assert app["sku_name"] == '"P1v3"'
    assert app["worker_count"] == 3
    assert app["zone_balancing_enabled"] is True
    assert app["autoscale"] == {"enabled": True, "min_count": 3, "max_count": 10,
                                "cpu_threshold": 70}
    assert app["health_check_path"] == '"/health/ready"'
    assert app["public_network_access_enabled"] is False
    assert app["vnet_route_all_enabled"] is True
    assert app["staging_slot_enabled"] is True
    assert app["subnet_id"] == "${module.network.app_subnet_id}"
    assert app["allowed_hosts"] == ["${var.public_host_name}"]
    assert app["allowed_group_object_ids"] == "${var.allowed_group_object_ids}"
    module = load_module_dir(MODULES / "app_service")
    site, site_config = module.locals["site"][0], module.locals["site_config"][0]
    assert site["https_only"] is True
    assert site["ftp_publish_basic_authentication_enabled"] is False
    assert site["webdeploy_publish_basic_authentication_enabled"] is False
    assert (site_config["always_on"], site_config["ftps_state"],
            site_config["minimum_tls_version"]) == (True, '"Disabled"', '"1.2"')
    assert module.locals["auth"][0]["require_authentication"] is True
    # the app and its staging slot take every shared value from those locals (issue 13)
    web = module.resources[("azurerm_linux_web_app", "this")].body
    slot = module.resources[("azurerm_linux_web_app_slot", "staging")].body
    for key in ("https_only", "public_network_access_enabled", "app_settings",
                "site_config", "auth_settings_v2", "logs", "identity"):
        assert web[key] == slot[key], key
    plan = module.resources[("azurerm_service_plan", "this")].body
    assert "${[worker_count]}" in str(plan["lifecycle"]) or "worker_count" in str(plan["lifecycle"])


def test_easy_auth_redirects_the_ui_and_leaves_401_to_the_api() -> None:
    module = load_module_dir(MODULES / "app_service")
    assert module.locals["auth_excluded_paths"][0] == (
        '${concat(["/health/live"], [for prefix in var.api_path_prefixes : "${prefix}/*"])}')
    assert module.variables["api_path_prefixes"].body["default"] == ['"/api"', '"/v1"']
    assert module.variables["unauthenticated_action"].body["default"] == '"RedirectToLoginPage"'
    web = module.resources[("azurerm_linux_web_app", "this")].body
    aad = web["auth_settings_v2"][0]["active_directory_v2"][0]
    assert aad["allowed_groups"] == "${var.allowed_group_object_ids}"


def test_prod_openai(prod: dict[str, dict[str, Any]]) -> None:
    oai = prod["openai"]
    accounts = local_value(PROD, "openai_accounts")
    locations = {v["location"] for k, v in accounts.items() if not k.startswith("__")}
    assert len(locations) >= 2
    assert oai["local_auth_enabled"] is False
    assert oai["public_network_access_enabled"] is False
    assert oai["outbound_network_access_restricted"] is True
    assert oai["customer_managed_key_enabled"] is True
    main = (MODULES / "openai" / "main.tf").read_text(encoding="utf-8")
    assert main.count("rai_policy_name        = azurerm_cognitive_account_rai_policy") == 3
    assert 'resource "azurerm_cognitive_deployment" "provisioned"' in main


def test_prod_search_key_vault_storage_registry(prod: dict[str, dict[str, Any]]) -> None:
    search = prod["search"]
    assert (search["sku"], search["replica_count"], search["partition_count"]) == (
        '"standard"', 3, 2)
    assert search["local_authentication_enabled"] is False
    assert search["public_network_access_enabled"] is False
    assert search["semantic_search_sku"] == '"standard"'
    kv = prod["key_vault"]
    assert kv["sku_name"] == '"premium"'
    assert kv["purge_protection_enabled"] is True
    assert kv["soft_delete_retention_days"] == 90
    assert kv["public_network_access_enabled"] is False
    assert kv["network_default_action"] == '"Deny"'
    assert kv["customer_managed_key_enabled"] is True
    st = prod["storage"]
    assert st["replication_type"] == '"GZRS"'
    assert st["network_default_action"] == '"Deny"'
    assert st["public_network_access_enabled"] is False
    assert st["customer_managed_key_enabled"] is True
    assert st["versioning_enabled"] is True
    acr = prod["container_registry"]
    assert acr["sku"] == '"Premium"'
    assert acr["zone_redundancy_enabled"] is True
    assert acr["georeplication_location"] == "${var.secondary_location}"


def test_prod_private_endpoints_cover_every_paas_service() -> None:
    endpoints = str(local_value(PROD, "private_endpoints"))
    for subresource in ("account", "searchService", "vault", "blob", "table", "registry", "sites"):
        assert f'subresource = "{subresource}"' in endpoints, subresource
    calls = module_calls(PROD)
    assert calls["private_endpoint"]["for_each"] == "${local.private_endpoints}"


def test_prod_monitoring_and_governance(prod: dict[str, dict[str, Any]]) -> None:
    mon = prod["monitoring"]
    assert mon["log_retention_days"] == 90
    assert (mon["server_exceptions_threshold"], mon["failed_requests_threshold"],
            mon["response_time_threshold"]) == (3, 5, 3000)
    assert mon["create_dashboard"] is True
    targets = prod["diagnostics"]["target_resource_ids"]
    for key in ("key-vault", "storage-blob", "storage-table", "search", "registry", "web-app",
                "web-app-slot", "autoscale", "app-plan", "app-nsg", "hub-vnet", "key-vault-2"):
        assert key in targets, key
    # workspace-based Application Insights already writes its telemetry to the workspace: a
    # diagnostic setting on it would store every record twice (issue 11 finding 13)
    assert "app-insights" not in targets and "application_insights_id" not in targets
    gov = prod["governance"]
    assert gov["policy_enforce"] is True
    assert "locked_resource_ids" in gov
    assert gov["naming_patterns"] == ['"${local.stem}-*"', '"${var.prefix}${var.environment}*"']
    assert gov["defender_plans"] == "${var.defender_plans}"
    assert gov["policy_management_group_id"] == "${var.policy_management_group_id}"


def test_governance_denies_public_access_on_every_data_service() -> None:
    module = load_module_dir(MODULES / "governance")
    denied = module.variables["deny_public_network_policy_definitions"].body["default"]
    assert {k for k in denied if not k.startswith("__")} == {
        "storage", "key-vault", "openai", "search", "registry", "app-service", "app-service-slots"}
    for kind in ("require_tag", "deny_public_network", "naming"):
        # one assignment at resource-group scope, one at management-group scope: never both
        rg = str(module.resources[("azurerm_resource_group_policy_assignment", kind)].body)
        mg = str(module.resources[("azurerm_management_group_policy_assignment", kind)].body)
        assert "policy_management_group_id == null" in rg, kind
        assert "policy_management_group_id != null" in mg, kind


def test_openai_keys_per_region_through_the_system_identity(
    prod: dict[str, dict[str, Any]]
) -> None:
    """Issue 11 finding 2: a vault in each account's region, RSA 2048, system-assigned identity."""
    keys = prod["openai"]["customer_managed_keys"]
    assert set(keys) - {"__is_block__"} == {"primary", "secondary"}
    assert "module.key_vault.openai_key_id" in str(keys["primary"])
    assert "module.key_vault_secondary.openai_key_id" in str(keys["secondary"])
    assert prod["key_vault_secondary"]["location"] == "${var.secondary_location}"
    vault = load_module_dir(MODULES / "key_vault").resources[("azurerm_key_vault_key", "openai")]
    assert vault.body["key_size"] == 2048
    account = load_module_dir(MODULES / "openai").resources[("azurerm_cognitive_account", "this")]
    assert account.body["identity"][0]["type"] == '"SystemAssigned"'
    assert "customer_managed_key" not in account.body


def test_dev_opts_out_in_one_place() -> None:
    basic = local_value(DEV, "basic")
    assert basic["public_network_access_enabled"] is True
    calls = module_calls(DEV)
    # every opt-out passed to a module comes from local.basic, never a literal
    for name, call in calls.items():
        for arg in ("public_network_access_enabled", "network_default_action",
                    "customer_managed_key_enabled", "sku_name", "sku"):
            if arg in call:
                assert str(call[arg]).startswith("${local.basic."), f"module.{name}.{arg}"
    assert "network" not in calls and "private_endpoint" not in calls
    assert calls["app_service"]["entra_client_id"] == "${var.entra_client_id}"  # Easy Auth stays


def test_docs_map_every_line_of_the_production_guide() -> None:
    checklist = (DATA / "production-guide-checklist.txt").read_text(encoding="utf-8")
    doc = (REPO_ROOT / "docs" / "production.md").read_text(encoding="utf-8").lower()
    bullets = [line for line in checklist.splitlines() if line.strip()]
    assert len(bullets) > 30
    assert [b for b in bullets if b.lower() not in doc] == []


def test_prod_edge_ingress(prod: dict[str, dict[str, Any]]) -> None:
    """Finding 7: the way in is the WAF v2 gateway, to the app's private endpoint."""
    agw = prod["application_gateway"]
    assert agw["host_name"] == "${var.public_host_name}"
    assert agw["backend_fqdn"] == "${module.app_service.default_hostname}"
    assert agw["subnet_id"] == "${module.network.gateway_subnet_id}"
    assert agw["identity_id"] == "${module.gateway_identity.id}"
    assert "${module.key_vault.vault_uri}secrets/" in agw["certificate_secret_id"]
    roles = prod["gateway_identity"]["role_assignments"]
    assert roles["certificate"]["role"] == '"Key Vault Secrets User"'
    module = load_module_dir(MODULES / "application_gateway")
    assert module.variables["probe_path"].body["default"] == '"/health/live"'
    assert module.variables["zones"].body["default"] == ['"1"', '"2"', '"3"']
    gateway = module.resources[("azurerm_application_gateway", "this")].body
    assert gateway["global"][0]["response_buffering_enabled"] is False  # SSE streams through
    # the staging slot has its own private endpoint, so a swap can be smoke-tested
    endpoints = str(local_value(PROD, "private_endpoints"))
    assert 'subresource = "sites-staging"' in endpoints


def test_prod_edge_egress_and_operators(prod: dict[str, dict[str, Any]]) -> None:
    """Findings 5, 8, 9, 11, 13: firewall next hop, runner subnet, Bastion, DDoS, flow logs."""
    assert prod["route_table"]["firewall_private_ip"] == "${module.firewall.private_ip_address}"
    assert prod["route_table"]["subnet_ids"] == "${module.network.egress_subnet_ids}"
    example = (PROD / "terraform.tfvars.example").read_text(encoding="utf-8")
    assert not re.search(r"\b10\.\d+\.\d+\.\d+\b", example)  # no hard-coded next hop
    fw = prod["firewall"]
    assert fw["build_agent_source_prefixes"] == ['${module.network.subnet_prefixes["build_agents"]}']
    assert fw["workload_source_prefixes"] == ['${module.network.subnet_prefixes["app"]}']
    firewall = load_module_dir(MODULES / "firewall")
    rules = str(firewall.resources[("azurerm_firewall_policy_rule_collection_group", "this")].body)
    assert "var.build_agent_fqdns" in rules and rules.count("var.build_agent_fqdns") == 1
    assert prod["bastion"]["subnet_id"] == "${module.network.bastion_subnet_id}"
    network = load_module_dir(MODULES / "network")
    subnets = {body.body["name"] for (rtype, _), body in network.resources.items()
               if rtype == "azurerm_subnet"}
    assert {'"AzureFirewallSubnet"', '"AzureBastionSubnet"', '"${var.name}-jumpbox-snet"',
            '"${var.name}-build-snet"', '"${var.name}-agw-snet"'} <= subnets
    assert prod["network"]["ddos_protection_plan_id"] == "${var.ddos_protection_plan_id}"
    assert prod["network"]["ddos_protection_plan_create"] == "${var.ddos_protection_plan_create}"
    logs = prod["flow_logs"]
    assert logs["virtual_network_ids"] == {"hub": "${module.network.hub_vnet_id}",
                                           "spoke": "${module.network.spoke_vnet_id}"}
    assert logs["retention_days"] == 90
    targets = prod["diagnostics"]["target_resource_ids"]
    for key in ("firewall", "gateway", "gateway-ip", "bastion"):
        assert key in targets, key


def test_dev_has_no_heavy_edge() -> None:
    calls = module_calls(DEV)
    for name in ("application_gateway", "firewall", "bastion", "route_table", "flow_logs"):
        assert name not in calls, name
    assert local_value(DEV, "basic")["forwarded_host_header"] is None


def test_prod_scheduled_sync_job(prod: dict[str, dict[str, Any]]) -> None:
    """Issue 10: the app's image on a cron schedule, `chatref ingest <container URL> --prune`."""
    job = prod["sync_job"]
    assert job["subnet_id"] == "${module.network.jobs_subnet_id}"
    assert job["container_image"] == "${var.container_image}"  # the web app's image
    assert job["identity_id"] == "${module.sync_identity.id}"
    roles = {key: body["role"] for key, body in prod["sync_identity"]["role_assignments"].items()
             if not key.startswith("__")}
    assert roles["documents"] == '"Storage Blob Data Reader"'
    assert roles["search"] == '"Search Index Data Contributor"'
    assert "Search Service Contributor" not in str(prod["sync_identity"])
    # its first ingest creates the index, through a role that can change index definitions only
    schema = prod["sync_identity"]["custom_role_assignments"]["search-schema"]
    assert schema == {"scope": "${module.search.id}",
                      "role_definition_id": "${module.search.index_schema_role_id}"}
    assert prod["search"]["index_schema_role_enabled"] is True
    search = load_module_dir(MODULES / "search")
    role = search.resources[("azurerm_role_definition", "index_schema")].body
    assert role["permissions"][0]["actions"] == [
        '"Microsoft.Search/searchServices/read"', '"Microsoft.Search/searchServices/indexes/read"',
        '"Microsoft.Search/searchServices/indexes/write"']
    module = load_module_dir(MODULES / "sync_job")
    env = module.resources[("azurerm_container_app_environment", "this")].body
    assert env["internal_load_balancer_enabled"] is True
    assert env["infrastructure_subnet_id"] == "${var.subnet_id}"
    sync = module.resources[("azurerm_container_app_job", "sync")].body
    assert sync["schedule_trigger_config"][0]["cron_expression"] == "${var.cron_expression}"
    container = sync["template"][0]["container"][0]
    # releases set the job's image (by digest); an apply must not roll it back
    assert sync["lifecycle"][0]["ignore_changes"] == ["${template[0].container[0].image}"]
    assert container["command"] == ['"chatref"']
    assert container["args"] == ['"ingest"', "${local.source_url}", '"--prune"']
    names = {k for k in module.locals["settings"][0] if not k.startswith("__")}
    assert {"AZURE_SEARCH_ENDPOINT", "AZURE_SEARCH_INDEX", "AZURE_STORAGE_BLOB_ENDPOINT",
            "AZURE_STORAGE_CONTAINER", "AZURE_CLIENT_ID"} <= names
    # every name the job sets is one of the app's contract names
    app = load_module_dir(MODULES / "app_service")
    contract = {k for k in app.locals["contract_settings"][0] if not k.startswith("__")}
    assert names <= contract
