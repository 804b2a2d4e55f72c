"""Levels per profile, overrides, inline skips and the exit status, on hand-made records."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from chatref.errors import InputError
from chatref.policy.catalog import Level
from chatref.policy.engine import CheckRecord
from chatref.policy.overrides import Override, load_overrides
from chatref.policy.report import Status, evaluate

TODAY = dt.date(2026, 11, 26)


def record(check_id: str, result: str = "failed", resource: str = "azurerm_x.y",
           comment: str | None = None) -> CheckRecord:
    return CheckRecord(
        check_id=check_id, name=check_id, result=result, resource=resource,
        file=Path("/tmp/main.tf"), start_line=3, end_line=9, details=("why",),
        suppress_comment=comment,
    )


def override(rule: str, resource: str = "*", expires: dt.date | None = None) -> Override:
    return Override(rule=rule, reason="accepted for the pilot", approved_by="platform",
                    resource=resource, expires=expires, source="o.toml override #1")


def test_hard_failure_blocks_and_advisory_warns() -> None:
    report = evaluate([record("CKV_CHATREF_004"), record("CKV_AZURE_1")],
                      profile="production", today=TODAY)
    statuses = {f.rule_id: f.status for f in report.findings}
    assert statuses == {"CKV_CHATREF_004": Status.FAILED, "CKV_AZURE_1": Status.WARNING}
    assert report.exit_code == 1


def test_only_warnings_exit_zero() -> None:
    report = evaluate([record("CKV_AZURE_1"), record("CKV_CHATREF_004", "passed")],
                      profile="production", today=TODAY)
    assert report.exit_code == 0


def test_soft_failure_is_overridden_with_its_reason() -> None:
    # Tagging is soft in basic.
    report = evaluate([record("CKV_CHATREF_002")], profile="basic",
                      overrides=[override("CKV_CHATREF_002")], today=TODAY)
    (finding,) = report.findings
    assert finding.level is Level.SOFT
    assert finding.status is Status.OVERRIDDEN
    assert finding.override_reason == "accepted for the pilot (approved by platform)"
    assert report.exit_code == 0


def test_override_of_a_hard_rule_is_ignored_and_noted() -> None:
    report = evaluate([record("CKV_CHATREF_002")], profile="production",
                      overrides=[override("CKV_CHATREF_002")], today=TODAY)
    assert report.findings[0].status is Status.FAILED
    assert any("hard in production" in note for note in report.notes)
    assert report.exit_code == 1


def test_override_matches_resource_glob_only() -> None:
    report = evaluate(
        [record("CKV_CHATREF_002", resource="module.a.azurerm_x.y"),
         record("CKV_CHATREF_002", resource="module.b.azurerm_x.y")],
        profile="basic", overrides=[override("CKV_CHATREF_002", "module.a.*")], today=TODAY,
    )
    by_resource = {f.resource: f.status for f in report.findings}
    assert by_resource == {"module.a.azurerm_x.y": Status.OVERRIDDEN,
                           "module.b.azurerm_x.y": Status.FAILED}


def test_expired_override_no_longer_applies() -> None:
    report = evaluate([record("CKV_CHATREF_002")], profile="basic",
                      overrides=[override("CKV_CHATREF_002", expires=dt.date(2026, 1, 1))],
                      today=TODAY)
    assert report.findings[0].status is Status.FAILED
    assert any("expired" in note for note in report.notes)


def test_unused_override_is_noted() -> None:
    report = evaluate([], profile="basic", overrides=[override("CKV_CHATREF_029")], today=TODAY)
    assert any("matched no soft failure" in note for note in report.notes)


def test_inline_skip_overrides_soft_but_not_hard() -> None:
    skipped = record("CKV_CHATREF_002", "skipped", comment="tags come from policy")
    basic = evaluate([skipped], profile="basic", today=TODAY)
    production = evaluate([skipped], profile="production", today=TODAY)
    assert basic.findings[0].status is Status.OVERRIDDEN
    assert "tags come from policy" in (basic.findings[0].override_reason or "")
    assert production.findings[0].status is Status.FAILED
    assert production.exit_code == 1


def test_rules_outside_the_profile_are_left_out() -> None:
    # Geo-replication (018) is production-only.
    report = evaluate([record("CKV_CHATREF_018")], profile="basic", today=TODAY)
    assert report.findings == []


def test_unknown_profile_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown profile 'staging'"):
        evaluate([], profile="staging")


def test_override_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "policy-overrides.toml"
    path.write_text(
        '[[override]]\nrule = "CKV_CHATREF_028"\nresource = "module.app.*"\n'
        'reason = "internal pilot behind the VPN"\napproved_by = "ciso"\nexpires = 2027-03-31\n'
    )
    (loaded,) = load_overrides(path)
    assert loaded.rule == "CKV_CHATREF_028"
    assert loaded.expires == dt.date(2027, 3, 31)
    assert loaded.matches("CKV_CHATREF_028", "module.app.azurerm_linux_web_app.this")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[[override]]\nrule = "X"\napproved_by = "a"\n', "`reason` is required"),
        ('[[override]]\nrule = "X"\nreason = "short"\napproved_by = "a"\n', "must say why"),
        ('[[override]]\nrule = "X"\nreason = "long enough reason"\n', "`approved_by`"),
        ('[[override]]\nrule = "X"\nreason = "long enough reason"\napproved_by = "a"\n'
         'expires = "soon"\n', "TOML date"),
        ('[[override]]\nrule = "X"\nreason = "long enough reason"\napproved_by = "a"\n'
         'owner = "b"\n', "unknown key"),
        ("[other]\n", "only [[override]]"),
        ("rule = ", "not valid TOML"),
    ],
)
def test_bad_override_file_names_file_and_problem(tmp_path: Path, text: str,
                                                  problem: str) -> None:
    path = tmp_path / "policy-overrides.toml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_overrides(path)
    assert str(path) in caught.value.message
    assert problem in caught.value.message
