"""The rule pack: what each chatref rule enforces, why, and how hard, per profile.

The checks themselves are checkov custom checks in ``chatref/policy/rules`` (run inside
``.venv-checkov``); this module is their metadata, read by the report. A rule's id is the
checkov check id. ``test_catalog.py`` keeps the two in step.

CIS references are to the CIS Microsoft Azure Foundations Benchmark v2.0.

Profiles follow Sentinel's enforcement levels: ``hard`` fails the build, ``soft`` fails unless
overridden with a recorded reason, ``advisory`` warns. ``basic`` applies the baseline (identity,
TLS, Key Vault, content filter, App Service; tagging soft) and shows the rest as advisory;
``production`` applies every rule, hard.

    >>> RULES["CKV_CHATREF_004"].level("production")
    <Level.HARD: 'hard'>
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    HARD = "hard"
    SOFT = "soft"
    ADVISORY = "advisory"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


PROFILES = ("basic", "production")


@dataclass(frozen=True)
class Rule:
    """One guardrail. ``basic`` is its level in the basic profile (production is always hard)."""

    id: str
    title: str
    severity: Severity
    area: str
    rationale: str
    enforces: str
    fix: str
    basic: Level | None = Level.ADVISORY
    scope: str = "resource"  # resource | graph | configuration (decided across the scan)
    types: tuple[str, ...] = ()  # graph rules: the resource types they judge

    def level(self, profile: str) -> Level | None:
        """The enforcement level in ``profile``; None when the profile does not apply it."""
        return Level.HARD if profile == "production" else self.basic


H, S, A = Level.HARD, Level.SOFT, Level.ADVISORY
_PAAS = (
    "azurerm_key_vault", "azurerm_storage_account", "azurerm_container_registry",
    "azurerm_cognitive_account", "azurerm_search_service", "azurerm_machine_learning_workspace",
    "azurerm_ai_foundry",
)
CRIT, HIGH, MED, LOW = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW
_GUIDE = "production guide"

_RULES = (
    Rule("CKV_CHATREF_001", "Services authenticate with a managed identity", HIGH, "identity",
         "Keys in app settings leak and never rotate; a managed identity has no secret to steal.",
         f"{_GUIDE} §Implementation 2: managed identities for all services; CIS Azure 9.5",
         "Add identity { type = \"SystemAssigned\" } (or UserAssigned with identity_ids).", H),
    Rule("CKV_CHATREF_002", "Resources carry owner, environment, cost-center, application tags",
         LOW, "tagging",
         "Untagged resources cannot be charged back, owned or cleaned up.",
         f"{_GUIDE} §5 Resource Organization: resource tagging for cost allocation",
         "Set tags = { owner, environment, cost-center, application } (merge a common map).", S),
    Rule("CKV_CHATREF_003", "Endpoints accept TLS 1.2 or newer only", HIGH, "tls",
         "TLS 1.0/1.1 have known weaknesses and are retired by Azure.",
         "CIS Azure 3.15 (storage minimum TLS), 9.3 (App Service latest TLS)",
         "Set min_tls_version = \"TLS1_2\" / site_config.minimum_tls_version = \"1.2\".", H),
    Rule("CKV_CHATREF_004", "Key Vault has purge protection", HIGH, "key-vault",
         "Without it a deleted vault (and every key) can be purged for good, by mistake or attack.",
         f"{_GUIDE} §3 Key Vault: enable purge protection; CIS Azure 8.5",
         "Set purge_protection_enabled = true.", S),
    Rule("CKV_CHATREF_005", "Key Vault keeps deleted objects for 90 days", MED, "key-vault",
         "Soft delete is the undo for a deleted secret; a short window loses it.",
         f"{_GUIDE} §3 Key Vault: soft-delete, soft_delete_retention_days = 90",
         "Set soft_delete_retention_days = 90 (or leave the default)."),
    Rule("CKV_CHATREF_006", "Key Vault uses Azure RBAC", MED, "key-vault",
         "Access policies are per-vault and unaudited by PIM; RBAC is central and reviewable.",
         f"{_GUIDE} §3 Key Vault: enable_rbac_authorization; CIS Azure 8.6",
         "Set rbac_authorization_enabled = true and grant roles with azurerm_role_assignment.", H),
    Rule("CKV_CHATREF_007", "Key Vault firewall denies by default", HIGH, "key-vault",
         "An open vault endpoint is one leaked token away from every secret.",
         f"{_GUIDE} §3 Key Vault: restrict network access with firewall rules",
         "Add network_acls { default_action = \"Deny\", bypass = \"AzureServices\" } or set "
         "public_network_access_enabled = false."),
    Rule("CKV_CHATREF_008", "Key Vault keys and secrets expire", MED, "key-vault",
         "Credentials without an expiry are never rotated.",
         "CIS Azure 8.1-8.4 (expiration date on keys and secrets)",
         "Set expiration_date on azurerm_key_vault_key and azurerm_key_vault_secret.", S),
    Rule("CKV_CHATREF_009", "Model deployments have a content filter attached", HIGH,
         "content-filter",
         "A deployment without a RAI policy answers prompts the organisation never approved.",
         "Sentinel area: OpenAI content filter; Azure OpenAI content filtering",
         "Create azurerm_cognitive_account_rai_policy and set rai_policy_name on the deployment.",
         H),
    Rule("CKV_CHATREF_010", "Storage accepts HTTPS only", HIGH, "storage",
         "Plain HTTP exposes documents and SAS tokens on the wire.",
         "CIS Azure 3.1 (secure transfer required)",
         "Leave https_traffic_only_enabled at its default, true.", H),
    Rule("CKV_CHATREF_011", "Storage allows no anonymous blob access", HIGH, "storage",
         "A container left public publishes the organisation's documents.",
         "CIS Azure 3.7 (public access level disabled)",
         "Set allow_nested_items_to_be_public = false."),
    Rule("CKV_CHATREF_012", "Storage soft-deletes blobs and containers", MED, "storage",
         "Soft delete turns an accidental delete into a restore instead of an incident.",
         f"{_GUIDE} §3 Storage: enable soft delete for blobs and containers; CIS Azure 3.11",
         "Add blob_properties { delete_retention_policy {...} container_delete_retention_policy "
         "{...} }."),
    Rule("CKV_CHATREF_013", "Storage keeps blob versions", MED, "storage",
         "Versioning recovers overwritten source documents.",
         f"{_GUIDE} §3 Storage: enable versioning for critical data",
         "Set blob_properties { versioning_enabled = true }."),
    Rule("CKV_CHATREF_014", "Storage encrypts with a customer-managed key", MED, "storage",
         "A customer-managed key lets the organisation revoke access to the data at rest.",
         f"{_GUIDE} §3 Storage: customer-managed keys; CIS Azure 3.12",
         "Add customer_managed_key { key_vault_key_id, user_assigned_identity_id } or an "
         "azurerm_storage_account_customer_managed_key resource.", scope="graph",
         types=("azurerm_storage_account",)),
    Rule("CKV_CHATREF_015", "Storage firewall denies by default", HIGH, "storage",
         "Storage reachable from any network is one leaked SAS away from exfiltration.",
         f"{_GUIDE} §3 Storage: configure firewall rules; CIS Azure 3.8",
         "Add network_rules { default_action = \"Deny\" } or public_network_access_enabled = "
         "false."),
    Rule("CKV_CHATREF_016", "Container registry admin user is off", HIGH, "registry",
         "The admin user is a shared password with push rights.",
         "Sentinel area: container registry (admin user off)",
         "Set admin_enabled = false; pull with the app's managed identity (AcrPull)."),
    Rule("CKV_CHATREF_017", "Container registry uses neither content trust nor quarantine", MED,
         "registry",
         "Content trust is refused for new registries since 2026-05-31 (ContentTrustUnsupported), "
         "and quarantine leaves every image unpullable without a scanner: apply fails, or "
         "deployments hang.",
         "issue 11 finding 4; Sentinel area: container registry content trust",
         "Set trust_policy_enabled = false and quarantine_policy_enabled = false; sign with "
         "Notation in the release workflow; enable Defender for container registries."),
    Rule("CKV_CHATREF_018", "Container registry is geo-replicated", MED, "registry",
         "A regional outage must not stop deployments or scale-out pulls.",
         f"{_GUIDE} §Implementation 3: container registry with geo-replication",
         "Use sku = \"Premium\" and add georeplications { location = <second region> } (as a "
         "dynamic block: for_each = var.location != null ? [1] : [], which checkov expands).",
         None),
    Rule("CKV_CHATREF_019", "AI Foundry / ML workspaces are private, with a managed network",
         HIGH, "ai-workspace",
         "A public workspace exposes models, data stores and compute.",
         f"{_GUIDE} §Implementation 4: ML workspace with private networks",
         "Set public_network_access_enabled = false and managed_network { isolation_mode = "
         "\"AllowOnlyApprovedOutbound\" }."),
    Rule("CKV_CHATREF_020", "AI Search runs on Standard or higher", MED, "search",
         "Basic and Free tiers have no SLA for replicas across zones.",
         f"{_GUIDE} §1 AI Search: upgrade to Standard tier",
         "Set sku = \"standard\".", None),
    Rule("CKV_CHATREF_021", "AI Search has 3 or more replicas", MED, "search",
         "Three replicas give the read/write SLA and survive a zone loss.",
         f"{_GUIDE} §1 AI Search: at least 3 replicas across availability zones",
         "Set replica_count = 3.", None),
    Rule("CKV_CHATREF_022", "AI Search accepts Entra ID only", HIGH, "search",
         "Search admin keys are long-lived shared secrets.",
         "Sentinel area: search configuration (local auth off)",
         "Set local_authentication_enabled = false; grant Search Index Data roles."),
    Rule("CKV_CHATREF_023", "PaaS services have private endpoints", HIGH, "network",
         "Traffic to data services must stay on the private network.",
         f"{_GUIDE} §2 Private Endpoints: for all PaaS services",
         "Add an azurerm_private_endpoint whose private_connection_resource_id is the service.",
         scope="graph", types=_PAAS),
    Rule("CKV_CHATREF_024", "Subnets have a network security group", HIGH, "network",
         "A subnet without an NSG allows all traffic within the VNet and from peers.",
         f"{_GUIDE} §2 Network Security Groups: implement NSGs",
         "Associate an NSG with azurerm_subnet_network_security_group_association.",
         scope="graph", types=("azurerm_subnet",)),
    Rule("CKV_CHATREF_025", "PaaS services, App Service apps and slots refuse public network "
         "access", HIGH, "network",
         "A private endpoint protects nothing while the public endpoint stays open; in prod the "
         "governance module's deny-public policies refuse it at apply time anyway.",
         f"{_GUIDE} §2 Network Security; Sentinel area: no public network access; issue 11 "
         "finding 13 (deny-public for Search, ACR and App Service)",
         "Set public_network_access_enabled = false (public_network_access = \"Disabled\" on "
         "azurerm_ai_foundry)."),
    Rule("CKV_CHATREF_026", "App Service is HTTPS only", HIGH, "app-service",
         "HTTP exposes session cookies and tokens.",
         "CIS Azure 9.2 (redirect HTTP to HTTPS)",
         "Set https_only = true.", H),
    Rule("CKV_CHATREF_027", "App Service has FTP/FTPS deployment off", MED, "app-service",
         "FTP credentials bypass the delivery pipeline.",
         "CIS Azure 9.10 (FTP deployments disabled)",
         "Set site_config { ftps_state = \"Disabled\" } (the azurerm 4.x default).", H),
    Rule("CKV_CHATREF_028", "App Service authentication is on", HIGH, "app-service",
         "The chat must only answer the organisation's users.",
         "CIS Azure 9.1 (App Service authentication); Sentinel area: App Service auth",
         "Add auth_settings_v2 { auth_enabled = true, require_authentication = true, "
         "active_directory_v2 {...} }.", S),
    Rule("CKV_CHATREF_029", "App Service has a health check", MED, "app-service",
         "Without a health check, the platform keeps sending traffic to a dead instance.",
         f"{_GUIDE} §1 App Service: configure health checks",
         "Set site_config { health_check_path = \"/health/ready\" }.", S),
    Rule("CKV_CHATREF_030", "Services have diagnostic settings", MED, "monitoring",
         "Without logs there is no audit trail and no incident diagnosis.",
         f"{_GUIDE} §6 Logging and Auditing: diagnostic settings on all resources; CIS Azure 5.1",
         "Add azurerm_monitor_diagnostic_setting with target_resource_id = <service>.id to Log "
         "Analytics.", scope="graph",
         types=(*_PAAS, "azurerm_linux_web_app", "azurerm_windows_web_app")),
    Rule("CKV_CHATREF_031", "App Service plan is Premium, zone balanced, 3+ instances", HIGH,
         "availability",
         "One instance or one zone is a single point of failure.",
         f"{_GUIDE} §1 App Service: Premium tier, at least 3 instances across zones",
         "Set sku_name = \"P1v3\", zone_balancing_enabled = true, worker_count = 3.", None),
    Rule("CKV_CHATREF_032", "App Service plans autoscale", MED, "availability",
         "Load spikes must add instances without a person awake.",
         f"{_GUIDE} §1 App Service: enable auto-scaling; §5 implement auto-scaling",
         "Add azurerm_monitor_autoscale_setting with target_resource_id = <plan>.id.", None,
         scope="graph", types=("azurerm_service_plan",)),
    Rule("CKV_CHATREF_033", "Azure OpenAI is deployed in 2+ regions", HIGH, "availability",
         "A regional model outage must fail over, not take the chat down.",
         f"{_GUIDE} §1 Azure OpenAI: deploy in multiple regions",
         "Add a second azurerm_cognitive_account (kind = \"OpenAI\") in another region.", None,
         scope="configuration"),
    Rule("CKV_CHATREF_034", "Log Analytics keeps 90+ days", MED, "monitoring",
         "Incidents are often found weeks later; 30 days is too short to investigate.",
         f"{_GUIDE} §4 Monitoring: log_retention_days = 90",
         "Set retention_in_days = 90."),
    Rule("CKV_CHATREF_035", "Alerts on exceptions, failed requests and response time", MED,
         "monitoring",
         "Without alerts an outage is found by users.",
         f"{_GUIDE} §4 Monitoring: server exceptions, failed requests, response time thresholds",
         "Add azurerm_monitor_metric_alert on exceptions/server, requests/failed and "
         "requests/duration of Application Insights.", None, scope="configuration"),
    Rule("CKV_CHATREF_036", "A cost budget exists", LOW, "cost",
         "Token spend can grow fast; a budget alert catches it in days, not at month end.",
         f"{_GUIDE} §5 Cost Optimization: budget alerts in Azure Cost Management",
         "Add azurerm_consumption_budget_resource_group (or _subscription) with notifications.",
         scope="configuration"),
    Rule("CKV_CHATREF_037", "Names follow <prefix>-<environment>-<service>", LOW, "naming",
         "Predictable names make ownership and environment obvious in every tool; in prod the "
         "governance module's naming policy (mode Indexed, Deny) refuses any other name at "
         "apply time, so every resource it judges is judged here first.",
         f"{_GUIDE} §6 Policy Enforcement: enforce resource naming conventions; issue 11 "
         "finding 13 (naming-convention policy)",
         "Name resources \"${var.prefix}-${var.environment}-<service>\" (no hyphens where Azure "
         "forbids them: \"${var.prefix}${var.environment}<service>\")."),
    # The app's front door and the network edge (issue 11): chatref_edge.py.
    Rule("CKV_CHATREF_050", "Container web apps set WEBSITES_PORT to the container's port",
         HIGH, "app-service",
         "App Service forwards to port 80 unless told; a container on another port never starts.",
         "issue 11 finding 6; App Service custom containers: WEBSITES_PORT",
         "Set app_settings { WEBSITES_PORT = \"8000\", PORT = \"8000\" } from one variable.", S),
    Rule("CKV_CHATREF_051", "Easy Auth admits an allowed group or app role", HIGH, "app-service",
         "Authentication alone lets every account of the tenant in, guests included.",
         "issue 11 finding 13; App Service authorization policy (allowed groups)",
         "Set auth_settings_v2 { active_directory_v2 { allowed_groups = [...] } } or the app "
         "setting CHATREF_AUTH_REQUIRED_ROLE (with assignment required on the enterprise app).",
         S),
    Rule("CKV_CHATREF_052",
         "Application Gateway is WAF v2, zone redundant, autoscaling, TLS from Key Vault",
         HIGH, "network",
         "The only way in must filter attacks, survive a zone loss, absorb load and renew its "
         "certificate.",
         "issue 11 finding 7; Azure baseline openai-end-to-end: Application Gateway WAF v2",
         "Use sku { name = tier = \"WAF_v2\" }, zones = [\"1\", \"2\", \"3\"], "
         "autoscale_configuration, firewall_policy_id, and ssl_certificate { key_vault_secret_id "
         "} read with a user-assigned identity."),
    Rule("CKV_CHATREF_053", "WAF policy runs the managed rules in Prevention mode", HIGH, "network",
         "Detection mode only logs the attacks it sees; without managed rules it sees none.",
         "issue 11 finding 7; OWASP CRS / Microsoft Default Rule Set",
         "Set policy_settings { mode = \"Prevention\" } and managed_rule_set { type = "
         "\"Microsoft_DefaultRuleSet\", version = \"2.1\" }."),
    Rule("CKV_CHATREF_054", "Virtual networks carry a DDoS Network Protection plan",
         HIGH, "network",
         "Public endpoints in an unprotected VNet get only the platform's basic DDoS defence.",
         "production guide §2: Enable Azure DDoS Protection for public endpoints; issue 11 "
         "finding 11",
         "Add ddos_protection_plan { id = <the region's plan>, enable = true } (one plan per "
         "region per subscription)."),
    Rule("CKV_CHATREF_055", "Public IPs keep DDoS protection on", MED, "network",
         "An address with DDoS protection disabled is outside the plan that was paid for.",
         "issue 11 findings 7 and 11",
         "Leave ddos_protection_mode at VirtualNetworkInherited (or Enabled); sku = \"Standard\"."),
    Rule("CKV_CHATREF_056", "The default route goes to the firewall", HIGH, "network",
         "A default route to the Internet, or to an address where nothing listens, bypasses or "
         "breaks egress filtering.",
         "issue 11 finding 8; production guide §2 hub-spoke with central egress",
         "Route 0.0.0.0/0 with next_hop_type = \"VirtualAppliance\" to the firewall module's "
         "private_ip_address output."),
    Rule("CKV_CHATREF_057", "Azure Firewall runs a policy that denies threat-intelligence hits",
         HIGH, "network",
         "Alert-only threat intelligence lets known-bad destinations through.",
         "issue 11 finding 8; Azure Firewall threat intelligence and IDPS",
         "Set firewall_policy_id on the firewall, threat_intelligence_mode = \"Deny\" on the "
         "policy (and intrusion_detection { mode = \"Deny\" } on Premium)."),
    Rule("CKV_CHATREF_058", "Firewall application rules name their sources and destinations",
         HIGH, "network",
         "A rule from * or to * turns the firewall into a router.",
         "issue 11 finding 8: exactly what the workload needs",
         "List the subnet prefixes in source_addresses and the host names in destination_fqdns; "
         "no *, no web categories."),
    Rule("CKV_CHATREF_059", "Bastion is Standard or Premium, with shareable links off",
         MED, "operations",
         "Operators need native-client tunnelling; shareable links skip Entra ID sign-in.",
         "issue 11 finding 9",
         "Set sku = \"Standard\" and shareable_link_enabled = false."),
    Rule("CKV_CHATREF_060", "VNet flow logs keep 90 days and feed Traffic Analytics",
         MED, "monitoring",
         "Without flow logs there is no record of who talked to what during an incident.",
         "issue 11 finding 13; production guide §6 Logging and Auditing",
         "Add azurerm_network_watcher_flow_log with target_resource_id = <vnet>.id, "
         "retention_policy { days = 90 } and traffic_analytics { enabled = true }."),
)

# Core services as Azure accepts them today (issue 11 findings 2-5, 13): chatref_core.py.
_CORE_RULES = (
    Rule("CKV_CHATREF_070", "Storage tables are created through the management plane", HIGH,
         "storage",
         "azurerm_storage_table uses Shared Key on the Table data plane and gets 403 once shared "
         "keys are off (provider issue #32249): the apply fails.",
         "issue 11 finding 3; Azure Verified Modules create tables through Resource Manager",
         "Create the table with azapi_resource "
         "(Microsoft.Storage/storageAccounts/tableServices/tables)."),
    Rule("CKV_CHATREF_071", "Azure OpenAI keys are attached one way, with the system identity",
         HIGH, "encryption",
         "Azure OpenAI unwraps a customer-managed key with its system-assigned identity only, and "
         "the inline customer_managed_key block flips the key on every apply when the separate "
         "resource also sets it.",
         "issue 11 finding 2; Azure OpenAI customer-managed keys (system-assigned identity, "
         "RSA 2048, vault in the account's region)",
         "Attach the key with azurerm_cognitive_account_customer_managed_key only, without "
         "identity_client_id; give the account identity { type = \"SystemAssigned\" }."),
    Rule("CKV_CHATREF_072", "Application Insights has no diagnostic setting of its own", LOW,
         "monitoring",
         "Workspace-based Application Insights already writes its telemetry to the Log Analytics "
         "workspace; a diagnostic setting on it stores (and bills) every record twice.",
         "issue 11 finding 13; Azure Monitor: workspace-based Application Insights",
         "Remove the diagnostic setting whose target_resource_id is the Application Insights "
         "component (or drop it from a central diagnostics module's targets)."),
    Rule("CKV_CHATREF_073", "Storage children and settings go through the management plane",
         HIGH, "storage",
         "With the storage data plane private (and data_plane_available = false), a container, "
         "queue or share created by account name, or queue_properties / static_website on the "
         "account, need the data plane: plan or apply fails.",
         "issue 11 finding 5; azurerm 4.x storage_account_id (Resource Manager) for containers, "
         "queues and shares",
         "Create containers, queues and shares with storage_account_id; drop queue_properties and "
         "static_website (log through diagnostic settings)."),
)

RULES: dict[str, Rule] = {rule.id: rule for rule in (*_RULES, *_CORE_RULES)}

# Rules decided across the whole scan from facts the checks report (see chatref.policy.aggregate).
CONFIGURATION_RULES = tuple(r.id for r in _RULES if r.scope == "configuration")

# checkov's built-in checks join the report at this level in every profile: they are useful
# signal but not chatref's contract, and some encode choices the reference makes differently.
BUILTIN_LEVEL = Level.ADVISORY
