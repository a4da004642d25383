"""Firmware flows: device answers, each SMI update rule, restoration, the MP105 story."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model import device as dev
from model.dsp import StepNotAllowed, step
from model.machines import LIVE
from model.status_chart import OPERATIONAL
from model.variant import load_variant
from model.world import CplChange, DeviceSpec, DeviceState, Request, Setup, World
from tests.conftest import SCENARIOS, cli_json

ESME = Setup((DeviceSpec("esme1", "ESME"),))


def world(
    status: str = "commissioned",
    prior: str | None = None,
    smi: str = "F1",
    firmware: str = "F1",
    image: str | None = None,
    cpl: tuple[str, ...] = ("F1", "F2"),
) -> World:
    return World(frozenset(cpl), (DeviceState(status, prior, smi, firmware, image),))


def run(variant: str, start: World, *actions: Request | CplChange) -> World:
    rules = load_variant(variant)
    for action in actions:
        start, _ = step(ESME, start, action, rules, LIVE)
    return start


LOST_ACTIVATION = (
    CplChange("F1", False),
    Request("11.1", 0, image="F2"),
    Request("11.3", 0, lose_response=True),
)


def test_device_answers() -> None:
    running = DeviceState("commissioned", None, "F1", "F1", image="F2")
    after, answer = dev.activate_firmware(running)
    assert (after.firmware, answer) == ("F2", dev.Answer(True, "I0", "F2"))
    again, reattempt = dev.activate_firmware(after)
    assert reattempt == dev.Answer(False, dev.ALREADY_ACTIVE, "F2")
    assert again.firmware == "F2"
    assert dev.read_firmware_version(after) == dev.Answer(True, "I0", "F2")


def test_cpl_removal_suspends_exactly_the_devices_on_that_version() -> None:
    setup = Setup((DeviceSpec("a", "ESME"), DeviceSpec("b", "GSME"), DeviceSpec("ihd", "IHD")))
    start = World(
        frozenset({"F1", "F2"}),
        (
            DeviceState("commissioned", None, "F1", "F1"),
            DeviceState("commissioned", None, "F2", "F2"),
            DeviceState("commissioned", None, "F1", "F1"),
        ),
    )
    after, _ = step(setup, start, CplChange("F1", False), load_variant("baseline"), LIVE)
    assert [d.status for d in after.devices] == ["suspended", "commissioned", "commissioned"]
    assert after.devices[0].prior == "commissioned"


@given(st.sampled_from(OPERATIONAL))
def test_baseline_stays_suspended_with_smi_f1_while_the_device_runs_f2(prior: str) -> None:
    end = run("baseline", world(prior), *LOST_ACTIVATION, Request("11.2", 0), Request("11.3", 0))
    d = end.devices[0]
    assert (d.status, d.prior, d.smi_firmware, d.firmware) == ("suspended", prior, "F1", "F2")


@given(st.sampled_from(OPERATIONAL), st.sampled_from(["11.2", "11.3"]))
def test_mp105_restores_exactly_the_prior_status(prior: str, recovery: str) -> None:
    end = run("mp105", world(prior), *LOST_ACTIVATION, Request(recovery, 0))
    d = end.devices[0]
    assert (d.status, d.prior, d.smi_firmware, d.firmware) == (prior, None, "F2", "F2")


def test_success_rule_updates_only_from_success() -> None:
    # baseline: '11.3:success' only
    activated = run("baseline", world(image="F2"), Request("11.3", 0))
    assert activated.devices[0].smi_firmware == "F2"
    diverged = replace(world(), devices=(DeviceState("commissioned", None, "F1", "F2"),))
    assert run("baseline", diverged, Request("11.3", 0)).devices[0].smi_firmware == "F1"
    assert run("baseline", diverged, Request("11.2", 0)).devices[0].smi_firmware == "F1"


def test_with_version_rules_update_from_any_response_carrying_a_version() -> None:
    diverged = replace(world(), devices=(DeviceState("commissioned", None, "F1", "F2"),))
    assert run("mp105", diverged, Request("11.3", 0)).devices[0].smi_firmware == "F2"
    assert run("mp105", diverged, Request("11.2", 0)).devices[0].smi_firmware == "F2"
    assert (
        run("mp105", diverged, Request("11.2", 0, lose_response=True)).devices[0].smi_firmware
        == "F1"
    )


def test_an_update_to_a_version_off_the_cpl_restores_nobody_and_suspends(tmp_path) -> None:
    suspended = world("suspended", "commissioned", smi="F1", firmware="F3", cpl=("F2",))
    d = run("mp105", suspended, Request("11.2", 0)).devices[0]
    assert (d.status, d.smi_firmware) == ("suspended", "F3")
    live = world(smi="F1", firmware="F3", cpl=("F1",))
    d = run("mp105", live, Request("11.2", 0)).devices[0]
    assert (d.status, d.prior, d.smi_firmware) == ("suspended", "commissioned", "F3")


def test_images_off_the_cpl_are_not_distributed() -> None:
    with pytest.raises(StepNotAllowed, match="not on the CPL"):
        run("baseline", world(cpl=("F1",)), Request("11.1", 0, image="F2"))


def test_11_2_applies_to_meters_only() -> None:
    setup = Setup((DeviceSpec("ppmid1", "PPMID"),))
    after, outcome = step(setup, world(), Request("11.2", 0), load_variant("mp105"), LIVE)
    assert after == world() and outcome.accepted is False and outcome.rule is not None
    assert (outcome.rule.id, outcome.rule.source) == ("applicability[11.2]", "seed:MP105")
    assert "ESME, GSME" in outcome.rule.text


def _final(report: dict, device: str) -> dict:
    return report["steps"][-1]["devices"][device]


@pytest.mark.parametrize("scenario", ["mp105-story-baseline.json"])
def test_scenario_baseline_story(scenario: str) -> None:
    report = cli_json("run", str(SCENARIOS / scenario))
    assert report["variant"] == "baseline"
    for device, prior in (("esme1", "commissioned"), ("esme2", "installed_not_commissioned")):
        view = _final(report, device)
        assert (view["status"], view["prior_status"]) == ("suspended", prior)
        assert (view["smi_firmware"], view["device_firmware"]) == ("F1", "F2")
    assert [s["response_code"] for s in report["steps"] if s["step"].get("sr") == "11.2"] == [
        "E51",
        "E51",
    ]


@pytest.mark.parametrize("scenario", ["mp105-story-mp105.json", "mp105-reattempt-mp105.json"])
def test_scenario_mp105_story_restores_the_prior_status(scenario: str) -> None:
    report = cli_json("run", str(SCENARIOS / scenario))
    assert report["variant"] == "mp105"
    for device, prior in (("esme1", "commissioned"), ("esme2", "installed_not_commissioned")):
        view = _final(report, device)
        assert (view["status"], view["prior_status"]) == (prior, None)
        assert (view["smi_firmware"], view["device_firmware"]) == ("F2", "F2")
    # in the re-attempt scenario it is the SR11.3 response, not SR11.2, that restores
    restoring = [
        s["step"]["sr"]
        for s in report["steps"]
        if any("status suspended →" in e for e in s["effects"])
    ]
    assert restoring == (["11.2", "11.2"] if "story" in scenario else ["11.3", "11.3"])


def test_a_cpl_change_names_its_own_rule() -> None:
    rules = load_variant("baseline")
    _, removal = step(ESME, world(), CplChange("F1", False), rules, LIVE)
    _, addition = step(ESME, world(cpl=("F2",)), CplChange("F1", True), rules, LIVE)
    assert removal.rule.id == "cpl.removal_suspends"
    # DP105's own devices are Commissioned: suspending one is the seeds' fact ...
    assert removal.rule.source == "seed:MP105"
    # ... suspending a Pending one is the [cpl] table's reading (assumption)
    _, pending = step(ESME, world("pending"), CplChange("F1", False), rules, LIVE)
    assert pending.rule.source == "seed:MP105,assumption"
    assert (addition.rule.id, addition.rule.source) == ("cpl.relisting_restores", "assumption")
    assert removal.alerts == ("DeviceSuspended esme1",)
