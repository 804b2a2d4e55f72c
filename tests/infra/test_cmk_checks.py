"""The validator's ``openai-cmk`` check (issue 11 finding 2) fails its bad fixture on each of
Azure OpenAI's three customer-managed-key rules, passes the good one, and the repository's
environments pass it with every key followed (none left as a warning)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatref.infra_validate import load_module_dir
from chatref.infra_validate.cmk_checks import check_openai_cmk, key_attachments
from tests.infra.conftest import INFRA

FIXTURES = Path(__file__).parent / "fixtures" / "cmk"
ADDRESS = 'module.openai.azurerm_cognitive_account_customer_managed_key.this["{}"]'


def _found(directory: Path) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    check_openai_cmk(load_module_dir(directory.resolve()), {},
                     lambda file, address, code, message: found.append((address, code, message)))
    return found


def test_keys_that_follow_azures_rules_pass() -> None:
    assert _found(FIXTURES / "ok") == []


def test_each_rule_fails_on_its_mistake() -> None:
    found = _found(FIXTURES / "bad")
    by_account: dict[str, list[str]] = {}
    for address, code, message in found:
        by_account.setdefault(address, []).append(f"{code}: {message}")
    secondary = "\n".join(by_account.pop(ADDRESS.format("secondary")))
    assert "vault is in var.location, the account in var.secondary_location" in secondary
    assert "RSA-HSM 3072" in secondary
    assert "no system-assigned identity" in secondary
    assert "identity_client_id is set" in secondary
    assert "purge_protection_enabled not set (false)" in secondary
    primary = "\n".join(by_account.pop(ADDRESS.format("primary")))
    assert "RSA-HSM 3072" in primary and "vault is in" not in primary  # its own region
    external = by_account.pop(ADDRESS.format("external"))
    assert [m for m in external if m.startswith("openai-cmk-warning")] == [
        "openai-cmk-warning: key_vault_key_id comes from outside this configuration "
        "(var.external_key_id): its vault's region, type and size are not checked"]
    assert by_account == {}


def test_a_literal_region_mismatch_fails(tmp_path: Path) -> None:
    """Regions written as literals are compared as regions (case and spaces aside)."""
    for name in ("main.tf", "modules/kv/main.tf", "modules/oai/main.tf"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text((FIXTURES / "ok" / name).read_text())
    main = (tmp_path / "main.tf").read_text()
    main = main.replace("primary   = { location = var.location }",
                        'primary   = { location = "Sweden Central" }')
    main = main.replace("  location = var.location\n", '  location = "francecentral"\n', 1)
    (tmp_path / "main.tf").write_text(main)
    found = _found(tmp_path)
    assert [(a, c) for a, c, _ in found] == [(ADDRESS.format("primary"), "openai-cmk")]
    assert "in francecentral, the account in swedencentral" in found[0][2]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_environments_pass_with_every_key_followed(env: str) -> None:
    directory = (INFRA / "environments" / env).resolve()
    assert _found(directory) == []
    attached = [address for address, _ in key_attachments(load_module_dir(directory), {})]
    # prod attaches a key to both accounts; dev has customer-managed keys off
    assert attached == ([ADDRESS.format("primary"), ADDRESS.format("secondary")]
                        if env == "prod" else [])
