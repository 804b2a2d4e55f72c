"""Azure OpenAI deployments against the repository's model catalogue (issue 11, finding 1)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from chatref.infra_validate import Schema, validate_tree
from chatref.infra_validate.models import ModelCatalogue
from tests.infra.conftest import INFRA, WriteTf

CATALOGUE = INFRA / "modules" / "openai" / "model-catalogue.json"
TODAY = date(2026, 12, 3)
VERSIONS = 'terraform {\n  required_providers {\n    azurerm = { source = "hashicorp/azurerm" }\n  }\n}\n'


def test_every_entry_names_its_sources_and_the_date_read() -> None:
    raw = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    assert raw["models"]
    for entry in raw["models"]:
        for key in ("regions_source", "lifecycle_source"):
            assert entry[key]["url"] and entry[key]["read"], (entry["model"], key)
            date.fromisoformat(entry[key]["read"])


def test_the_chosen_models_are_current_in_both_prod_regions() -> None:
    catalogue = ModelCatalogue.load(CATALOGUE)
    for model, version in (("gpt-5.5", "2026-04-24"), ("text-embedding-3-small", "1")):
        for region in ("swedencentral", "francecentral"):
            problems = list(catalogue.problems(model, version, "GlobalStandard", region, TODAY))
            assert [s for s, _ in problems if s == "error"] == [], (model, region, problems)


def test_retired_unoffered_and_unlisted_combinations_fail() -> None:
    catalogue = ModelCatalogue.load(CATALOGUE)
    retired = list(catalogue.problems("gpt-4o", "2024-11-20", "GlobalStandard",
                                      "swedencentral", TODAY))
    assert retired == [("error", "gpt-4o 2024-11-20 (GlobalStandard) retired on 2026-10-01: "
                                 "deploy its replacement")]
    unoffered = list(catalogue.problems("text-embedding-3-small", "1", "Standard",
                                        "francecentral", TODAY))
    assert ("error", "text-embedding-3-small 1 (Standard) is not offered in francecentral "
                     "(model catalogue)") in unoffered
    unlisted = list(catalogue.problems("gpt-9", "1", "GlobalStandard", "swedencentral", TODAY))
    assert [s for s, _ in unlisted] == ["error"] and "not in the model catalogue" in unlisted[0][1]
    deprecated = list(catalogue.problems("gpt-5.1", "2025-11-13", "GlobalStandard",
                                         "swedencentral", TODAY))
    assert [s for s, _ in deprecated] == ["error"] and "deprecated" in deprecated[0][1]


def test_a_retirement_within_90_days_warns_and_not_earlier() -> None:
    catalogue = ModelCatalogue({"models": [{"model": "m", "version": "1", "sku": "S",
                                            "regions": ["r"], "retirement": "2027-03-01"}]})
    assert list(catalogue.problems("m", "1", "S", "r", date(2026, 11, 30))) == []
    assert [s for s, _ in catalogue.problems("m", "1", "S", "r", date(2026, 12, 1))] == [
        "warning"]
    assert [s for s, _ in catalogue.problems("m", "1", "S", "r", date(2027, 3, 1))] == ["error"]


MODULE = '''variable "accounts" {
  type        = map(object({ location = string }))
  description = "a"
}

variable "chat_model" {
  type        = object({ name = string, version = string, sku_name = optional(string, "GlobalStandard") })
  description = "c"
  default     = { name = "gpt-5.5", version = "2026-04-24" }
}
'''
ENV = '''variable "location" {{
  type        = string
  description = "l"
  default     = "{region}"
}}

locals {{
  accounts = {{ primary = {{ location = var.location }} }}
}}

module "openai" {{
  source   = "../openai"
  accounts = local.accounts
{chat}}}
'''


def _tree(write_tf: WriteTf, region: str, chat: str = "") -> None:
    write_tf("openai/main.tf", MODULE)
    (Path(write_tf("openai/versions.tf", VERSIONS)).parent / "model-catalogue.json").write_text(
        CATALOGUE.read_text(encoding="utf-8"), encoding="utf-8")
    write_tf("env/main.tf", ENV.format(region=region, chat=chat) + VERSIONS)


def test_the_validator_follows_locals_and_defaults_to_the_region(
    tmp_path: Path, schema: Schema, write_tf: WriteTf
) -> None:
    _tree(write_tf, "francecentral")
    assert [f for f in validate_tree(tmp_path / "env", schema) if not f.is_warning] == []


def test_the_validator_fails_a_retired_model_passed_by_the_environment(
    tmp_path: Path, schema: Schema, write_tf: WriteTf
) -> None:
    _tree(write_tf, "swedencentral",
          '  chat_model = { name = "gpt-4o", version = "2024-11-20", sku_name = "Standard" }\n')
    findings = [f for f in validate_tree(tmp_path / "env", schema) if f.code == "model"]
    assert [f.address for f in findings] == ["module.openai.chat_model"] * len(findings)
    assert any("retired on 2026-10-01" in f.message for f in findings)
    assert any("not offered in swedencentral" in f.message for f in findings)


def test_the_validator_fails_a_region_that_does_not_offer_the_model(
    tmp_path: Path, schema: Schema, write_tf: WriteTf
) -> None:
    _tree(write_tf, "mars-central")
    assert [f.message for f in validate_tree(tmp_path / "env", schema) if f.code == "model"] == [
        "gpt-5.5 2026-04-24 (GlobalStandard) is not offered in mars-central (model catalogue)"]
