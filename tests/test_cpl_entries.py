"""The CPL as entries (issue 18, part 6): device type and model, firmware version, GBCS
version and the DCC's listing events; removal reasons from DUIS's CPLStatus
(``model/data/cpl.json``), and a variant's ``[cpl.reasons.NAME]`` row saying what a removal
for that reason does and to whom (``device_types``).

What would break a test: a start CPL that keeps a removed entry's version, a reason row
whose ``device_types`` is ignored, a data reason the schema does not have, an entry error
that is a traceback or names no entry.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from defusedxml import ElementTree
from hypothesis import given
from hypothesis import strategies as st

from model.cpl import listing_events, removal_reasons
from model.dsp import StepNotAllowed, step
from model.machines import LIVE
from model.scenario import load_scenario, run
from model.variant import load_variant
from model.world import CplChange, DeviceSpec, DeviceState, Setup, World
from tests.conftest import ROOT, SHARED, assert_one_line_error, cli, needs_shared

VARIANT = ROOT / "docs" / "variants" / "cpl-expiry-suspends-meters-only.toml"
SCENARIO = ROOT / "docs" / "scenarios" / "cpl-entries.json"
CPL_TYPES = ("ESME", "GSME", "PPMID", "HCALCS")
XS = "{http://www.w3.org/2001/XMLSchema}"


@needs_shared()
def test_the_reasons_are_duis_cpl_statuses() -> None:
    """Every duis row of cpl.json names a value of the schema's CPLStatus: the listed event
    Active, each removal reason one of the others, all of them covered."""
    schema = ElementTree.parse(str(SHARED / "reference" / "duis-schema" / "DUIS Schema V5.4.xsd"))
    (status,) = schema.getroot().findall(f"{XS}simpleType[@name='CPLStatus']")
    values = {e.get("value") for e in status.iter(f"{XS}enumeration")}
    assert listing_events()["listed"].cpl_status == "Active"
    reasons = {r.cpl_status for r in removal_reasons().values()}
    assert reasons | {"Active"} == values
    for row in (*listing_events().values(), *removal_reasons().values()):
        assert row.why and row.source in ("duis", "seed:MP105")
        if row.source == "duis":
            assert row.cpl_status in values


EVENTS = st.lists(
    st.sampled_from(
        [{"event": "listed"}, {"event": "removed"}, {"event": "removed", "reason": "expired"}]
    ),
    min_size=1,
    max_size=4,
)


@given(
    entries=st.lists(
        st.tuples(st.sampled_from(["F0", "F1", "F2"]), st.sampled_from(CPL_TYPES), EVENTS),
        min_size=1,
        max_size=5,
    )
)
def test_the_start_cpl_is_the_versions_whose_latest_event_is_listed(
    entries: list[tuple[str, str, list[dict[str, str]]]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    document = json.loads(SCENARIO.read_text(encoding="utf-8"))
    document["variant"] = str(VARIANT)
    document["cpl"] = [{"version": v, "device_type": t, "events": e} for v, t, e in entries]
    path = tmp_path_factory.mktemp("cpl") / "s.json"
    path.write_text(json.dumps(document))
    scenario = load_scenario(str(path))
    assert scenario.start.cpl == {v for v, _, e in entries if e[-1]["event"] == "listed"}
    assert [e.listed for e in scenario.cpl_entries] == [
        e[-1]["event"] == "listed" for _, _, e in entries
    ]


@given(
    device_type=st.sampled_from(CPL_TYPES),
    reason=st.sampled_from(["withdrawn", "expired", "cancelled"]),
)
def test_a_removal_suspends_whom_its_reason_row_names(device_type: str, reason: str) -> None:
    """withdrawn: every type (its row); expired: ESME and GSME only (its row); cancelled:
    no row, so as removal_suspends says (every operational device)."""
    v = load_variant(str(VARIANT))
    setup = Setup((DeviceSpec("d1", device_type),))
    world = World(frozenset({"F1"}), (DeviceState("commissioned", None, "F1", "F1"),))
    after, outcome = step(setup, world, CplChange("F1", False, reason), v, LIVE)
    suspended = after.devices[0].status == "suspended"
    assert suspended is (reason != "expired" or device_type in ("ESME", "GSME"))
    assert outcome.rule is not None and outcome.rule.id == f"cpl.reasons.{reason}"
    expected = "duis" if reason == "cancelled" else v.cpl.reason(reason).source  # type: ignore[union-attr]
    assert outcome.rule.source == expected


def test_an_unknown_reason_is_refused() -> None:
    v = load_variant(str(VARIANT))
    setup = Setup((DeviceSpec("d1", "ESME"),))
    world = World(frozenset({"F1"}), (DeviceState("commissioned", None, "F1", "F1"),))
    with pytest.raises(StepNotAllowed, match="unknown CPL removal reason 'lost'"):
        step(setup, world, CplChange("F1", False, "lost"), v, LIVE)


def test_the_scenario_suspends_the_meter_and_not_the_ppmid() -> None:
    report = run(load_scenario(str(SCENARIO)))
    assert report["start"]["cpl"] == ["F1"]
    after = report["steps"][0]["devices"]
    assert (after["esme1"]["status"], after["ppmid1"]["status"]) == ("suspended", "commissioned")
    assert [e["listed"] for e in report["cpl_entries"]] == [False, True, True]


BAD_ENTRIES = {
    "unknown key": ({"version": "F1", "device_type": "ESME", "colour": "red"}, "unknown key"),
    "unknown type": ({"version": "F1", "device_type": "TOASTER"}, "unknown device type"),
    "no version": ({"device_type": "ESME"}, "needs a version"),
    "reason on a listing": (
        {"version": "F1", "device_type": "ESME", "events": [{"event": "listed", "reason": "x"}]},
        "only a removal names one",
    ),
    "unknown event": (
        {"version": "F1", "device_type": "ESME", "events": [{"event": "relisted"}]},
        "event must be one of",
    ),
    "version not text": ({"version": 7, "device_type": "ESME"}, "version must be a str"),
}


@pytest.mark.parametrize("case", sorted(BAD_ENTRIES))
def test_a_bad_entry_is_one_line_naming_it(case: str, tmp_path: Path) -> None:
    entry, message = BAD_ENTRIES[case]
    document = json.loads(SCENARIO.read_text(encoding="utf-8"))
    document["variant"] = str(VARIANT)
    document["cpl"] = ["F1", entry]
    path = tmp_path / "s.json"
    path.write_text(json.dumps(document))
    assert_one_line_error(cli("run", str(path)), "cpl[2]", message)


def test_a_reason_row_for_a_type_not_on_the_cpl_is_a_warning_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "v.toml"
    path.write_text(
        'id = "v"\nextends = "mp105"\n[cpl.reasons.expired]\nsuspends = true\n'
        'device_types = ["ESME", "IHD"]\n'
    )
    result = cli("explain", "11.2", "--variant", str(path))
    assert result.returncode == 0
    assert f"{path}:5: cpl.reasons.expired.device_types: IHD is not on the CPL" in result.stderr
    path.write_text(
        'id = "v"\nextends = "mp105"\n[cpl.reasons.expired]\nsuspends = true\n'
        'device_types = ["TOASTER"]\n'
    )
    assert_one_line_error(
        cli("explain", "11.2", "--variant", str(path)), f"{path}:5:", "must list device types"
    )
