"""Rule coverage: every table row and machine transition, with hit counts."""

from __future__ import annotations

from checker.coverage import machine_rows, report
from checker.explorer import Bounds, explore
from model.rulebook import table_rules
from model.variant import load_variant
from smi_spec.checking import check
from tests.conftest import cli_json


def test_every_row_and_transition_is_listed_with_its_hits() -> None:
    variant = load_variant("baseline")
    e = explore(variant, coverage=True)
    assert e.coverage is not None
    covered = report(e.coverage, variant)
    ids = {r["id"] for r in covered["rules"]}
    assert {r["rule"] for r in table_rules(variant)} <= ids
    assert {r["rule"] for r in machine_rows()} <= ids
    hits = {r["id"]: r["hits"] for r in covered["rules"]}
    for exercised in (
        "suspended.exceptions[0]",
        "suspended",
        "e5.commissioned",
        "cpl.removal_suspends",
        "cpl.relisting_restores",
        "joins.unjoin_requires_smi_join",
        "firmware.update_smi_on[0]",
        "firmware.routes.ESME",
        "device status: suspend_on_cpl_removal operational -> suspended",
        "join: response_lost join_in_flight -> device_only",
    ):
        assert hits[exercised] > 0, exercised
    # baseline never reads SR11.2 into the SMI, and an ESME system has no PPMID
    assert hits["firmware.routes.PPMID"] == 0
    assert "firmware.routes.PPMID" in covered["never_exercised"]
    assert set(covered["never_exercised"]) == {i for i, h in hits.items() if h == 0}
    assert covered["by_provenance"]["seed:MP105"]["exercised"] > 0


def test_coverage_differs_where_the_rules_do() -> None:
    """mp105's SR11.2 update rule is exercised; baseline has none."""
    mp105 = load_variant("mp105")
    e = explore(mp105, coverage=True)
    assert e.coverage is not None
    hits = {r["id"]: r["hits"] for r in report(e.coverage, mp105)["rules"]}
    assert hits["firmware.update_smi_on[2]"] > 0  # 11.2:with-version
    assert hits["suspended.exceptions[3]"] > 0  # SR11.2 on the exception list


def test_check_coverage_json_and_armed() -> None:
    doc = cli_json("check", "--variant", "mp178", "--coverage", "--property", "unjoin-validated")
    variant = doc["variants"][0]
    assert variant["coverage"]["rules"] and "never_exercised" in variant["coverage"]
    assert variant["properties"][0]["armed"] > 0


def test_a_vacuous_pass_shows_as_such() -> None:
    """No PPMID ever leaves Suspended at the default bounds: prior-status-restored holds for
    PPMID without being armed."""
    [c] = check("baseline", ["prior-status-restored"], Bounds())
    armed = {e.system.target: e.armed["prior-status-restored"] for e in c.explorations}
    assert armed["PPMID"] == 0 and armed["ESME"] > 0


def test_every_pipeline_check_and_every_sent_message_is_exercised() -> None:
    """The rulebook's own rows count: each check of the pipeline judges some request, and
    each declared message the closed systems send is exercised; one never sent is not."""
    variant = load_variant("mp105")
    e = explore(variant, coverage=True)
    assert e.coverage is not None
    hits = {r["id"]: r["hits"] for r in report(e.coverage, variant)["rules"]}
    for n, _ in enumerate(variant.pipeline):
        assert hits[f"pipeline.checks[{n}]"] > 0, n
    for srv in ("8.7.2", "8.8.2", "8.9", "11.1", "11.2", "11.3"):
        assert hits[f"messages[{srv}]"] > 0, srv
    assert hits["messages[8.7.1]"] == 0  # the closed systems join by SR8.7.2 only
