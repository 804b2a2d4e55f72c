"""Provider rules read from the azurerm source: enumerations, argument relations, ForceNew."""

from __future__ import annotations

import json
from pathlib import Path

from chatref.infra_validate import Schema, validate_tree
from chatref.infra_validate.provider_rules import DEFAULT_RULES, ProviderRules, shipped_rules
from tests.infra.conftest import INFRA, WriteTf

VERSIONS = 'terraform {\n  required_providers {\n    azurerm = { source = "hashicorp/azurerm" }\n  }\n}\n'
DEPLOYMENT = '''resource "azurerm_cognitive_deployment" "chat" {{
  name                   = "chat"
  cognitive_account_id   = "id"
  version_upgrade_option = "{upgrade}"

  model {{
    format  = "OpenAI"
    name    = "gpt-5.5"
    version = "2026-04-24"
  }}

  sku {{
    name = "{sku}"
  }}
}}
'''
KEY = '''resource "azurerm_key_vault_key" "k" {{
  name         = "k"
  key_vault_id = "id"
  key_type     = "RSA"
  key_opts     = ["wrapKey", "unwrapKey"]
{extra}}}
'''


def codes(tmp_path: Path, schema: Schema) -> list[tuple[str, str]]:
    return [(f.code, f.message) for f in validate_tree(tmp_path, schema)]


def test_the_rules_name_their_source_and_cover_what_infra_uses() -> None:
    raw = json.loads(DEFAULT_RULES.read_text(encoding="utf-8"))
    assert raw["source"].startswith("hashicorp/terraform-provider-azurerm, tag v4.79.0")
    rules = shipped_rules()
    used = {word for tf in INFRA.rglob("*.tf")
            for word in tf.read_text(encoding="utf-8").split('"') if word.startswith("azurerm_")}
    for rtype in used & set(Schema.load().resources):
        assert rules.source_file(rtype), f"no provider rules extracted for {rtype}"
    assert rules.source_file("azurerm_cognitive_deployment") == (
        "internal/services/cognitive/cognitive_deployment_resource.go")


def test_an_enumerated_value_outside_the_provider_list_fails(
    tmp_path: Path, schema: Schema, write_tf: WriteTf
) -> None:
    write_tf("main.tf", DEPLOYMENT.format(upgrade="NoAutoUpgrade", sku="GlobalStandart") + VERSIONS)
    found = codes(tmp_path, schema)
    assert [c for c, _ in found] == ["provider-rule"]
    assert "GlobalStandart" in found[0][1] and "GlobalStandard" in found[0][1]
    assert "cognitive_deployment_resource.go" in found[0][1]


def test_values_the_provider_accepts_pass(
    tmp_path: Path, schema: Schema, write_tf: WriteTf
) -> None:
    write_tf("main.tf", DEPLOYMENT.format(upgrade="OnceCurrentVersionExpired",
                                          sku="GlobalStandard") + VERSIONS)
    assert codes(tmp_path, schema) == []


def test_conflicting_arguments_fail_and_either_alone_passes(
    tmp_path: Path, schema: Schema, write_tf: WriteTf
) -> None:
    write_tf("bad/main.tf", KEY.format(extra='  key_size     = 2048\n  curve        = "P-256"\n')
             + VERSIONS)
    write_tf("good/main.tf", KEY.format(extra="  key_size     = 2048\n") + VERSIONS)
    bad = codes(tmp_path / "bad", schema)
    assert {c for c, _ in bad} == {"provider-rule"}
    assert any("conflicts with" in m for _, m in bad)
    assert codes(tmp_path / "good", schema) == []


def test_at_least_one_of_inside_a_nested_block() -> None:
    rules = ProviderRules({"resources": {"azurerm_x": {"at_least_one_of": {
        "policy.a": ["policy.a", "policy.b"], "policy.b": ["policy.a", "policy.b"]}}}})
    empty = {"policy": [{"__is_block__": True, "c": '"x"'}]}
    assert [m for _, m in rules.problems("azurerm_x", empty)] == [
        "needs at least one of 'a', 'b'"]
    assert list(rules.problems("azurerm_x", {"policy": [{"__is_block__": True, "b": 1}]})) == []
    assert list(rules.problems("azurerm_x", {})) == []  # no block, nothing to judge


def test_model_changes_replace_the_deployment() -> None:
    """Finding 12: the provider marks the model ForceNew; the procedure is in the module README."""
    force_new = shipped_rules().force_new("azurerm_cognitive_deployment")
    assert {"model.name", "model.format", "sku.name"} <= set(force_new)
    assert "model.version" not in force_new  # a version change updates in place
    readme = (INFRA / "modules" / "openai" / "README.md").read_text(encoding="utf-8")
    assert "ForceNew" in readme and "delete lock" in readme


def test_the_defender_plan_validation_lists_what_the_provider_accepts() -> None:
    """The governance module's defender_plans validation repeats the provider's enumeration."""
    accepted = shipped_rules().resources["azurerm_security_center_subscription_pricing"][
        "enums"]["resource_type"]
    text = (INFRA / "modules" / "governance" / "variables.tf").read_text(encoding="utf-8")
    listed = text.split("contains([", 3)[2].split("]", 1)[0]
    assert sorted(item.strip().strip('"') for item in listed.split(",")) == sorted(accepted)
    prod = (INFRA / "environments" / "prod" / "variables.tf").read_text(encoding="utf-8")
    defaults = prod.split('variable "defender_plans"', 1)[1].split("default = {", 1)[1]
    plans = [line.split("=")[0].strip() for line in defaults.split("}\n}", 1)[0].splitlines()
             if "=" in line]
    assert plans and set(plans) <= set(accepted), plans
