"""Offline `terraform validate` for chatref's Terraform, against the azurerm provider schema.

There is no terraform binary and no provider download on the machines that build chatref, so
this package does statically what `terraform validate` would do with the azurerm 4.x provider:

- every ``azurerm_*`` resource and data source type exists in the provider schema (a type that
  exists in azurerm but is outside the repository's subset says how to regenerate the subset);
- every argument and nested block exists, and is written as an argument or as a block as the
  schema says; computed-only attributes are not set; blocks respect their max_items;
- required arguments and required blocks are present (a ``dynamic`` block counts);
- nothing deprecated is used;
- the provider rules the schema cannot show, stored as data with the provider source file they
  come from (``provider_rules.json``): allowed values of enumerated arguments,
  ConflictsWith / ExactlyOneOf / AtLeastOneOf between arguments; ForceNew arguments are listed
  for review and documentation;
- every module call passes only variables the module declares, and every required one;
- literal values convert to the argument's type (``"yes"`` is no bool, a list is no string);
- every variable has a type and a description, every output a value; names are unique;
- ``each``/``count.index`` appear only with ``for_each``/``count``; ``for_each`` is not given a
  list; attributes of counted things are read through an instance key, a splat or a ``for``;
- outputs that carry sensitive values (schema-sensitive attributes, sensitive variables or module
  outputs) say ``sensitive = true``; every module pins azurerm in ``required_providers``;
- tfvars files (``*.tfvars``, ``*.tfvars.example``) set only declared variables, and all
  required ones;
- an autoscaled App Service plan ignores ``worker_count`` after creation, and a route's next
  hop is a reference to the appliance, never a literal address (``edge_checks``);
- every Azure OpenAI customer-managed key, followed across modules to its account, key and
  vault: system-assigned identity, RSA 2048, the vault in the account's region with purge protection
  (``cmk_checks``);
- every assignment of a built-in Azure Policy definition passes only the parameters the
  definition declares, and an effect it allows (``policy_checks``, against
  ``infra/modules/governance/builtin-policies.json``);
- every reference (``var.x``, ``local.x``, ``module.m.out``, ``azurerm_t.n.attr``,
  ``data.azurerm_t.n.attr``, ``azurerm_t.n.block[0].attr``) points at something that exists.

With ``--fmt`` it also checks the layout rules of ``terraform fmt`` that review cares about
(a heuristic; CI runs the real ``terraform fmt -check``).

Other providers' resources are checked against hand-written subsets of their schemas, read from
each provider's source (``infra/schema/other-providers.json``: ``azapi_resource`` and
``time_sleep``, with their resource-type and duration formats; ``other_providers``).

Not covered: values of expressions (they need Terraform's evaluator), the provider block (the
schema file has no provider schema), the arguments of other resource types of other providers
(the command lists them as not checked).

Usage::

    python scripts/tfvalidate.py infra                # every directory holding .tf files
    python scripts/tfvalidate.py infra --fmt
    python scripts/tfvalidate.py infra/environments/prod --json

>>> from chatref.infra_validate import Finding
>>> str(Finding("main.tf", "azurerm_x.y", "type", "no such type"))
'main.tf: azurerm_x.y: [type] no such type'
"""

from __future__ import annotations

from chatref.infra_validate.cli import main, module_dirs, unchecked_types, validate_tree
from chatref.infra_validate.fmt import fmt_problems
from chatref.infra_validate.hcl import Reference, load_module_dir, references
from chatref.infra_validate.model import DEFAULT_SCHEMA, REGENERATE, Finding, ModuleDir, Schema
from chatref.infra_validate.module_checks import validate_module_dir, validate_tfvars
from chatref.infra_validate.schema_checks import type_problem

__all__ = [
    "DEFAULT_SCHEMA", "REGENERATE", "Finding", "ModuleDir", "Reference", "Schema",
    "fmt_problems", "load_module_dir", "main", "module_dirs", "references", "type_problem",
    "unchecked_types", "validate_module_dir", "validate_tfvars", "validate_tree",
]
