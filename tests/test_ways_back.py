"""What a way back may use (properties/ways_back.py): DP105's meaning of recovery. A way back
that the DCC's re-listing of the withdrawn version could take would hide the seeds' defect."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from checker.causes import causes
from checker.explorer import explore_all
from model.property_ids import FIRMWARE_RECOVERABLE, JOIN_RECOVERABLE, SUSPENSION_RECOVERABLE
from model.variant import load_variant
from model.world import CplChange, DccEvent, DeviceState, ManualFix, Request, World
from properties.ways_back import WAY_BACK, is_recovery_action
from tests.conftest import ROOT

FIRMWARE = (FIRMWARE_RECOVERABLE, SUSPENSION_RECOVERABLE)
RELISTING = ROOT / "docs" / "variants" / "cpl-relisting-restores.toml"


@given(st.sampled_from(FIRMWARE), st.sampled_from(["F1", "F2"]), st.booleans())
def test_no_cpl_change_is_a_firmware_way_back(prop: str, version: str, listed: bool) -> None:
    assert not is_recovery_action(prop, CplChange(version, listed))


@given(st.sampled_from(sorted(WAY_BACK)), st.integers(0, 3))
def test_no_manual_fix_or_dcc_event_is_a_way_back(prop: str, pair: int) -> None:
    assert not is_recovery_action(prop, ManualFix(pair))
    assert not is_recovery_action(prop, DccEvent("recover", 0))


@given(st.sampled_from(sorted(WAY_BACK)), st.sampled_from(["11.3", "11.2", "8.7.2", "8.8.2"]))
def test_a_re_sent_request_is_a_way_back_and_a_lost_one_is_not(prop: str, srv: str) -> None:
    assert is_recovery_action(prop, Request(srv, 0))
    assert not is_recovery_action(prop, Request(srv, 0, lose_response=True))


@given(st.sampled_from(["F1", "F2"]), st.sampled_from(["F1", "F2"]))
def test_a_new_image_is_a_firmware_way_back_only_where_the_smi_is_in_step(
    smi: str, runs: str
) -> None:
    """DP105: once the SMI has lost track of the version a device runs, only "another new
    firmware update" helps, and that is the defect; to a device whose SMI is in step, an
    update to a listed version is the designed way out of a CPL suspension."""
    world = World(frozenset({"F1", "F2"}), (DeviceState("suspended", "commissioned", smi, runs),))
    image = Request("11.1", 0, image="F2")
    assert [is_recovery_action(p, image, world) for p in FIRMWARE] == [smi == runs] * 2
    assert [is_recovery_action(p, image) for p in FIRMWARE] == [False, False]
    assert is_recovery_action(JOIN_RECOVERABLE, image, world)


def test_done_when_relisting_the_withdrawn_version_is_no_way_back() -> None:
    """With re-listing restoring (an assumption flipped), the seeds' story is still reachable
    and still strands the meters: suspension-recoverable is violated, by the lost SR11.3."""
    variant = load_variant(str(RELISTING))
    for e in explore_all(variant, properties=[SUSPENSION_RECOVERABLE]):
        if e.system.target not in ("ESME", "GSME"):
            continue
        assert e.result(SUSPENSION_RECOVERABLE).verdict == "violated"
        first = causes(e, SUSPENSION_RECOVERABLE)[0]
        assert first.faults == ["lost SR11.3 response"] and first.tag == "seed:MP105"
        assert not any(
            isinstance(e.universe.actions[a], CplChange) and e.universe.actions[a].listed
            for a in first.actions
        )


def test_the_properties_doc_lists_each_way_back_as_the_table_says() -> None:
    doc = (ROOT / "docs" / "properties.md").read_text(encoding="utf-8")
    for prop, way in WAY_BACK.items():
        assert f"- `{prop}`: {way.describe()}" in doc
