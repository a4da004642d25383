"""A new Service Request with no code change (issue 18, part 2): a variant declares
``[requests."SRV"]`` (name, Critical or not, Eligible User Roles) with its applicability,
what it does (``[messages]``), its place in check E5's rows and the SMI update on its
response, and ``check``, ``explain`` and ``run`` all see it.

What would break a test: an explorer that never sends the new request (a PPMID would stay
stranded, as under mp105), a role check that answers from the DUIS catalogue, a
declared SRV taken where it clashes with DUIS's or lacks its applicability.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.explorer import Bounds, System, explore
from model.dsp import step
from model.machines import LIVE
from model.scenario import load_scenario, run
from model.variant import load_variant
from model.world import DeviceSpec, DeviceState, Request, Setup, World
from tests.conftest import ROOT, assert_one_line_error, cli, cli_json

VARIANT = ROOT / "docs" / "variants" / "new-srv-read-ppmid-firmware.toml"
SCENARIO = ROOT / "docs" / "scenarios" / "new-srv-read-ppmid-firmware.json"


@pytest.mark.parametrize("device_type", ["PPMID", "HCALCS"])
def test_check_explores_the_new_request_and_it_unstrands_the_device(device_type: str) -> None:
    v = load_variant(str(VARIANT))
    ids = ("firmware-recoverable", "suspension-recoverable", "suspended-gate")
    explored = explore(v, Bounds(), ids, system=System(device_type))
    sent = {a.srv for a in explored.universe.actions if isinstance(a, Request)}
    assert "11.9" in sent
    assert {p: explored.result(p).verdict for p in ids} == dict.fromkeys(ids, "holds")
    # Without it: a PPMID whose CS09 alert is lost stays stranded under mp105; an HCALCS has
    # MP105's SR11.3 re-attempt from the November 2021 release (SECMP0007's route) already.
    plain = explore(load_variant("mp105"), Bounds(), ids[:1], system=System(device_type))
    assert plain.result(ids[0]).verdict == ("violated" if device_type == "PPMID" else "holds")


def test_explain_reads_the_declared_request_and_its_roles() -> None:
    document = cli_json(
        "explain",
        "11.9",
        "--variant",
        str(VARIANT),
        "--status",
        "suspended",
        "--device-type",
        "PPMID",
        "--role",
        "ES",
    )
    assert (document["accepted"], document["response_code"]) == (False, "DSP:ROLE_NOT_ELIGIBLE")
    role = document["checks"][1]
    assert role["rule_id"] == "roles[11.9]" and role["source"] == "assumption"
    assert "[requests]" in role["text"]
    accepted = cli_json(
        "explain", "SR11.9", "--variant", str(VARIANT), "--status", "suspended", "--role", "IS"
    )
    assert accepted["rule_id"] == "suspended.exceptions[4]"


def test_run_reads_the_new_request_and_the_smi_follows_its_response() -> None:
    report = run(load_scenario(str(SCENARIO)))
    last = report["steps"][-1]
    assert (last["accepted"], last["response_code"]) == (True, "I0")
    assert last["devices"]["ppmid1"]["status"] == "commissioned"
    assert last["devices"]["ppmid1"]["smi_firmware"] == "F2"


def test_the_declared_request_is_critical_where_its_row_says(tmp_path: Path) -> None:
    """The row's ``critical`` decides check E5 on the Suspended row (Critical requests pass;
    this Non-Critical one is on no exception list)."""
    setup = Setup((DeviceSpec("ppmid1", "PPMID"),))
    world = World(frozenset({"F2"}), (DeviceState("suspended", "commissioned", "F1", "F2"),))
    for srv, critical in (("11.6", False), ("11.7", True)):
        path = tmp_path / f"v{srv}.toml"
        path.write_text(
            f'id = "v{srv}"\nextends = "mp105"\n[requests."{srv}"]\nname = "Test {srv}"\n'
            f'critical = {str(critical).lower()}\nroles = ["IS"]\n'
            f'[applicability."{srv}"]\ndevice_types = ["PPMID"]\n'
        )
        outcome = step(setup, world, Request(srv, 0), load_variant(str(path)), LIVE)[1]
        assert outcome.accepted is critical, (srv, outcome)
        if not critical:
            assert outcome.response_code == "E51"


BAD = {
    "a DUIS SRV": ('[requests."11.2"]\nname = "x"\ncritical = false\nroles = ["IS"]\n', "11.2"),
    "no applicability": (
        '[requests."11.8"]\nname = "x"\ncritical = false\nroles = ["IS"]\n',
        'needs an [applicability."11.8"] row',
    ),
    "a bad role": (
        '[requests."11.8"]\nname = "x"\ncritical = false\nroles = ["KING"]\n'
        '[applicability."11.8"]\ndevice_types = ["ESME"]\n',
        "must list role codes",
    ),
    "no name": (
        '[requests."11.8"]\ncritical = false\nroles = ["IS"]\n'
        '[applicability."11.8"]\ndevice_types = ["ESME"]\n',
        "name: missing",
    ),
    "not an SRV": ('[requests."read-it"]\nname = "x"\n', "an SRV is numbers and dots"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_declaration_is_an_error_at_its_line(case: str, tmp_path: Path) -> None:
    body, message = BAD[case]
    path = tmp_path / "v.toml"
    path.write_text('id = "v"\nextends = "mp105"\n' + body)
    assert_one_line_error(cli("explain", "8.3", "--variant", str(path)), f"{path}:", message)


def test_a_test_pack_refuses_a_request_duis_has_no_template_for(tmp_path: Path) -> None:
    """A declared request has no DUIS message: testpack says so in one line and writes
    nothing, rather than a pack the DUIS schema would refuse."""
    out = tmp_path / "pack"
    result = cli("testpack", "--variant", str(VARIANT), "--out", str(out))
    assert_one_line_error(result, "no DUIS request template for SR11.9")
    assert not out.exists()
