"""The eleven proposals of issue 18, each a variant file in docs/variants/ that the DSP
interprets with no code change: each test fails if the rulebook row it needs is ignored."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.explorer import Bounds, System, cascades, default_systems, explore
from checker.machine_tables import compiled
from model.access import authorise, check_applicable, check_e5
from model.dsp import StepNotAllowed, step
from model.machines import LIVE
from model.pipeline import Asked, check_role
from model.pipeline import trace as pipeline_trace
from model.rule_tables import PipelineCheck
from model.status_chart import STATUSES
from model.variant import load_variant
from model.world import (
    CplChange,
    DccEvent,
    DeviceSpec,
    DeviceState,
    PairSpec,
    Request,
    Setup,
    World,
)
from tests.conftest import ROOT, assert_one_line_error, cli, cli_json

VARIANTS = ROOT / "docs" / "variants"


def variant(name: str):  # type: ignore[no-untyped-def]
    return load_variant(str(VARIANTS / f"{name}.toml"))


def one_device(kind: str, status: str = "commissioned", smets: int = 2, **facts: object) -> Setup:
    return Setup((DeviceSpec(f"{kind.lower()}1", kind, smets, **facts),))  # type: ignore[arg-type]


# --- device types and firmware routes ------------------------------------------------------


def test_a_declared_type_1_device_gets_a_system_and_its_own_route() -> None:
    v = variant("new-type-1-device-sapc")
    assert System("SAPC") in default_systems(v)
    assert System("SAPC") not in default_systems(load_variant("mp105"))
    facts = v.device_types["SAPC"]
    assert facts.cpl_listed and not facts.type_2 and facts.source == "assumption"
    setup = Setup((DeviceSpec("sapc1", "SAPC", declared=facts),))
    world = World(frozenset({"F1", "F2"}), (DeviceState("commissioned", None, "F1", "F1"),))
    world, _ = step(setup, world, Request("11.1", 0, image="F2"), v, LIVE)
    world, outcome = step(setup, world, Request("11.3", 0), v, LIVE)
    assert world.devices[0].smi_firmware == "F2" and outcome.smi_update is not None
    explored = explore(v, Bounds(), ("firmware-recoverable",), system=System("SAPC"))
    assert explored.result("firmware-recoverable").verdict == "holds"
    assert any(isinstance(a, Request) and a.srv == "11.3" for a in explored.universe.actions)


def test_a_declared_type_cannot_redeclare_a_data_type(tmp_path: Path) -> None:
    path = tmp_path / "v.toml"
    path.write_text('id = "v"\nextends = "mp105"\n\n[device_types.ESME]\nkind = "type-1"\n')
    assert_one_line_error(cli("explain", "11.2", "--variant", str(path)), "v.toml:4", "ESME")


def test_the_hub_takes_its_firmware_route_and_sr11_2() -> None:
    v = variant("chf-firmware-route")
    base = load_variant("mp105")
    setup = one_device("CHF")
    world = World(frozenset({"F1", "F2"}), (DeviceState("commissioned", None, "F1", "F1"),))
    for rules, runs in ((base, "F1"), (v, "F2")):
        after, _ = step(setup, world, Request("11.1", 0, image="F2"), rules, LIVE)
        after, _ = step(setup, after, Request("11.3", 0), rules, LIVE)
        assert after.devices[0].firmware == runs
    read = step(setup, world, Request("11.2", 0), v, LIVE)[1]
    assert read.accepted and read.rule is not None
    assert not step(setup, world, Request("11.2", 0), base, LIVE)[1].accepted
    assert System("CHF") in default_systems(v)


def test_a_smets1_device_takes_the_route_of_its_generation() -> None:
    v = variant("firmware-route-by-smets")
    world = World(frozenset({"F1", "F2"}), (DeviceState("commissioned", None, "F1", "F1"),))
    smets1 = step(one_device("ESME", smets=1), world, Request("11.1", 0, image="F2"), v, LIVE)[0]
    smets2 = step(one_device("ESME", smets=2), world, Request("11.1", 0, image="F2"), v, LIVE)[0]
    assert smets1.devices[0].firmware == "F2" and smets1.devices[0].smi_firmware == "F2"
    assert smets2.devices[0].firmware == "F1" and smets2.devices[0].image == "F2"
    assert System("ESME", smets=1) in default_systems(v)


def test_a_dcc_alert_updates_the_smi_firmware_on_success_only() -> None:
    v = variant("dcc-alert-updates-smi-firmware")
    assert v.alerts["FirmwareTransferAlert"].kind == "dcc"
    setup = one_device("CHF")
    world = World(frozenset({"F1", "F2"}), (DeviceState("commissioned", None, "F1", "F1"),))
    after, outcome = step(setup, world, Request("11.1", 0, image="F2"), v, LIVE)
    assert after.devices[0].smi_firmware == "F2"
    assert outcome.smi_update is not None and outcome.smi_update.outcome == "FileTransferSuccess"
    lost = step(setup, world, Request("11.1", 0, image="F2", lose_alert=True), v, LIVE)[0]
    assert lost.devices[0].smi_firmware == "F1"


def test_activation_failure_does_not_update_the_smi() -> None:
    v = variant("cs09-activation-success-only")
    parent = variant("ppmid-firmware-by-alert")
    setup = one_device("PPMID")
    # The PPMID runs F2, the SMI says F1: re-sending F2 fails to activate (already active).
    stale = World(frozenset({"F1", "F2"}), (DeviceState("commissioned", None, "F1", "F2"),))
    after, outcome = step(setup, stale, Request("11.4", 0, image="F2"), v, LIVE)
    assert after.devices[0].smi_firmware == "F1"
    assert any("ActivationFailure" in a for a in outcome.alerts)
    assert any(a.startswith("FirmwareVersionMismatch") for a in outcome.alerts)
    # The parent never sends the alert on failure.
    assert not any(
        "CS09" in a
        for a in step(setup, stale, Request("11.4", 0, image="F2"), parent, LIVE)[1].alerts
    )
    fresh = World(frozenset({"F1", "F2"}), (DeviceState("commissioned", None, "F1", "F1"),))
    assert (
        step(setup, fresh, Request("11.4", 0, image="F2"), v, LIVE)[0].devices[0].smi_firmware
        == "F2"
    )


def test_an_unknown_outcome_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "v.toml"
    path.write_text(
        'id = "v"\nextends = "mp105"\n[firmware]\nupdate_smi_on = [\n'
        '  { message = "11.3:success", outcome = "ActivationSuccess" },\n]\n'
    )
    assert_one_line_error(cli("explain", "11.2", "--variant", str(path)), "v.toml:5", "outcome")


# --- the pipeline: check E5 deny lists and roles ------------------------------------------


def test_a_deny_list_refuses_one_srv_in_one_status() -> None:
    document = cli_json(
        "explain",
        "8.11",
        "--variant",
        str(VARIANTS / "e5-deny-whitelist-while-installed.toml"),
        "--status",
        "installed_not_commissioned",
        "--device-type",
        "ESME",
    )
    assert (document["accepted"], document["rule_id"]) == (
        False,
        "e5.installed_not_commissioned.deny[0]",
    )
    assert [c["result"] for c in document["checks"]] == [
        "passed",
        "passed",
        "rejected E51",
        "not reached",
    ]
    for status in ("commissioned", "pending"):
        other = cli_json(
            "explain",
            "8.11",
            "--variant",
            str(VARIANTS / "e5-deny-whitelist-while-installed.toml"),
            "--status",
            status,
            "--device-type",
            "ESME",
        )
        assert other["accepted"]


def test_a_role_restriction_refuses_the_other_roles() -> None:
    path = str(VARIANTS / "role-restriction-sr11-1.toml")
    common = ("--status", "commissioned", "--device-type", "ESME")
    gs = cli_json("explain", "11.1", "--variant", path, *common, "--role", "GS")
    assert (gs["accepted"], gs["response_code"], gs["source"]) == (
        False,
        "DSP:ROLE_NOT_ELIGIBLE",
        "assumption",
    )
    assert cli_json("explain", "11.1", "--variant", path, *common, "--role", "IS")["accepted"]
    assert cli_json("explain", "11.1", "--variant", "mp105", *common, "--role", "GS")["accepted"]
    setup = one_device("ESME")
    world = World(frozenset({"F1", "F2"}), (DeviceState("commissioned", None, "F1", "F1"),))
    refused = step(
        setup, world, Request("11.1", 0, image="F2", role="GS"), load_variant(path), LIVE
    )[1]
    assert refused.response_code == "DSP:ROLE_NOT_ELIGIBLE"


def test_explain_lists_every_check_in_the_variants_order(tmp_path: Path) -> None:
    path = tmp_path / "v.toml"
    path.write_text(
        'id = "v"\nextends = "mp105"\n[pipeline]\nchecks = [\n'
        '  { check = "e5", source = "seed:MP105" },\n'
        '  { check = "applicability", source = "assumption" },\n]\n'
    )
    document = cli_json(
        "explain",
        "11.2",
        "--variant",
        str(path),
        "--device-type",
        "PPMID",
        "--status",
        "commissioned",
    )
    assert [c["check"] for c in document["checks"]] == ["e5", "applicability"]
    assert document["checks"][1]["result"] == "rejected DSP:NOT_FOR_DEVICE_TYPE"
    assert document["checks"][0]["row_source"] == "seed:MP105"
    # No role check: a role is not refused; no join validation: an Unjoin is forwarded.
    assert not load_variant(str(path)).unjoin_requires_smi_join


def test_an_unknown_check_or_role_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "v.toml"
    path.write_text('id = "v"\nextends = "mp105"\n[pipeline]\nchecks = [\n  { check = "e6" },\n]\n')
    assert_one_line_error(
        cli("explain", "11.2", "--variant", str(path)), "v.toml:5", "unknown check"
    )
    path.write_text('id = "v"\nextends = "mp105"\n\n[roles."11.1"]\nroles = ["XX"]\n')
    assert_one_line_error(cli("explain", "11.2", "--variant", str(path)), "v.toml:5", "role codes")


# --- actors, per-device outcomes --------------------------------------------------------------


def test_a_change_of_supplier_clears_the_pending_image() -> None:
    v = variant("change-of-supplier-clears-image")
    setup = one_device("ESME")
    world = World(frozenset({"F1", "F2"}), (DeviceState("commissioned", None, "F1", "F1", "F2"),))
    after, outcome = step(setup, world, DccEvent("change_of_supplier", 0), v, LIVE)
    assert after.devices[0].image is None and outcome.rule is not None
    assert outcome.rule.id == "events.change_of_supplier"
    activated = step(setup, after, Request("11.3", 0), v, LIVE)[0]
    assert activated.devices[0].firmware == "F1"
    # Without an [events] row a change of supplier still happens (it moves the device's
    # supplier, tests/test_suppliers.py) and clears nothing.
    kept, plain = step(setup, world, DccEvent("change_of_supplier", 0), load_variant("mp105"), LIVE)
    assert kept == world and plain.rule is not None and plain.rule.source == "assumption"


def test_a_multi_device_sr11_1_is_answered_per_device() -> None:
    report = cli("run", "docs/scenarios/multi-device-sr11-1.json", "--format", "json")
    assert report.returncode == 0, report.stderr
    v = variant("multi-device-sr11-1")
    kinds = ("ESME", "ESME", "GSME", "PPMID")
    setup = Setup(tuple(DeviceSpec(f"d{n}", t) for n, t in enumerate(kinds)))
    states = (
        DeviceState("commissioned", None, "F1", "F1"),
        DeviceState("decommissioned", None, "F1", "F1"),
        DeviceState("suspended", "commissioned", "F1", "F1"),
        DeviceState("commissioned", None, "F1", "F1"),
    )
    world = World(frozenset({"F1", "F2"}), states)
    after, outcome = step(setup, world, Request("11.1", 0, image="F2", also=(1, 2, 3)), v, LIVE)
    assert outcome.per_device == (
        ("d0", "accepted"),
        ("d1", "NotCommissionedDeviceIDList"),
        ("d2", "accepted"),
        ("d3", "InvalidDeviceIDList"),
    )
    assert [d.image for d in after.devices] == ["F2", None, "F2", None]
    with pytest.raises(StepNotAllowed, match="multi_device"):
        step(setup, world, Request("11.1", 0, image="F2", also=(1,)), load_variant("mp105"), LIVE)


# --- CPL entries and cascades ----------------------------------------------------------------


def test_a_removal_for_an_administrative_lapse_does_not_suspend() -> None:
    v = variant("cpl-lapse-does-not-suspend")
    setup = one_device("ESME")
    world = World(frozenset({"F1", "F2"}), (DeviceState("commissioned", None, "F1", "F1"),))
    lapsed, outcome = step(setup, world, CplChange("F1", False, "administrative-lapse"), v, LIVE)
    assert lapsed.devices[0].status == "commissioned" and "F1" not in lapsed.cpl
    assert outcome.rule is not None and outcome.rule.id == "cpl.reasons.administrative-lapse"
    withdrawn = step(setup, world, CplChange("F1", False, "withdrawn"), v, LIVE)[0]
    assert withdrawn.devices[0].status == "suspended"
    assert step(setup, world, CplChange("F1", False), v, LIVE)[0].devices[0].status == "suspended"


def test_decommissioning_unjoins_and_raises_the_dcc_alert() -> None:
    v = variant("decommission-unjoins")
    setup = Setup((DeviceSpec("esme1", "ESME"), DeviceSpec("cad1", "CAD")), (PairSpec(0, 1),))
    states = (
        DeviceState("commissioned", None, "F1", "F1"),
        DeviceState("commissioned", None, None, None),
    )
    world = World(frozenset({"F1"}), states, ("joined",))
    after, outcome = step(setup, world, Request("8.3", 0), v, LIVE)
    assert after.joins == ("unjoined",)
    assert "MeterDecommissioningOrWithdrawal esme1 cad1" in outcome.alerts
    kept = step(setup, world, Request("8.3", 0), load_variant("mp105"), LIVE)[0]
    assert kept.joins == ("joined",)


def test_the_explorer_memo_follows_a_cascade_into_the_joins() -> None:
    """Every successor of every explored state by an action a cascade follows is itself
    explored: a memo that forgot the joins a cascade writes would miss some (it did)."""
    v = variant("decommission-unjoins")
    e = explore(v, Bounds(), (), system=System("ESME", "CAD"))
    plain = explore(load_variant("mp105"), Bounds(), (), system=System("ESME", "CAD"))
    assert e.states < plain.states
    machines = compiled()
    cascading = [a for a in e.universe.actions if cascades(v, a) and not a.faulty]  # type: ignore[union-attr]
    assert cascading
    for n in range(e.states):
        setup_index, world, lost = e.decode(n)
        setup = e.universe.setups[setup_index]
        for action in cascading:
            try:
                after, _ = step(setup, world, action, v, machines)
            except StepNotAllowed:
                continue
            assert e.lookup(setup_index, after, lost) is not None, (world, action)


# --- guard rails --------------------------------------------------------------------------------


def test_a_route_alert_no_rule_reads_is_a_warning_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "v.toml"
    path.write_text(
        'id = "v"\nextends = "baseline"\n[applicability."11.4"]\ndevice_types = ["PPMID"]\n'
        '[firmware.routes.PPMID]\ndeliver = "11.4"\nactivate = "11.4"\nreport = "alert:CS09"\n'
    )
    result = cli("explain", "11.2", "--variant", str(path))
    assert result.returncode == 0
    assert (
        f"{path}:8: firmware.routes.PPMID.report: no update_smi_on rule reads CS09" in result.stderr
    )


def test_a_message_row_nobody_sends_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "v.toml"
    path.write_text('id = "v"\nextends = "baseline"\n\n[messages."11.4"]\nmulti_device = true\n')
    result = cli("explain", "11.2", "--variant", str(path))
    assert f"{path}:4: messages.11.4: SR11.4 applies to no device type" in result.stderr


def test_an_unknown_table_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "v.toml"
    path.write_text('id = "v"\nextends = "mp105"\n\n[actors]\nx = 1\n')
    assert_one_line_error(
        cli("explain", "11.2", "--variant", str(path)), "v.toml:4", "unknown table"
    )
    path.write_text('id = "v"\nextends = "mp105"\n\n[messages."11.1"]\ndoes = "teleport"\n')
    assert_one_line_error(cli("explain", "11.2", "--variant", str(path)), "does")


# --- the CPL check on a firmware image, a check a variant adds ----------------------------------

CPL_IMAGE = """id = "v"
extends = "mp105"
[pipeline]
checks = [
  { check = "applicability", source = "assumption" },
  { check = "role", source = "assumption" },
  { check = "cpl-image", reject_code = "DSP:IMAGE_NOT_ON_CPL", source = "assumption" },
  { check = "e5", source = "seed:MP105" },
  { check = "join-validation", source = "seed:MP178" },
]
"""


def test_an_off_cpl_image_is_refused_by_the_pipeline_where_a_variant_adds_the_check(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v.toml"
    path.write_text(CPL_IMAGE)
    v = load_variant(str(path))
    setup = one_device("ESME")
    world = World(frozenset({"F1"}), (DeviceState("commissioned", None, "F1", "F1"),))
    after, outcome = step(setup, world, Request("11.1", 0, image="F9"), v, LIVE)
    assert (outcome.accepted, outcome.response_code) == (False, "DSP:IMAGE_NOT_ON_CPL")
    assert after == world
    on_cpl = step(setup, world, Request("11.1", 0, image="F1"), v, LIVE)[1]
    assert on_cpl.accepted and on_cpl.rule is not None and on_cpl.rule.id.startswith("e5.")
    with pytest.raises(StepNotAllowed, match="not on the CPL"):
        step(setup, world, Request("11.1", 0, image="F9"), load_variant("mp105"), LIVE)
    document = cli_json(
        "explain",
        "11.1",
        "--variant",
        str(path),
        "--status",
        "commissioned",
        "--device-type",
        "ESME",
        "--image-off-cpl",
    )
    assert [c["result"] for c in document["checks"]][2:4] == [
        "rejected DSP:IMAGE_NOT_ON_CPL",
        "not reached",
    ]


# --- no branch per device type, SRV or alert in the DSP and the properties ------------------

BRANCH = re.compile(
    r"if .*device_type ==|\.type ==|[\"'][0-9]+\.[0-9][0-9.]*[\"']"
    r"|[\"'](CS09|DeviceSuspended|DeviceRestored|FirmwareVersionMismatch)[\"']"
)


def test_the_dsp_and_the_properties_name_no_device_type_srv_or_alert() -> None:
    assert BRANCH.search('    if request.srv == "11.2":')  # what it would catch
    assert BRANCH.search("    if spec.type == 'ESME':")
    files = [ROOT / "model" / "dsp.py", ROOT / "model" / "access.py"]
    files += sorted((ROOT / "properties").glob("*.py"))
    found = [
        f"{path.name}:{n}: {line.strip()}"
        for path in files
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if BRANCH.search(line) and not line.lstrip().startswith("#")
    ]
    assert found == []


# --- the pipeline's decision, against its checks taken one by one --------------------------

ORDERS = st.permutations(["applicability", "role", "e5", "join-validation"]).flatmap(
    lambda order: st.integers(0, len(order)).map(lambda n: tuple(order[:n]))
)


@settings(max_examples=200, deadline=None)
@given(
    order=ORDERS,
    srv=st.sampled_from(["11.1", "11.2", "11.3", "8.3", "8.8.2", "6.23", "2.2"]),
    status=st.sampled_from(list(STATUSES)),
    device_type=st.sampled_from(["ESME", "PPMID", "IHD", None]),
    role=st.sampled_from(["IS", "GS", "OU", None]),
)
def test_the_first_failing_check_in_the_variants_order_decides(
    order: tuple[str, ...], srv: str, status: str, device_type: str | None, role: str | None
) -> None:
    rules = dataclasses.replace(
        load_variant(str(VARIANTS / "role-restriction-sr11-1.toml")),
        pipeline=tuple(PipelineCheck(c, "assumption", "") for c in order),
    )
    one_by_one = {
        "applicability": None if device_type is None else check_applicable(rules, srv, device_type),
        "role": check_role(rules, srv, role),
        "e5": check_e5(rules, srv, status),
        "join-validation": None,
    }
    ran = [one_by_one[c] for c in order if one_by_one[c] is not None]
    refused = [d for d in ran if d is not None and not d.accepted]
    decision = authorise(rules, srv, status, device_type, role=role)
    if refused:
        assert (decision.accepted, decision.rule) == (False, refused[0].rule)
    else:
        assert decision.accepted
        if "e5" in order:
            assert decision.rule == one_by_one["e5"].rule  # type: ignore[union-attr]
    trace = pipeline_trace(rules, Asked(srv, status, device_type, role=role))
    assert [row["check"] for row in trace] == list(order)
    results = [row["result"] for row in trace]
    rejected = [n for n, r in enumerate(results) if r.startswith("rejected")]
    assert len(rejected) <= 1
    if rejected:
        assert all(r == "not reached" for r in results[rejected[0] + 1 :])
