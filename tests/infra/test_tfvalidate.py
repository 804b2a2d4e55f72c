"""The offline validator catches each class of error `terraform validate` would (small fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatref.infra_validate import Finding, Schema, main, references, validate_tree
from tests.infra.conftest import WriteTf

RG = """
resource "azurerm_resource_group" "this" {
  name     = "rg"
  location = "westeurope"
}
"""


def codes(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.code, f.message) for f in findings]


VERSIONS = """
terraform {
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.79"
    }
  }
}
"""


def run(tmp_path: Path, schema: Schema) -> list[Finding]:
    """Validate tmp_path as one module that pins azurerm like every chatref module."""
    if not (tmp_path / "versions.tf").exists():
        (tmp_path / "versions.tf").write_text(VERSIONS, encoding="utf-8")
    return validate_tree(tmp_path, schema)


def test_a_valid_module_has_no_findings(tmp_path: Path, schema: Schema, write_tf: WriteTf) -> None:
    write_tf("main.tf", RG + """
variable "names" {
  type        = list(string)
  description = "Names."
}

resource "azurerm_user_assigned_identity" "this" {
  for_each            = toset(var.names)
  name                = "id-${each.value}"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  depends_on          = [azurerm_resource_group.this]

  lifecycle {
    prevent_destroy = true
  }
}

output "principal_ids" {
  value = [for i in azurerm_user_assigned_identity.this : i.principal_id]
}
""")
    assert run(tmp_path, schema) == []


def test_unknown_resource_type(tmp_path: Path, schema: Schema, write_tf: WriteTf) -> None:
    write_tf("main.tf", """
resource "azurerm_machine_learning_hub" "hub" {
  name = "x"
}
""")
    assert codes(run(tmp_path, schema)) == [
        ("type", "resource type 'azurerm_machine_learning_hub' does not exist in azurerm 4.79.0")
    ]


def test_other_providers_are_not_judged_by_the_azurerm_schema(
    tmp_path: Path, schema: Schema, write_tf: WriteTf
) -> None:
    write_tf("main.tf", RG + """
resource "random_string" "suffix" {
  length = 6
}

resource "azurerm_user_assigned_identity" "i" {
  name                = "id-${random_string.suffix.result}"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
}
""")
    assert run(tmp_path, schema) == []


def test_unknown_data_source(tmp_path: Path, schema: Schema, write_tf: WriteTf) -> None:
    write_tf("main.tf", 'data "azurerm_nothing_here" "x" {}\n')
    assert [f.code for f in run(tmp_path, schema)] == ["type"]


def test_unknown_argument_and_block(tmp_path: Path, schema: Schema, write_tf: WriteTf) -> None:
    write_tf("main.tf", """
resource "azurerm_resource_group" "this" {
  name      = "rg"
  location  = "westeurope"
  sku       = "S0"
  network_acls {
    default_action = "Deny"
  }
}
""")
    assert codes(run(tmp_path, schema)) == [
        ("unknown", "unsupported argument 'sku'"),
        ("unknown", "unsupported block 'network_acls'"),
    ]


def test_content_filter_inside_a_deployment_is_rejected(
    tmp_path: Path, schema: Schema, write_tf: WriteTf
) -> None:
    """The original repository's defect: content filters are RAI policies, not deployment blocks."""
    write_tf("main.tf", """
resource "azurerm_cognitive_deployment" "chat" {
  name                 = "chat"
  cognitive_account_id = "id"
  model {
    format = "OpenAI"
    name   = "gpt-4o"
  }
  sku {
    name = "Standard"
  }
  content_filter {
    name = "Hate"
  }
}
""")
    assert codes(run(tmp_path, schema)) == [("unknown", "unsupported block 'content_filter'")]


def test_nested_block_arguments_are_checked(
    tmp_path: Path, schema: Schema, write_tf: WriteTf
) -> None:
    write_tf("main.tf", """
resource "azurerm_key_vault" "kv" {
  name                = "kv"
  location            = "westeurope"
  resource_group_name = "rg"
  tenant_id           = "t"
  sku_name            = "premium"
  network_acls {
    bypass         = "AzureServices"
    default_action = "Deny"
    ip_rule        = ["1.2.3.4"]
  }
}
""")
    assert codes(run(tmp_path, schema)) == [
        ("unknown", "unsupported argument 'ip_rule'"),
    ]
    assert run(tmp_path, schema)[0].address == "azurerm_key_vault.kv.network_acls"


def test_missing_required_argument_and_block(
    tmp_path: Path, schema: Schema, write_tf: WriteTf
) -> None:
    write_tf("main.tf", """
resource "azurerm_linux_web_app" "app" {
  name                = "app"
  location            = "westeurope"
  resource_group_name = "rg"
}
""")
    assert codes(run(tmp_path, schema)) == [
        ("required", "required argument 'service_plan_id' is missing"),
        ("required", "required block 'site_config' is missing"),
    ]


def test_a_dynamic_block_satisfies_a_required_block_and_is_checked(
    tmp_path: Path, schema: Schema, write_tf: WriteTf
) -> None:
    write_tf("main.tf", """
variable "filters" {
  type        = list(string)
  description = "Filters."
}

resource "azurerm_cognitive_account_rai_policy" "p" {
  name                 = "p"
  cognitive_account_id = "id"
  base_policy_name     = "Microsoft.DefaultV2"
  dynamic "content_filter" {
    for_each = var.filters
    content {
      name               = content_filter.value
      filter_enabled     = true
      block_enabled      = true
      severity_threshold = "Medium"
      source             = "Prompt"
      colour             = "red"
    }
  }
}
""")
    assert codes(run(tmp_path, schema)) == [("unknown", "unsupported argument 'colour'")]


def test_deprecated_argument_and_block(tmp_path: Path, schema: Schema, write_tf: WriteTf) -> None:
    write_tf("main.tf", """
resource "azurerm_key_vault" "kv" {
  name                      = "kv"
  location                  = "westeurope"
  resource_group_name       = "rg"
  tenant_id                 = "t"
  sku_name                  = "premium"
  enable_rbac_authorization = true
  contact {
    email = "ops@example.com"
  }
}
""")
    assert codes(run(tmp_path, schema)) == [
        ("deprecated", "argument 'enable_rbac_authorization' is deprecated in azurerm"),
        ("deprecated", "block 'contact' is deprecated in azurerm"),
    ]


def test_block_written_as_argument(tmp_path: Path, schema: Schema, write_tf: WriteTf) -> None:
    write_tf("main.tf", """
resource "azurerm_key_vault" "kv" {
  name                = "kv"
  location            = "westeurope"
  resource_group_name = "rg"
  tenant_id           = "t"
  sku_name            = "premium"
  network_acls        = { bypass = "AzureServices", default_action = "Deny" }
}
""")
    assert [f.code for f in run(tmp_path, schema)] == ["syntax"]


def test_computed_only_attribute_cannot_be_set(
    tmp_path: Path, schema: Schema, write_tf: WriteTf
) -> None:
    write_tf("main.tf", """
resource "azurerm_user_assigned_identity" "i" {
  name                = "i"
  location            = "westeurope"
  resource_group_name = "rg"
  principal_id        = "p"
}
""")
    assert codes(run(tmp_path, schema)) == [
        ("computed", "argument 'principal_id' is computed by the provider, it cannot be set")
    ]


def test_too_many_blocks(tmp_path: Path, schema: Schema, write_tf: WriteTf) -> None:
    write_tf("main.tf", """
resource "azurerm_cognitive_deployment" "chat" {
  name                 = "chat"
  cognitive_account_id = "id"
  model {
    format = "OpenAI"
    name   = "gpt-4o"
  }
  sku {
    name = "Standard"
  }
  sku {
    name = "ProvisionedManaged"
  }
}
""")
    assert [f.code for f in run(tmp_path, schema)] == ["max_items"]


def test_variables_need_type_and_description(
    tmp_path: Path, schema: Schema, write_tf: WriteTf
) -> None:
    write_tf("variables.tf", """
variable "untyped" {
  description = "No type."
}

variable "undescribed" {
  type = string
}
""")
    assert codes(run(tmp_path, schema)) == [
        ("variable", "variable 'untyped' has no type"),
        ("variable", "variable 'undescribed' has no description"),
    ]


def test_module_calls_are_checked_against_the_callee(
    tmp_path: Path, schema: Schema, write_tf: WriteTf
) -> None:
    write_tf("modules/m/variables.tf", """
variable "name" {
  type        = string
  description = "Required."
}

variable "size" {
  type        = number
  description = "Optional."
  default     = 1
}
""")
    write_tf("modules/m/outputs.tf", 'output "id" {\n  value = var.name\n}\n')
    write_tf("env/main.tf", """
module "m" {
  source = "../modules/m"
  colour = "red"
}

output "id" {
  value = module.m.identifier
}
""")
    findings = validate_tree(tmp_path / "env", schema)
    assert codes(findings) == [
        ("module", "passes 'colour', which the module does not declare"),
        ("module", "required variable 'name' is not passed"),
        ("reference", "module.m has no output 'identifier'"),
    ]


def test_missing_module_source_directory(tmp_path: Path, schema: Schema, write_tf: WriteTf) -> None:
    write_tf("env/main.tf", 'module "gone" {\n  source = "../modules/gone"\n}\n')
    assert [f.code for f in validate_tree(tmp_path / "env", schema)] == ["module"]


def test_references_to_things_that_do_not_exist(
    tmp_path: Path, schema: Schema, write_tf: WriteTf
) -> None:
    write_tf("main.tf", RG + """
locals {
  stem = "x"
}

resource "azurerm_user_assigned_identity" "i" {
  name                = "${local.stem}-${var.environment}-${local.nope}"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.other.name
  tags                = { rg = azurerm_resource_group.this.nam, note = "azurerm_fake.x is text" }
}

output "o" {
  value = data.azurerm_client_config.current.tenant_id
}

output "p" {
  value = azurerm_user_assigned_identity.i.principal_id
}

output "q" {
  value = azurerm_linux_web_app.app.identity[0].principal_idd
}

resource "azurerm_linux_web_app" "app" {
  name                = "app"
  location            = "westeurope"
  resource_group_name = "rg"
  service_plan_id     = "plan"
  site_config {}
}
""")
    assert sorted(codes(run(tmp_path, schema))) == sorted([
        ("reference", "var.environment is not declared"),
        ("reference", "local.nope is not defined"),
        ("reference", "azurerm_resource_group.other is not declared"),
        ("reference", "azurerm_resource_group.this has no attribute 'nam'"),
        ("reference", "data.azurerm_client_config.current is not declared"),
        ("reference", "azurerm_linux_web_app.app.identity has no attribute 'principal_idd'"),
    ])


def test_references_are_found_in_interpolations_not_in_literal_text() -> None:
    found = list(references('"${var.a}-azurerm_x.y-${local.b}"'))
    assert [(r.root, r.parts) for r in found] == [("var", ("a",)), ("local", ("b",))]


def test_unparseable_file_is_reported(tmp_path: Path, schema: Schema, write_tf: WriteTf) -> None:
    write_tf("main.tf", 'resource "azurerm_resource_group" "x" {\n  name = \n')
    assert [f.code for f in run(tmp_path, schema)] == ["parse"]


def test_cli_exit_status(
    tmp_path: Path, write_tf: WriteTf, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.infra.conftest import SCHEMA_PATH

    write_tf("ok/main.tf", RG + VERSIONS)
    write_tf("bad/main.tf", 'resource "azurerm_nope" "x" {}\n' + VERSIONS)
    assert main([str(tmp_path / "ok"), "--schema", str(SCHEMA_PATH)]) == 0
    assert main([str(tmp_path / "bad"), "--schema", str(SCHEMA_PATH), "--json"]) == 1
    assert '"code": "type"' in capsys.readouterr().out
    assert main([str(tmp_path / "missing"), "--schema", str(SCHEMA_PATH)]) == 2


def test_literal_values_must_convert_to_the_argument_type(
    tmp_path: Path, schema: Schema, write_tf: WriteTf
) -> None:
    write_tf("main.tf", """
variable "enabled" {
  type        = bool
  description = "An expression is not judged."
}

resource "azurerm_search_service" "s" {
  name                          = "s"
  location                      = "westeurope"
  resource_group_name           = "rg"
  sku                           = ["standard"]
  replica_count                 = "three"
  partition_count               = "2"
  local_authentication_enabled  = "yes"
  public_network_access_enabled = var.enabled
  allowed_ips                   = "1.2.3.4"
  tags                          = { owner = ["a"] }
}
""")
    assert codes(run(tmp_path, schema)) == [
        ("type", "argument 'sku': expected a string, got a list"),
        ("type", "argument 'replica_count': expected a number, got the string \"three\""),
        ("type", "argument 'local_authentication_enabled': expected a bool, "
                 "got the string \"yes\""),
        ("type", "argument 'allowed_ips': expected a set, got the string \"1.2.3.4\""),
        ("type", "argument 'tags': an element: expected a string, got a list"),
    ]


def test_each_and_count_need_for_each_and_count(
    tmp_path: Path, schema: Schema, write_tf: WriteTf
) -> None:
    write_tf("main.tf", """
resource "azurerm_resource_group" "a" {
  name     = "rg-${each.key}"
  location = "westeurope"
}

resource "azurerm_resource_group" "b" {
  name     = "rg-${count.index}"
  location = "westeurope"
}

resource "azurerm_resource_group" "c" {
  count    = 2
  name     = "rg-${count.index}"
  location = "westeurope"
}
""")
    assert codes(run(tmp_path, schema)) == [
        ("reference", "each.* is used without for_each"),
        ("reference", "count.index is used without count"),
    ]


def test_duplicate_declarations(tmp_path: Path, schema: Schema, write_tf: WriteTf) -> None:
    write_tf("a.tf", RG)
    write_tf("b.tf", RG + 'variable "x" {\n  type        = string\n  description = "x"\n}\n')
    write_tf("c.tf", 'variable "x" {\n  type        = string\n  description = "x"\n}\n')
    assert sorted(codes(run(tmp_path, schema))) == [
        ("duplicate", "azurerm_resource_group.this is declared more than once"),
        ("duplicate", "variable.x is declared more than once"),
    ]


def test_tfvars_set_declared_and_required_variables(
    tmp_path: Path, schema: Schema, write_tf: WriteTf
) -> None:
    write_tf("variables.tf", """
variable "owner" {
  type        = string
  description = "Required."
}

variable "size" {
  type        = number
  description = "Optional."
  default     = 1
}
""")
    write_tf("terraform.tfvars.example", 'size   = 2\ncolour = "red"\n')
    assert codes(run(tmp_path, schema)) == [
        ("tfvars", "'colour' is not a declared variable"),
        ("tfvars", "required variable 'owner' has no value here"),
    ]


def test_fmt_heuristic_flags_misaligned_arguments(tmp_path: Path, write_tf: WriteTf) -> None:
    from chatref.infra_validate import fmt_problems

    path = write_tf("main.tf", """resource "azurerm_resource_group" "this" {
  name = "rg"
  location   = "westeurope"
  tags = {
    a = "b"
  }
   managed_by = "x"\t
}""")
    messages = [(f.address, f.message) for f in fmt_problems(path)]
    assert ("line 2", "`=` of 'name' is not aligned with its neighbours") in messages
    assert ("line 3", "`=` of 'location' is not aligned with its neighbours") in messages
    assert ("line 7", "indentation is not a multiple of two spaces") in messages
    assert ("line 7", "tab character") in messages
    assert ("line 8", "no newline at the end of the file") in messages
    assert not any(address == "line 4" for address, _ in messages)  # multi-line value


def test_fmt_heuristic_aligns_trailing_comments(tmp_path: Path, write_tf: WriteTf) -> None:
    from chatref.infra_validate import fmt_problems

    path = write_tf("main.tf", """locals {
  a     = true     # one space too many
  bb    = "Allow"  # here too
  c     = 1
  ddddd = "x" # alone: one space
  e     = "#" # a hash inside a string is no comment
}
""")
    assert [(f.address, f.message) for f in fmt_problems(path)] == [
        ("line 2", "trailing comment is not aligned with its neighbours"),
        ("line 3", "trailing comment is not aligned with its neighbours"),
    ]


def test_infra_follows_the_fmt_layout() -> None:
    from chatref.infra_validate import fmt_problems
    from tests.infra.conftest import INFRA

    problems = [str(f) for tf in sorted(INFRA.rglob("*.tf")) for f in fmt_problems(tf)]
    assert problems == []


def test_a_module_must_pin_azurerm(tmp_path: Path, schema: Schema, write_tf: WriteTf) -> None:
    write_tf("main.tf", RG)
    assert codes(validate_tree(tmp_path, schema)) == [
        ("provider", "no terraform.required_providers entry for azurerm in this module")
    ]


def test_attributes_written_as_blocks_are_checked(
    tmp_path: Path, schema: Schema, write_tf: WriteTf
) -> None:
    write_tf("main.tf", """
resource "azurerm_network_security_group" "nsg" {
  name                = "nsg"
  location            = "westeurope"
  resource_group_name = "rg"
  security_rule {
    name      = "deny"
    priority  = "first"
    direction = "Inbound"
    acess     = "Deny"
  }
}
""")
    assert codes(run(tmp_path, schema)) == [
        ("type", "argument 'priority': expected a number, got the string \"first\""),
        ("unknown", "unsupported argument 'acess'"),
    ]


def test_variable_defaults_and_validations(
    tmp_path: Path, schema: Schema, write_tf: WriteTf
) -> None:
    write_tf("variables.tf", """
variable "count_of" {
  type        = number
  description = "A number."
  default     = "many"
}

variable "names" {
  type        = list(string)
  description = "Names."
  default     = "a"

  validation {
    condition = length(var.names) > 0
  }
}
""")
    assert codes(run(tmp_path, schema)) == [
        ("type", "default: expected a number, got the string \"many\""),
        ("type", "default: expected a list, got the string \"a\""),
        ("variable", "validation block lacks error_message"),
    ]


def test_outputs_carrying_sensitive_values_must_be_sensitive(
    tmp_path: Path, schema: Schema, write_tf: WriteTf
) -> None:
    write_tf("main.tf", """
variable "password" {
  type        = string
  description = "A secret."
  sensitive   = true
}

resource "azurerm_application_insights" "ai" {
  name                = "ai"
  location            = "westeurope"
  resource_group_name = "rg"
  application_type    = "web"
}

output "connection_string" {
  value = azurerm_application_insights.ai.connection_string
}

output "password" {
  value = "x-${var.password}"
}

output "hidden" {
  value     = azurerm_application_insights.ai.instrumentation_key
  sensitive = true
}

output "app_id" {
  value = azurerm_application_insights.ai.app_id
}
""")
    assert codes(run(tmp_path, schema)) == [
        ("sensitive", "output 'connection_string' carries the sensitive attribute "
                      "azurerm_application_insights.ai.connection_string: add sensitive = true"),
        ("sensitive", "output 'password' carries the sensitive variable var.password: "
                      "add sensitive = true"),
    ]


def test_for_each_and_count_misuse(tmp_path: Path, schema: Schema, write_tf: WriteTf) -> None:
    write_tf("main.tf", """
variable "names" {
  type        = list(string)
  description = "Names."
}

resource "azurerm_resource_group" "a" {
  for_each = var.names
  name     = each.value
  location = "westeurope"
}

resource "azurerm_resource_group" "b" {
  for_each = ["x", "y"]
  name     = each.value
  location = "westeurope"
}

resource "azurerm_resource_group" "c" {
  count    = 1
  for_each = toset(var.names)
  name     = each.value
  location = "westeurope"
}
""")
    assert codes(run(tmp_path, schema)) == [
        ("meta", "for_each needs a map or a set, var.names is a list: wrap it in toset()"),
        ("meta", "for_each needs a map or a set: wrap the list in toset()"),
        ("meta", "count and for_each cannot both be set"),
    ]


def test_counted_things_need_an_instance_key(
    tmp_path: Path, schema: Schema, write_tf: WriteTf
) -> None:
    write_tf("main.tf", """
resource "azurerm_resource_group" "many" {
  count    = 2
  name     = "rg-${count.index}"
  location = "westeurope"
}

output "wrong" {
  value = azurerm_resource_group.many.id
}

output "right" {
  value = [azurerm_resource_group.many[0].id, azurerm_resource_group.many[*].name]
}

output "also_right" {
  value = [for rg in azurerm_resource_group.many : rg.location]
}
""")
    assert codes(run(tmp_path, schema)) == [
        ("reference", "azurerm_resource_group.many has count or for_each: name an instance "
                      "(azurerm_resource_group.many[...]) or use a splat or for expression"),
    ]
