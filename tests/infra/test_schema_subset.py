"""The azurerm schema subset in infra/schema/ covers what the repository uses, and says so."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scripts import azurerm_schema_subset as subset_script
from chatref import infra_validate as tfvalidate
from chatref.infra_validate import REGENERATE, Schema, validate_tree
from tests.conftest import REPO_ROOT
from tests.infra.conftest import SCHEMA_PATH, WriteTf

VERSIONS = 'terraform {\n  required_providers {\n    azurerm = { source = "hashicorp/azurerm" }\n  }\n}\n'


def test_every_azurerm_name_in_the_repository_is_in_the_subset(schema: Schema) -> None:
    known = schema.all_resources | schema.all_data_sources
    used = subset_script.names_in_repo() & known
    missing = sorted(n for n in used if n not in schema.resources and n not in schema.data_sources)
    assert missing == [], f"not in the schema subset: {missing}; regenerate it with {REGENERATE}"


def test_the_families_the_architecture_adds_are_in_the_subset(schema: Schema) -> None:
    for name in ("azurerm_application_gateway", "azurerm_web_application_firewall_policy",
                 "azurerm_firewall", "azurerm_firewall_policy",
                 "azurerm_firewall_policy_rule_collection_group", "azurerm_bastion_host",
                 "azurerm_public_ip", "azurerm_network_ddos_protection_plan",
                 "azurerm_network_watcher_flow_log", "azurerm_container_app_environment",
                 "azurerm_container_app_job", "azurerm_application_insights_workbook",
                 "azurerm_portal_dashboard", "azurerm_monitor_scheduled_query_rules_alert_v2",
                 "azurerm_monitor_metric_alert", "azurerm_user_assigned_identity",
                 "azurerm_role_assignment", "azurerm_security_center_subscription_pricing",
                 "azurerm_management_group_policy_assignment", "azurerm_policy_definition"):
        assert name in schema.resources, name


def test_a_type_outside_the_subset_says_how_to_regenerate(
    tmp_path: Path, schema: Schema, write_tf: WriteTf
) -> None:
    outside = sorted(schema.all_resources - schema.resources.keys())[0]
    write_tf("main.tf", f'resource "{outside}" "x" {{}}\n' + VERSIONS)
    findings = validate_tree(tmp_path, schema)
    assert [f.code for f in findings] == ["schema"]
    assert REGENERATE in findings[0].message and "not in the schema subset" in findings[0].message


def test_a_type_that_does_not_exist_is_still_named_so(
    tmp_path: Path, schema: Schema, write_tf: WriteTf
) -> None:
    write_tf("main.tf", 'resource "azurerm_machine_learning_hub" "x" {}\n' + VERSIONS)
    findings = validate_tree(tmp_path, schema)
    assert [f.code for f in findings] == ["type"]
    assert "does not exist in azurerm 4.79.0" in findings[0].message


def test_the_subset_writer_keeps_families_and_lists_every_name(tmp_path: Path) -> None:
    block = {"block": {"attributes": {"name": {"type": "string", "required": True}}}}
    full = {"version": "9.9.9", "provider": "p",
            "resource_schemas": {"azurerm_firewall": block, "azurerm_firewall_policy": block,
                                 "azurerm_sql_server": block, "azurerm_used_here": block},
            "data_source_schemas": {"azurerm_firewall": block, "azurerm_other": block}}
    document = subset_script.subset(full, {"azurerm_used_here", "azurerm_not_real"})
    assert sorted(document["resource_schemas"]) == [
        "azurerm_firewall", "azurerm_firewall_policy", "azurerm_used_here"]
    assert sorted(document["data_source_schemas"]) == ["azurerm_firewall"]
    assert document["all_resource_types"] == sorted(full["resource_schemas"])
    out = tmp_path / "s.json.gz"
    subset_script.write(document, out)
    first = out.read_bytes()
    subset_script.write(document, out)
    assert out.read_bytes() == first  # no timestamp in the gzip stream
    loaded = Schema.load(out)
    assert loaded.version == "9.9.9" and "azurerm_sql_server" in loaded.all_resources


_READS_SHARED = re.compile(r"""parent\s*/\s*["']shared["']|["']\.\./shared/""")


def test_no_test_reads_the_shared_folder() -> None:
    """A plain clone has no ../shared beside it; benchmarks may take it as an argument."""
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for path in sorted((REPO_ROOT / "tests").rglob("*.py"))
        if path.resolve() != Path(__file__).resolve()
        and _READS_SHARED.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_other_providers_are_named_as_not_checked(
    tmp_path: Path, write_tf: WriteTf, capsys: pytest.CaptureFixture[str]
) -> None:
    """azapi_resource and time_sleep have hand-written subsets (tests/infra/test_other_providers.py);
    any other provider's resources are parsed but named as not checked."""
    write_tf("main.tf", 'resource "time_sleep" "wait" {\n  create_duration = "60s"\n}\n'
             'resource "random_string" "suffix" {\n  length = 6\n}\n' + VERSIONS)
    assert tfvalidate.unchecked_types(tmp_path) == {"random": ["random_string"]}
    assert tfvalidate.main([str(tmp_path), "--schema", str(SCHEMA_PATH)]) == 0
    err = capsys.readouterr().err
    assert "not checked (no random schema here): random_string" in err
    assert "time_sleep" not in err
