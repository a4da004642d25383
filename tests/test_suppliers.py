"""Actors (issue 18, part 4): the supplier responsible for each device, as a per-device
attribute the rulebook reads. A scenario names each device's ``supplier`` and each request's
``sender``; a variant's ``responsible-supplier`` check refuses a request from anyone else;
a change of supplier (``{"change_of_supplier": ..., "to": ...}``) moves the device to the
incoming supplier, and the ``[events.change_of_supplier]`` row clears what it names.

What would break a test: a check that ignores the sender, a change of supplier that does not
move the device, a built-in that starts refusing by supplier, a bad name taken as data.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from model.dsp import step
from model.machines import LIVE
from model.scenario import load_scenario, run
from model.variant import BUILTIN, load_variant
from model.world import DccEvent, DeviceSpec, DeviceState, Request, Setup, World
from tests.conftest import ROOT, assert_one_line_error, cli

VARIANT = ROOT / "docs" / "variants" / "responsible-supplier-only.toml"
SCENARIO = ROOT / "docs" / "scenarios" / "change-of-supplier.json"
NAMES = st.sampled_from(["SUP-A", "SUP-B", "S.3", "x_4"])
SETUP = Setup((DeviceSpec("esme1", "ESME"),))


def _world(supplier: str | None) -> World:
    state = DeviceState("commissioned", None, "F1", "F1", "F2", supplier)
    return World(frozenset({"F1", "F2"}), (state,))


def test_the_scenario_refuses_the_outgoing_supplier_after_the_change() -> None:
    report = run(load_scenario(str(SCENARIO)))
    answers = [(s["accepted"], s["response_code"]) for s in report["steps"]]
    assert answers[0] == (True, "I0")
    assert answers[2] == (False, "DSP:NOT_RESPONSIBLE_SUPPLIER")
    assert answers[3][0] is True
    suppliers = [s["devices"]["esme1"]["supplier"] for s in report["steps"]]
    assert suppliers == ["SUP-A", "SUP-B", "SUP-B", "SUP-B"]
    assert "pipeline.checks[2]" in str(report["steps"][2]["rule"])


@given(supplier=NAMES, sender=NAMES)
def test_the_check_refuses_exactly_a_sender_that_is_not_the_supplier(
    supplier: str, sender: str
) -> None:
    v = load_variant(str(VARIANT))
    after, outcome = step(SETUP, _world(supplier), Request("11.3", 0, sender=sender), v, LIVE)
    assert outcome.accepted is (sender == supplier)
    if sender != supplier:
        assert outcome.response_code == "DSP:NOT_RESPONSIBLE_SUPPLIER"
        assert after == _world(supplier)
    # Without the check (every built-in), the sender is not compared.
    for builtin in BUILTIN:
        plain = step(
            SETUP, _world(supplier), Request("11.3", 0, sender=sender), load_variant(builtin), LIVE
        )[1]
        assert plain.response_code != "DSP:NOT_RESPONSIBLE_SUPPLIER"


@given(before=st.none() | NAMES, incoming=NAMES)
def test_a_change_of_supplier_moves_the_device_and_clears_the_image(
    before: str | None, incoming: str
) -> None:
    v = load_variant(str(VARIANT))
    after, outcome = step(
        SETUP, _world(before), DccEvent("change_of_supplier", 0, incoming), v, LIVE
    )
    assert after.devices[0].supplier == incoming
    assert after.devices[0].image is None  # the variant's [events] row clears it
    assert f"supplier {before or 'none'} → {incoming}" in outcome.effects
    # The explorer's event names nobody: the supplier stays as it was.
    kept = step(SETUP, _world(before), DccEvent("change_of_supplier", 0), v, LIVE)[0]
    assert kept.devices[0].supplier == before


def test_an_unnamed_sender_or_supplier_is_not_checked() -> None:
    v = load_variant(str(VARIANT))
    for world, request in (
        (_world(None), Request("11.3", 0, sender="SUP-A")),
        (_world("SUP-A"), Request("11.3", 0)),
    ):
        assert step(SETUP, world, request, v, LIVE)[1].accepted


def test_a_bad_service_user_name_is_one_line_of_bad_input(tmp_path: Path) -> None:
    text = SCENARIO.read_text(encoding="utf-8").replace('"SUP-B"', '"<b>SUP B</b>"', 1)
    text = text.replace("../variants/", str(ROOT / "docs" / "variants") + "/")
    path = tmp_path / "s.json"
    path.write_text(text)
    assert_one_line_error(cli("run", str(path)), "to must be a Service User name")


def test_explain_shows_the_check_refusing() -> None:
    result = cli(
        "explain",
        "11.3",
        "--variant",
        str(VARIANT),
        "--status",
        "commissioned",
        "--device-type",
        "ESME",
        "--not-responsible",
    )
    assert result.returncode == 0
    assert "rejected DSP:NOT_RESPONSIBLE_SUPPLIER" in result.stdout
    assert "4. e5: not reached" in result.stdout
