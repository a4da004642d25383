"""The legal text as data: applicability, check E5's table, firmware routes, alerts,
conditional SMI updates, CPL rules, and life-cycle requests while Suspended."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from checker.explorer import default_systems, explore_all
from model.access import authorise, check_applicable, check_e5
from model.catalogue import applicability, catalogue
from model.device_types import cpl_listed_types, type_2_types
from model.dsp import step
from model.errors import VariantError
from model.machines import LIVE
from model.scenario import load_scenario, run
from model.status_chart import STATUSES
from model.variant import load_variant
from model.world import CplChange, DeviceSpec, DeviceState, Request, Setup, World
from tests.conftest import ROOT, SCENARIOS, cli, cli_json

VARIANTS = ROOT / "docs" / "variants"
BASELINE_FILE = ROOT / "model" / "variants" / "baseline.toml"


def _variant(tmp_path: Path, text: str) -> Path:
    """A variant file holding ``text``."""
    path = tmp_path / "v.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _raw_baseline() -> dict:
    return tomllib.loads(BASELINE_FILE.read_text(encoding="utf-8"))


# --- applicability ----------------------------------------------------------------------


def test_done_when_explain_11_2_for_a_ppmid_names_the_applicability_rule() -> None:
    ppmid = cli_json(
        "explain",
        "11.2",
        "--variant",
        "mp105",
        "--status",
        "suspended",
        "--device-type",
        "PPMID",
    )
    assert ppmid["accepted"] is False
    assert ppmid["rule_id"] == "applicability[11.2]"
    assert ppmid["source"] == "seed:MP105"
    assert ppmid["response_code"] != "E51"
    esme = cli_json(
        "explain", "11.2", "--variant", "mp105", "--status", "suspended", "--device-type", "ESME"
    )
    assert esme["accepted"] is True


@given(
    st.sampled_from(sorted(catalogue())),
    st.sampled_from(sorted(applicability()["2.2"].device_types | {"PPMID", "CAD"})),
)
def test_applicability_follows_the_data_file_unless_the_variant_says_otherwise(
    srv: str, device_type: str
) -> None:
    baseline = load_variant("baseline")
    decision = check_applicable(baseline, srv, device_type)
    own = _raw_baseline()["applicability"].get(srv)
    types = own["device_types"] if isinstance(own, dict) else applicability()[srv].device_types
    assert decision.accepted == (device_type in types)
    assert decision.rule.id == f"applicability[{srv}]"


def test_sr11_2_rows_in_baseline_and_mp105_are_the_seed() -> None:
    for v in ("baseline", "mp105"):
        row = load_variant(v).applicability["11.2"]
        assert row.device_types == {"ESME", "GSME"}
        assert row.source == "seed:MP105"
    # The later DUIS release says otherwise, and is tagged as DUIS.
    assert {"PPMID", "HCALCS"} <= applicability()["11.2"].device_types
    assert applicability()["11.2"].source == "duis"


def test_applicability_is_checked_before_e5() -> None:
    decision = authorise(load_variant("mp105"), "11.2", "commissioned", "PPMID")
    assert not decision.accepted and decision.rule.id == "applicability[11.2]"


# --- check E5 as a table ----------------------------------------------------------------

UNGATED = {row["srv"] for row in _raw_baseline()["suspended"]["non_device"] if not row["gated"]}


@example("8.7.2", "commissioned")  # a row's own exception, with its own source
@given(st.sampled_from(sorted(catalogue())), st.sampled_from(STATUSES))
def test_every_e5_row_decides_as_its_toml_says(srv: str, status: str) -> None:
    raw = _raw_baseline()
    decision = check_e5(load_variant("baseline"), srv, status, 1, 2)
    entry = catalogue()[srv]
    if status == "suspended":
        exempt = srv in {e["srv"] for e in raw["suspended"]["exceptions"] if "smets" not in e}
        expected = entry.critical or exempt or (entry.non_device and srv in UNGATED)
        row_source = {"suspended"}
    else:
        row = raw["e5"][status]
        # A row's own exception names its own source (baseline: MP178's SR8.7.2 to a
        # Commissioned ESME "will pass through the DSP").
        exception = next((e for e in row.get("exceptions", []) if e["srv"] == srv), None)
        admits = row["admits"]
        expected = exception is not None or admits == "all"
        expected = expected or (admits == "critical" and entry.critical)
        row_source = {exception["source"]} if exception else {"assumption"}
    assert decision.accepted == expected
    assert set(decision.rule.source.split(",")) & (row_source | {"seed:MP105", "assumption"})
    table = "suspended" if status == "suspended" else f"e5.{status}"
    assert decision.rule.id.startswith(table)


def test_every_non_device_request_has_an_explicit_suspended_decision() -> None:
    named = {row.srv for row in load_variant("baseline").e5["suspended"].non_device}
    assert named == {srv for srv, r in catalogue().items() if r.non_device}
    sr11_1 = next(r for r in load_variant("baseline").e5["suspended"].non_device if r.srv == "11.1")
    assert sr11_1.gated and sr11_1.source == "seed:MP105"


def test_a_variant_can_replace_a_non_suspended_row(tmp_path: Path) -> None:
    path = _variant(
        tmp_path,
        'id = "strict-pending"\nextends = "baseline"\n[e5.pending]\nadmits = "critical"\n'
        'reject_code = "E51"\nsource = "assumption"\nwhy = "a test"\n',
    )
    strict = load_variant(str(path))
    assert not check_e5(strict, "11.2", "pending").accepted
    assert check_e5(strict, "11.3", "pending").accepted
    assert check_e5(strict, "11.2", "commissioned").accepted  # other rows inherited


# --- every device type in the closed system ---------------------------------------------


def test_default_systems_cover_every_cpl_listed_and_type_2_type() -> None:
    systems = default_systems()
    covered = {s.target for s in systems} | {s.other for s in systems if s.other}
    assert set(cpl_listed_types()) | set(type_2_types()) <= covered


def test_done_when_check_all_reports_ppmid_and_hcalcs_apart_under_mp105() -> None:
    result = cli("check", "--variant", "all", "--format", "json")
    assert result.returncode == 0, result.stderr
    import json

    variants = {v["variant"]: v for v in json.loads(result.stdout)["variants"]}
    for name, verdicts in {
        "baseline": {
            "firmware-recoverable": "violated",
            "join-recoverable": "violated",
            "suspension-recoverable": "violated",
        },
        "mp105": {"join-recoverable": "violated"},
        "mp178": {"unjoin-validated": "violated"},
    }.items():
        props = {p["id"]: p for p in variants[name]["properties"]}
        for meter in ("ESME", "GSME"):
            for prop, p in props.items():
                if meter in p["by_subject"]:
                    want = verdicts.get(prop, "holds")
                    assert p["by_subject"][meter]["verdict"] == want, (name, prop, meter)
    # From the November 2021 release (mp105), with SECMP0007's routes: an HCALCS has MP105's
    # way back (the SR11.3 re-attempt); a PPMID whose CS09 alert is lost has none (no SR11.2).
    for name in ("mp105", "mp178"):
        firmware = {p["id"]: p for p in variants[name]["properties"]}["firmware-recoverable"]
        for kind, verdict in (("PPMID", "violated"), ("HCALCS", "holds")):
            assert firmware["by_subject"][kind]["verdict"] == verdict, (name, kind)
            assert firmware["by_subject"][kind]["expected"] == verdict, (name, kind)


def test_a_ppmid_gets_no_firmware_request_without_a_route() -> None:
    """Before SECMP0007 (baseline) a PPMID has no firmware route, so the explorer sends it
    no firmware request; from the November 2021 release (mp105) it gets SR11.4 only."""
    from checker.alphabet import alphabet

    setup = Setup((DeviceSpec("ppmid1", "PPMID"),))

    def firmware_srvs(variant: str) -> set[str]:
        actions = alphabet(setup, ("F1", "F2"), load_variant(variant))
        return {a.srv for a in actions if isinstance(a, Request)} & {"11.1", "11.2", "11.3", "11.4"}

    assert firmware_srvs("baseline") == set()
    assert firmware_srvs("mp105") == {"11.4"}


# --- the spec author's four variants ----------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "sr11.2-for-ppmid-hcalcs",
        "ppmid-firmware-by-alert",
        "sr11.2-update-only-while-suspended",
        "cpl-relisting-restores",
    ],
)
def test_done_when_each_spec_author_variant_loads_and_is_as_expected(name: str) -> None:
    variant = load_variant(str(VARIANTS / f"{name}.toml"))
    assert variant.warnings == ()
    checks = explore_all(variant)
    assert all(e.as_expected for e in checks), [
        (e.system.describe(), p.id, p.verdict, p.expected)
        for e in checks
        for p in e.properties
        if p.verdict != p.expected
    ]


def _firmware_verdicts(variant_ref: str) -> dict[str, str]:
    found = {}
    for e in explore_all(load_variant(variant_ref), properties=["firmware-recoverable"]):
        for p in e.properties:
            found[p.subject or ""] = p.verdict
    return found


def test_sr11_2_for_ppmid_recovers_what_mp105_cannot() -> None:
    mp105 = _firmware_verdicts("mp105")
    wider = _firmware_verdicts(str(VARIANTS / "sr11.2-for-ppmid-hcalcs.toml"))
    assert mp105["PPMID"] == "violated" and wider["PPMID"] == "holds"


def test_relisting_removes_the_two_step_story_but_not_the_lost_response() -> None:
    variant = load_variant(str(VARIANTS / "cpl-relisting-restores.toml"))
    (esme,) = [
        e
        for e in explore_all(variant, properties=["firmware-recoverable"])
        if e.system.target == "ESME"
    ]
    from checker.narrate import story

    told = story(esme, "firmware-recoverable")
    assert told is not None
    assert not any("adds" in s["text"] for s in told["steps"])


def test_a_lost_activation_alert_leaves_the_smi_behind() -> None:
    variant = load_variant(str(VARIANTS / "ppmid-firmware-by-alert.toml"))
    setup = Setup((DeviceSpec("ppmid1", "PPMID"),))
    world = World(frozenset({"F1", "F2"}), (DeviceState("commissioned", None, "F1", "F1"),))
    lost, outcome = step(
        setup, world, Request("11.4", 0, image="F2", lose_alert=True), variant, LIVE
    )
    assert (lost.devices[0].firmware, lost.devices[0].smi_firmware) == ("F2", "F1")
    assert any("lost" in a for a in outcome.alerts)
    told, outcome = step(setup, world, Request("11.4", 0, image="F2"), variant, LIVE)
    assert told.devices[0].smi_firmware == "F2"
    assert any(a.startswith("CS09") for a in outcome.alerts)


def test_an_update_rule_only_while_suspended_ignores_a_commissioned_meter() -> None:
    variant = load_variant(str(VARIANTS / "sr11.2-update-only-while-suspended.toml"))
    setup = Setup((DeviceSpec("esme1", "ESME"),))
    stale = World(frozenset({"F1", "F2"}), (DeviceState("commissioned", None, "F1", "F2"),))
    after, _ = step(setup, stale, Request("11.2", 0), variant, LIVE)
    assert after.devices[0].smi_firmware == "F1"
    suspended = World(frozenset({"F2"}), (DeviceState("suspended", "commissioned", "F1", "F2"),))
    after, outcome = step(setup, suspended, Request("11.2", 0), variant, LIVE)
    assert after.devices[0].smi_firmware == "F2"
    assert after.devices[0].status == "commissioned"
    assert any(a.startswith("DeviceRestored") for a in outcome.alerts)


def test_spec_author_guide_shows_each_example_variant() -> None:
    guide = (ROOT / "docs" / "spec-author.md").read_text(encoding="utf-8")
    for path in VARIANTS.glob("*.toml"):
        assert f"docs/variants/{path.name}" in guide


# --- CPL rules ---------------------------------------------------------------------------


def test_removal_suspends_only_the_statuses_the_variant_lists(tmp_path: Path) -> None:
    path = _variant(
        tmp_path,
        'id = "narrow"\nextends = "baseline"\n[cpl]\nremoval_suspends = ["commissioned"]\n',
    )
    setup = Setup((DeviceSpec("esme1", "ESME"),))
    for status, suspended in (("commissioned", True), ("pending", False)):
        world = World(frozenset({"F1"}), (DeviceState(status, None, "F1", "F1"),))
        after, outcome = step(
            setup, world, CplChange("F1", listed=False), load_variant(str(path)), LIVE
        )
        assert (after.devices[0].status == "suspended") == suspended
        assert bool(outcome.alerts) == suspended


# --- life cycle while Suspended ---------------------------------------------------------


def test_done_when_commission_while_suspended_goes_to_history_and_decommission_works() -> None:
    report = run(load_scenario(str(SCENARIOS / "suspended-commission-and-decommission.json")))
    removal, commission, decommission = report["steps"]
    assert removal["devices"]["esme1"]["prior_status"] == "installed_not_commissioned"
    assert commission["devices"]["esme1"]["prior_status"] == "commissioned"
    assert any("return to" in e for e in commission["effects"])
    assert decommission["devices"]["esme1"]["status"] == "decommissioned"
    assert decommission["rule"]["id"].startswith("suspended.non_device[")
    assert decommission["rule"]["source"] == "assumption"


def test_critical_life_cycle_refuse_is_a_tagged_rejection(tmp_path: Path) -> None:
    path = _variant(
        tmp_path,
        'id = "refuse"\nextends = "baseline"\n[suspended]\ncritical_life_cycle = "refuse"\n',
    )
    setup = Setup((DeviceSpec("esme1", "ESME"),))
    world = World(
        frozenset(), (DeviceState("suspended", "installed_not_commissioned", "F1", "F1"),)
    )
    after, outcome = step(setup, world, Request("8.1.1", 0), load_variant(str(path)), LIVE)
    assert after == world
    assert outcome.accepted is False and outcome.rule is not None
    assert outcome.rule.id == "suspended.critical_life_cycle"


# --- guard rails -------------------------------------------------------------------------


def test_a_rule_that_can_never_fire_is_a_warning_with_its_line(tmp_path: Path) -> None:
    path = _variant(
        tmp_path,
        'id = "never"\nextends = "baseline"\n\n[firmware]\n'
        'update_smi_on = ["11.3:success", "8.1.1:with-version"]\n',
    )
    warnings = load_variant(str(path)).warnings
    assert len(warnings) == 1 and f"{path}:5:" in warnings[0] and "8.1.1" in warnings[0]


def test_an_exception_no_suspendable_type_can_receive_is_a_warning(tmp_path: Path) -> None:
    path = _variant(
        tmp_path,
        'id = "odd"\nextends = "baseline"\n[suspended]\nexceptions = [\n'
        '  { srv = "11.1" },\n  { srv = "8.12.1" },\n]\n',
    )
    (warning,) = load_variant(str(path)).warnings
    assert "8.12.1" in warning and f"{path}:6:" in warning


def test_an_id_that_shadows_a_builtin_is_an_error(tmp_path: Path) -> None:
    path = _variant(tmp_path, 'id = "baseline"\nextends = "mp105"\n')
    with pytest.raises(VariantError, match="built-in"):
        load_variant(str(path))


def test_an_unknown_table_is_reported_at_its_own_line(tmp_path: Path) -> None:
    path = _variant(tmp_path, 'id = "x"\nextends = "baseline"\n\n[firmwear]\nkey = 1\n')
    with pytest.raises(VariantError, match=rf"{path}:4: firmwear: unknown table"):
        load_variant(str(path))


def test_rules_lists_every_table_row_with_its_source() -> None:
    rows = cli_json("rules", "--variant", "mp105")
    ids = {r["rule"] for r in rows}
    assert "applicability[11.2]" in ids
    assert "suspended.non_device[2]" in ids
    assert "firmware.routes.PPMID" in ids
    assert "e5.pending" in ids
    assert all(r["provenance"] for r in rows)


# --- each row means what its source says ------------------------------------------------

#: (variant, SRV, status, device type) -> accepted, from the seeds and docs/domain.md, written
#: apart from the variant files so that a wrong row there fails here.
FACTS = {
    ("baseline", "11.2", "suspended", "ESME"): False,  # seed:MP105: E51
    ("mp105", "11.2", "suspended", "ESME"): True,  # seed:MP105: on the list
    ("mp105", "11.2", "suspended", "GSME"): True,
    ("mp105", "11.2", "suspended", "PPMID"): False,  # seed:MP105: ESME and GSME only
    ("mp105", "11.2", "commissioned", "HCALCS"): False,
    ("baseline", "11.1", "suspended", "ESME"): True,  # seed:MP105: exception, gated NDR
    ("baseline", "6.23", "suspended", "ESME"): True,
    ("baseline", "11.3", "suspended", "ESME"): True,  # Critical
    ("baseline", "11.3", "suspended", "PPMID"): False,  # no SR11.3 for a PPMID
    ("baseline", "8.3", "suspended", "ESME"): True,  # assumption: not gated
    ("baseline", "8.1.1", "suspended", "PPMID"): True,  # Critical, every type
    ("baseline", "8.7.2", "suspended", "ESME"): False,  # Non-Critical, not listed
    ("baseline", "8.7.2", "commissioned", "ESME"): True,
    ("baseline", "8.7.2", "commissioned", "CAD"): False,  # the meter is the Business Target
    ("baseline", "11.4", "commissioned", "PPMID"): False,  # later DUIS release
    ("baseline", "2.2", "decommissioned", "ESME"): False,  # out of service
}


@pytest.mark.parametrize(("case", "accepted"), FACTS.items(), ids=str)
def test_each_decision_the_seeds_and_domain_state(case: tuple[str, ...], accepted: bool) -> None:
    variant, srv, status, device_type = case
    assert authorise(load_variant(variant), srv, status, device_type).accepted is accepted


def test_the_meters_firmware_route_is_the_gbcs_one_and_the_others_follow_secmp0007() -> None:
    """ESME and GSME: SR11.1 then SR11.3 in every release. PPMID and HCALCS: no route before
    the November 2021 release; from it, SECMP0007's (SR11.4 reported by the CS09 alert; the
    meters' SR11.1/SR11.3 for HCALCSs), each row tagged as the assumption it is."""
    for v in ("baseline", "mp105", "mp178"):
        routes = load_variant(v).routes
        for meter in ("ESME", "GSME"):
            assert (routes[meter].deliver, routes[meter].activate, routes[meter].alert) == (
                "11.1",
                "11.3",
                None,
            )
    before = load_variant("baseline").routes
    assert not before["PPMID"].exists and not before["HCALCS"].exists
    for v in ("mp105", "mp178"):
        variant = load_variant(v)
        ppmid, hcalcs = variant.routes["PPMID"], variant.routes["HCALCS"]
        assert (ppmid.deliver, ppmid.activate, ppmid.alert) == ("11.4", "11.4", "CS09")
        assert (hcalcs.deliver, hcalcs.activate, hcalcs.alert) == ("11.1", "11.3", None)
        assert ppmid.source == hcalcs.source == "assumption"


def test_the_built_in_cpl_rules_are_the_seeds_and_tagged_assumptions() -> None:
    cpl = load_variant("baseline").cpl
    assert cpl.removal_suspends == {
        "pending",
        "whitelisted",
        "installed_not_commissioned",
        "commissioned",
    }
    assert cpl.relisting_restores is False and cpl.off_cpl_update_suspends is True
    assert load_variant("baseline").source_of("cpl.relisting_restores") == "assumption"
