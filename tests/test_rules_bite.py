"""Rule tests that bite (issue 26): each survivor class of the hand-seeded mutation round
has a test here that fails with its mutation applied and passes on the rules as written.

Every test drives the public behaviour: the DSP through ``model.dsp.step`` (what ``run``,
``explain``, the explorer and the fuzzer all step), never the function that happens to
hold the rule, so a rule moved to another module keeps its test. The mutation each test
kills is named in its docstring; ``bench/mutation.py --only NAME`` applies it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from model import alerts
from model.catalogue import lookup
from model.dsp import (
    ACTIVATE_FIRMWARE,
    READ_FIRMWARE,
    SRV_STATUS_EVENTS,
    UPDATE_FIRMWARE,
    StepNotAllowed,
    step,
)
from model.machines import LIVE
from model.rule_tables import Exemption
from model.status_chart import OPERATIONAL, SUSPENDED
from model.variant import Variant, load_variant
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

ROOT = Path(__file__).resolve().parent.parent
#: The life-cycle requests a device answers (a Non-Device Request has no response to lose).
LIFE_CYCLE = tuple(srv for srv in SRV_STATUS_EVENTS if not lookup(srv).non_device)


def fresh(ref: str) -> Variant:
    """A variant with no remembered decisions (the built-in one is shared and cached)."""
    return replace(load_variant(ref))  # decisions: init=False, a new empty memo


def conditional_exception(variant: Variant) -> Exemption:
    """The Suspended row's exception with both a Command Variant and a SMETS condition (the
    seeds' SR2.2, Command Variant 2, SMETS1)."""
    return next(
        e
        for e in variant.e5[SUSPENDED].exceptions
        if e.command_variant is not None and e.smets is not None
    )


def one(
    device_type: str = "ESME",
    smets: int = 2,
    status: str = "commissioned",
    prior: str | None = None,
    smi: str = "F1",
    firmware: str = "F1",
    image: str | None = None,
    cpl: tuple[str, ...] = ("F1", "F2"),
) -> tuple[Setup, World]:
    setup = Setup((DeviceSpec(f"{device_type.lower()}1", device_type, smets),))
    world = World(frozenset(cpl), (DeviceState(status, prior, smi, firmware, image),))
    return setup, world


def suspended(smets: int) -> tuple[Setup, World]:
    return one(smets=smets, status=SUSPENDED, prior="commissioned")


# --- check E5 as the DSP applies it ---------------------------------------------------------


@pytest.mark.parametrize("first", [1, 2])
def test_the_smets_version_of_each_device_decides_whatever_was_asked_first(first: int) -> None:
    """Kills ``access-memo-forgets-smets`` (the first SMETS version asked decides for both)
    and ``gate-assumes-smets2`` (the gate passes SMETS2 whatever the device's version)."""
    variant = fresh("baseline")
    entry = conditional_exception(variant)
    request = Request(entry.srv, 0, command_variant=entry.command_variant or 1)
    answers = {}
    for smets in (first, 3 - first):
        setup, world = suspended(smets)
        _, outcome = step(setup, world, request, variant, LIVE)
        answers[smets] = outcome.accepted
    assert answers[entry.smets] is True
    other = 3 - entry.smets if entry.smets in (1, 2) else 2
    assert answers[other] is False


def test_the_command_variant_reaches_check_e5() -> None:
    """Kills ``gate-drops-command-variant``: the exception names one Command Variant only."""
    variant = fresh("baseline")
    entry = conditional_exception(variant)
    assert entry.command_variant is not None
    setup, world = suspended(entry.smets or 2)
    for command_variant in range(1, 9):
        request = Request(entry.srv, 0, command_variant=command_variant)
        _, outcome = step(setup, world, request, variant, LIVE)
        assert outcome.accepted is (command_variant == entry.command_variant), command_variant
        if not outcome.accepted:
            assert outcome.response_code == variant.e5[SUSPENDED].reject_code


def test_each_e5_row_rejects_with_its_own_code(tmp_path: Path) -> None:
    """Kills ``e5-rejects-with-suspended-code``: a row other than Suspended that admits
    nothing rejects with the code it declares, not the Suspended row's."""
    path = tmp_path / "own-codes.toml"
    path.write_text(
        'id = "own-codes"\ntitle = "E5 rows with codes of their own"\nextends = "baseline"\n'
        'sources = ["assumption"]\n\n[e5.decommissioned]\nadmits = "none"\n'
        'reject_code = "DSP:E5_DECOMMISSIONED"\nsource = "assumption"\n'
        'why = "a test\'s own code"\n',
        encoding="utf-8",
    )
    variant = fresh(str(path))
    assert variant.e5["decommissioned"].reject_code != variant.e5[SUSPENDED].reject_code
    setup, world = one(status="decommissioned")
    _, outcome = step(setup, world, Request(READ_FIRMWARE, 0), variant, LIVE)
    assert outcome.accepted is False
    assert outcome.response_code == "DSP:E5_DECOMMISSIONED"
    setup, world = suspended(2)
    # A Suspended device is still refused with the Suspended row's own code when refused.
    request = Request(READ_FIRMWARE, 0)
    _, outcome = step(setup, world, request, variant, LIVE)
    assert outcome.accepted is False
    assert outcome.response_code == variant.e5[SUSPENDED].reject_code


# --- the SMI firmware version and the status that follows it --------------------------------


def _off_cpl_update(variant: Variant) -> DeviceState:
    """A commissioned ESME that runs F2 while the SMI says F1, F2 off the CPL: SR11.2 (an
    SMI update under MP105) takes the SMI to F2."""
    setup, world = one(smi="F1", firmware="F2", cpl=("F1",))
    after, outcome = step(setup, world, Request(READ_FIRMWARE, 0), variant, LIVE)
    assert outcome.smi_update is not None
    assert after.devices[0].smi_firmware == "F2"
    return after.devices[0]


def test_an_off_cpl_update_suspends_only_where_the_variant_says_so(tmp_path: Path) -> None:
    """Kills ``settle-ignores-off-cpl-update-suspends``: ``[cpl] off_cpl_update_suspends``
    decides whether an SMI update to a version off the CPL suspends."""
    assert load_variant("mp105").cpl.off_cpl_update_suspends
    assert _off_cpl_update(fresh("mp105")).status == SUSPENDED
    path = tmp_path / "no-suspend.toml"
    path.write_text(
        'id = "no-suspend"\ntitle = "An SMI update off the CPL suspends nobody"\n'
        'extends = "mp105"\nsources = ["assumption"]\n\n[cpl]\n'
        "off_cpl_update_suspends = false\n",
        encoding="utf-8",
    )
    variant = fresh(str(path))
    assert not variant.cpl.off_cpl_update_suspends
    assert _off_cpl_update(variant).status == "commissioned"


def test_a_version_not_taken_raises_firmware_version_mismatch() -> None:
    """Kills ``no-mismatch-alert``: under baseline SR11.2 does not update the SMI, so a
    reported version that differs is not taken, and the DSP says so with its DCC alert."""
    variant = fresh("baseline")
    setup, world = one(smi="F1", firmware="F2")
    after, outcome = step(setup, world, Request(READ_FIRMWARE, 0), variant, LIVE)
    assert after.devices[0].smi_firmware == "F1"
    assert outcome.smi_update is None
    assert f"{alerts.FIRMWARE_VERSION_MISMATCH} esme1" in outcome.alerts
    assert any("stays F1" in effect for effect in outcome.effects)
    # The same version reported: nothing to say.
    setup, world = one(smi="F2", firmware="F2")
    _, outcome = step(setup, world, Request(READ_FIRMWARE, 0), variant, LIVE)
    assert not any(alerts.FIRMWARE_VERSION_MISMATCH in a for a in outcome.alerts)


def test_a_life_cycle_request_whose_response_is_lost_changes_no_status() -> None:
    """Kills ``life-cycle-without-success``: the SMI status follows a success response
    only; a lost one leaves it where it was (each life-cycle request to a device, from
    each operational status it moves)."""
    variant = fresh("baseline")
    moved = 0
    for srv in LIFE_CYCLE:
        for status in OPERATIONAL:
            setup, world = one(status=status)
            done, _ = step(setup, world, Request(srv, 0), variant, LIVE)
            if done.devices[0].status == status:
                continue
            moved += 1
            lost, outcome = step(setup, world, Request(srv, 0, lose_response=True), variant, LIVE)
            assert outcome.response_code is None
            assert lost.devices[0].status == status, (srv, status)
    assert moved


def test_a_failed_activation_sends_no_alert_where_the_route_reports_success_only() -> None:
    """Kills ``alert-route-reports-failure``: a route whose device alert reports success only
    (``report_failure`` false) sends no alert when the activation fails."""
    variant = fresh(str(ROOT / "docs" / "variants" / "ppmid-firmware-by-alert.toml"))
    route = variant.route("PPMID")
    assert route is not None and route.alert is not None and not route.report_failure
    setup, world = one("PPMID", smi="F1", firmware="F1")
    # The image the PPMID already runs: activation fails.
    same, outcome = step(setup, world, Request(route.deliver or "", 0, image="F1"), variant, LIVE)
    assert not any(a.startswith(route.alert) for a in outcome.alerts), outcome.alerts
    assert same.devices[0].firmware == "F1"
    # A new image: activation succeeds and the alert reports it.
    _, outcome = step(setup, world, Request(route.deliver or "", 0, image="F2"), variant, LIVE)
    assert any(a.startswith(f"{route.alert} ppmid1 reports F2") for a in outcome.alerts)


# --- the device side -------------------------------------------------------------------------


def test_activating_the_image_already_running_is_not_success() -> None:
    """Kills ``activate-same-image-succeeds`` (seed:MP105: a re-attempt of SR11.3 does not
    report success)."""
    variant = fresh("baseline")
    setup, world = one(smi="F1", firmware="F1")
    world, _ = step(setup, world, Request(UPDATE_FIRMWARE, 0, image="F1"), variant, LIVE)
    after, outcome = step(setup, world, Request(ACTIVATE_FIRMWARE, 0), variant, LIVE)
    assert outcome.response_code != "I0"
    assert after.devices[0].firmware == "F1"
    world, _ = step(setup, world, Request(UPDATE_FIRMWARE, 0, image="F2"), variant, LIVE)
    after, outcome = step(setup, world, Request(ACTIVATE_FIRMWARE, 0), variant, LIVE)
    assert outcome.response_code == "I0"
    assert after.devices[0].firmware == after.devices[0].smi_firmware == "F2"


def test_sr11_2_reports_the_running_version_not_a_delivered_image() -> None:
    """Kills ``read-reports-delivered-image``: under MP105 SR11.2 updates the SMI from the
    version the device runs; an image delivered but not activated is not it."""
    variant = fresh("mp105")
    setup, world = one(smi="F1", firmware="F1")
    world, _ = step(setup, world, Request(UPDATE_FIRMWARE, 0, image="F2"), variant, LIVE)
    after, outcome = step(setup, world, Request(READ_FIRMWARE, 0), variant, LIVE)
    assert after.devices[0].smi_firmware == "F1"
    assert after.devices[0].image == "F2"
    assert not any("F2" in effect for effect in outcome.effects if "SMI" in effect)


# --- the status chart ------------------------------------------------------------------------


@pytest.mark.parametrize("status", OPERATIONAL)
def test_recovery_starts_from_commissioned_only(status: str) -> None:
    """Kills ``recovery-from-any-operational``: the DCC starts recovery of a compromised
    commissioned device (assumption); from any other operational status it is refused."""
    variant = fresh("baseline")
    setup, world = one(status=status)
    if status == "commissioned":
        after, _ = step(setup, world, DccEvent("start_recovery", 0), variant, LIVE)
        assert after.devices[0].status == "recovery"
    else:
        with pytest.raises(StepNotAllowed):
            step(setup, world, DccEvent("start_recovery", 0), variant, LIVE)


# --- what a decision says (the rule texts `explain` and the traces show) ---------------------


def test_an_applicability_refusal_names_the_types_and_the_rows_why() -> None:
    """Kills the ``check_applicable`` mutants that drop the row's why or its device types
    from the text: a refusal says which types the request is for, and why."""
    variant = fresh("mp105")
    row = variant.applicability[READ_FIRMWARE]
    setup, world = one("PPMID")
    _, outcome = step(setup, world, Request(READ_FIRMWARE, 0), variant, LIVE)
    assert outcome.accepted is False and outcome.rule is not None
    assert ", ".join(sorted(row.device_types)) in outcome.rule.text
    assert row.why and row.why in outcome.rule.text


def test_a_role_refusal_names_the_eligible_roles() -> None:
    """Kills the ``check_role`` mutant that drops the eligible roles from the text."""
    variant = fresh("baseline")
    eligible = sorted(lookup(READ_FIRMWARE).roles)
    outsider = next(r for r in ("IS", "GS", "ES", "RSA", "OU", "EA") if r not in eligible)
    setup, world = one()
    _, outcome = step(setup, world, Request(READ_FIRMWARE, 0, role=outsider), variant, LIVE)
    assert outcome.accepted is False and outcome.rule is not None
    assert ", ".join(eligible) in outcome.rule.text


def test_an_unknown_removal_reason_lists_the_known_ones() -> None:
    """Kills the ``_removal_suspends`` mutant that drops the known reasons from the message."""
    variant = fresh(str(ROOT / "docs" / "variants" / "cpl-lapse-does-not-suspend.toml"))
    known = [row.reason for row in variant.cpl.reasons]
    assert known
    setup, world = one()
    with pytest.raises(StepNotAllowed) as refused:
        step(setup, world, CplChange("F1", listed=False, reason="no-such-reason"), variant, LIVE)
    assert all(reason in str(refused.value) for reason in known)


def test_a_cascade_ends_the_joins_of_its_own_device_only() -> None:
    """Kills the ``cascade`` mutant that drops ``target in (pair.target, pair.other)``:
    decommissioning one meter ends its joins, not another meter's."""
    variant = fresh(str(ROOT / "docs" / "variants" / "decommission-unjoins.toml"))
    decommission = next(s for s, e in SRV_STATUS_EVENTS.items() if e == "decommission")
    devices = (
        DeviceSpec("esme1", "ESME"),
        DeviceSpec("esme2", "ESME"),
        DeviceSpec("cad1", "CAD"),
        DeviceSpec("cad2", "CAD"),
    )
    setup = Setup(devices, (PairSpec(0, 2), PairSpec(1, 3)))
    meter = DeviceState("commissioned", None, "F1", "F1")
    cad = DeviceState("commissioned", None, None, None)
    world = World(frozenset({"F1"}), (meter, meter, cad, cad), ("joined", "joined"))
    after, outcome = step(setup, world, Request(decommission, 0), variant, LIVE)
    assert after.devices[0].status == "decommissioned"
    assert after.joins[1] == "joined"
    assert after.joins[0] != "joined"
    assert not any("cad2" in alert for alert in outcome.alerts)


@pytest.mark.parametrize("compliant", [True, False])
def test_a_join_sent_again_is_accepted_by_a_compliant_device_only(compliant: bool) -> None:
    """Kills the ``accepts_join`` mutants (seed:MP178: a GBCS-compliant device accepts a
    re-sent Join when already joined and answers success; a non-compliant one rejects it):
    after a lost Join response, the Join sent again brings the SMI in step only on a
    compliant meter."""
    variant = fresh("baseline")
    join = min(
        s
        for s, row in variant.messages.items()
        if row.does == "join" and row.other_devices == "any"
    )
    setup = Setup(
        (DeviceSpec("esme1", "ESME", compliant=compliant), DeviceSpec("cad1", "CAD")),
        (PairSpec(0, 1),),
    )
    meter = DeviceState("commissioned", None, "F1", "F1")
    cad = DeviceState("commissioned", None, None, None)
    world = World(frozenset({"F1"}), (meter, cad), ("unjoined",))
    lost, _ = step(setup, world, Request(join, 0, other=1, lose_response=True), variant, LIVE)
    assert lost.joins[0] == "device_only"
    again, outcome = step(setup, lost, Request(join, 0, other=1), variant, LIVE)
    assert (outcome.response_code == "I0") is compliant
    assert (again.joins[0] == "joined") is compliant


@pytest.mark.parametrize("device_type", ["CHF", "GPF"])
def test_a_device_with_no_firmware_route_is_served(device_type: str) -> None:
    """Kills the ``_device_side`` mutant that drops ``route is not None``: a life-cycle
    request to a device type the variant gives no firmware route is served like any other
    (a plain success), not a crash."""
    variant = fresh("baseline")
    assert variant.route(device_type) is None
    whitelist = next(s for s, e in SRV_STATUS_EVENTS.items() if e == "whitelist")
    setup, world = one(device_type, status="pending", smi=None, firmware=None)  # type: ignore[arg-type]
    after, outcome = step(setup, world, Request(whitelist, 0), variant, LIVE)
    assert outcome.response_code == "I0"
    assert after.devices[0].status == "whitelisted"
