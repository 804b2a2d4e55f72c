"""azapi_resource and time_sleep against the hand-written schema subsets (issue 11 finding 5's
resources): a wrong argument, a malformed resource type or duration fails; chatref's own pass,
and the subsets say where in each provider's source they were read."""

from __future__ import annotations

from pathlib import Path

from chatref.infra_validate import load_module_dir, unchecked_types
from chatref.infra_validate.other_providers import (
    DEFAULT_SUBSETS,
    OtherProviders,
    check_other_providers,
    shipped_subsets,
)
from tests.infra.conftest import INFRA

FIXTURES = Path(__file__).parent / "fixtures" / "other_providers"


def _found(directory: Path) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    check_other_providers(load_module_dir(directory), shipped_subsets(),
                          lambda file, address, code, message: found.append(
                              (address, code, message)))
    return found


def test_resources_written_as_chatref_writes_them_pass() -> None:
    assert _found(FIXTURES / "ok") == []


def test_each_mistake_fails() -> None:
    found = {(address, code, message.split(" (")[0]) for address, code, message in _found(
        FIXTURES / "bad")}
    assert found == {
        ("azapi_resource.table", "unknown", "unsupported argument 'parent'"),
        ("azapi_resource.table", "computed",
         "argument 'output' is computed by the provider, it cannot be set"),
        ("azapi_resource.table", "syntax",
         "'timeouts' is a block: write `timeouts { ... }`, not `timeouts =`"),
        ("azapi_resource.table", "value",
         "type = 'Microsoft.Storage/storageAccounts/tableServices/tables' must be "
         "<resource-type>@<api-version>, e.g. "
         "Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01"),
        ("azapi_resource.table", "value",
         "identity.type = 'Managed' is not one of SystemAssigned, UserAssigned | UserAssigned | "
         "SystemAssigned | None"),
        ("time_sleep.wrong_argument", "unknown", "unsupported argument 'duration'"),
        ("time_sleep.wrong_argument", "required",
         "set at least one of create_duration, destroy_duration"),
        ("time_sleep.wrong_unit", "value",
         "create_duration = '1 minute' must be a number immediately followed by ms, s, m or h, "
         "e.g. \"30s\""),
    }


def test_the_repository_passes_and_nothing_it_uses_is_left_unchecked() -> None:
    for directory in sorted({p.parent for p in INFRA.rglob("*.tf")}):
        assert _found(directory) == [], directory
    assert unchecked_types(INFRA) == {}


def test_every_subset_names_its_source() -> None:
    raw = OtherProviders.load(DEFAULT_SUBSETS)
    assert set(raw.resources) == {"azapi_resource", "time_sleep"}
    for spec in raw.resources.values():
        repository, _, rest = spec.provenance.partition("@")
        assert repository in ("Azure/terraform-provider-azapi",
                              "hashicorp/terraform-provider-time")
        assert rest.startswith("v") and "(" in rest
