"""The DSP enforces what the device-type and message declarations say (issue 19): no SMI
status or firmware for a Type 2 Device, and the join SRVs a pair may use follow from its
device types (model/type_2.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.device_types import device_types, type_2_types
from model.dsp import SRV_STATUS_EVENTS, step
from model.machines import LIVE
from model.messages import srvs_doing
from model.type_2 import NO_SMI_RECORD, NOT_FOR_OTHER_DEVICE
from model.variant import load_variant
from model.world import DeviceSpec, DeviceState, PairSpec, Request, Setup, World
from tests.conftest import cli

TYPE_1 = sorted(t for t, d in device_types().items() if not d.type_2 and d.cpl_listed)
TYPE_2 = sorted(type_2_types())
BASELINE = load_variant("baseline")


def _pair_world(target: str, other: str) -> tuple[Setup, World]:
    setup = Setup((DeviceSpec("t1", target), DeviceSpec("o1", other)), (PairSpec(0, 1),))
    states = (
        DeviceState("commissioned", None, "F1", "F1"),
        DeviceState("commissioned", None, None, None),
    )
    return setup, World(frozenset({"F1"}), states, ("unjoined",))


@given(st.sampled_from(TYPE_2), st.sampled_from(sorted(SRV_STATUS_EVENTS)))
def test_the_dsp_refuses_a_status_for_a_type_2_device(kind: str, srv: str) -> None:
    setup = Setup((DeviceSpec("d1", kind),))
    world = World(frozenset({"F1"}), (DeviceState("commissioned", None, None, None),))
    after, outcome = step(setup, world, Request(srv, 0), BASELINE, LIVE)
    assert after == world
    assert (outcome.accepted, outcome.response_code) == (False, NO_SMI_RECORD)
    assert outcome.rule is not None and outcome.rule.id == f"device_types.{kind}"


@given(st.sampled_from(TYPE_2), st.sampled_from(["11.1", "11.3", "11.4"]))
def test_the_dsp_refuses_firmware_for_a_type_2_device(kind: str, srv: str) -> None:
    setup = Setup((DeviceSpec("d1", kind),))
    world = World(frozenset({"F1"}), (DeviceState("commissioned", None, None, None),))
    _, outcome = step(setup, world, Request(srv, 0, image="F1"), BASELINE, LIVE)
    assert outcome.response_code == NO_SMI_RECORD


@given(
    st.sampled_from(TYPE_1[:2]),
    st.sampled_from(TYPE_2 + TYPE_1),
    st.sampled_from(
        srvs_doing(BASELINE.messages, "join") + srvs_doing(BASELINE.messages, "unjoin")
    ),
)
def test_a_pairs_join_srv_follows_from_its_device_types(target: str, other: str, srv: str) -> None:
    """Refused exactly where the message row is declared for Type 1 Other Devices only and the
    Other Device is a Type 2 Device (by the declarations, never by a type's name)."""
    setup, world = _pair_world(target, other)
    _, outcome = step(setup, world, Request(srv, 0, 1), BASELINE, LIVE)
    barred = BASELINE.messages[srv].other_devices == "type-1" and device_types()[other].type_2
    assert (outcome.response_code == NOT_FOR_OTHER_DEVICE) == barred


def test_the_issue_s_cad_unjoin_by_sr8_8_1_is_refused() -> None:
    """The issue's example: a CAD pair unjoined with the Critical SR8.8.1."""
    setup, world = _pair_world("ESME", "CAD")
    world = World(world.cpl, world.devices, ("joined",))
    after, outcome = step(setup, world, Request("8.8.1", 0, 1), BASELINE, LIVE)
    assert after.joins == ("joined",) and outcome.response_code == NOT_FOR_OTHER_DEVICE


@pytest.mark.parametrize(
    ("device", "named"),
    [
        ({"status": "suspended", "prior_status": "commissioned"}, "status, prior_status"),
        ({"firmware": "F1"}, "firmware"),
        ({"smi_firmware": "F2"}, "smi_firmware"),
    ],
)
def test_done_when_run_refuses_a_cad_with_an_smi_record(
    tmp_path: Path, device: dict[str, str], named: str
) -> None:
    scenario = {
        "variant": "baseline",
        "devices": [
            {"id": "esme1", "type": "ESME", "firmware": "F1"},
            {"id": "cad1", "type": "CAD", **device},
        ],
        "steps": [],
    }
    path = tmp_path / "cad.json"
    path.write_text(json.dumps(scenario), encoding="utf-8")
    done = cli("run", str(path))
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Type 2" in lines[0] and f"remove {named}" in lines[0]


def test_explain_refuses_a_status_for_a_type_2_device() -> None:
    done = cli("explain", "8.7.2", "--device-type", "CAD", "--status", "suspended")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
