"""Joins: the machine, E080801, success-only SMI updates, compliance, the MP178 story."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from checker.alphabet import join_srvs
from model import join_machine as jm
from model.dsp import step
from model.machines import LIVE
from model.provenance import TAGS
from model.type_2 import NOT_FOR_OTHER_DEVICE
from model.variant import load_variant
from model.world import DeviceSpec, DeviceState, ManualFix, PairSpec, Request, Setup, World
from tests.conftest import SCENARIOS, cli_json

STABLE = ("unjoined", "joined", "device_only", "smi_only")
#: The join SRVs a pair of an ESME and a CAD may use, by the message declarations (a CAD is a
#: Type 2 Device: Method B only, SR8.7.2 / SR8.8.2; issue 19, model/type_2.py).
JOIN, UNJOIN = join_srvs("CAD")


def setup(compliant: bool = True) -> Setup:
    return Setup(
        (DeviceSpec("esme1", "ESME", compliant=compliant), DeviceSpec("cad1", "CAD")),
        (PairSpec(0, 1),),
    )


def world(pair: str, status: str = "commissioned", prior: str | None = None) -> World:
    return World(
        frozenset({"F1"}),
        (DeviceState(status, prior, "F1", "F1"), DeviceState("commissioned", None, None, None)),
        (pair,),
    )


def serve(
    variant: str,
    pair: str,
    srv: str,
    lose: bool = False,
    compliant: bool = True,
    status: str = "commissioned",
):
    prior = "commissioned" if status == "suspended" else None
    return step(
        setup(compliant),
        world(pair, status, prior),
        Request(srv, 0, 1, lose_response=lose),
        load_variant(variant),
        LIVE,
    )


def test_every_join_transition_has_provenance_and_both_views() -> None:
    for row in jm.describe_transitions():
        assert row["provenance"] in TAGS and row["why"]
    assert {(v.smi, v.device) for s, v in jm.STATES.items() if s in STABLE} == {
        (False, False),
        (True, True),
        (False, True),
        (True, False),
    }


@given(
    st.sampled_from(STABLE),
    st.sampled_from(JOIN + UNJOIN),
    st.booleans(),
    st.booleans(),
    st.sampled_from(["baseline", "mp105", "mp178"]),
)
def test_the_smi_changes_only_on_a_success_response(
    pair: str, srv: str, lose: bool, compliant: bool, variant: str
) -> None:
    after, outcome = serve(variant, pair, srv, lose, compliant)
    before_view, after_view = jm.STATES[pair], jm.STATES[after.joins[0]]
    if after_view.smi != before_view.smi:
        assert outcome.response_code == "I0" and not lose
        assert after_view.smi == after_view.device  # the SMI follows the device
    if lose:
        assert outcome.response_code is None or not outcome.accepted


@given(st.sampled_from(STABLE), st.sampled_from(UNJOIN), st.booleans())
def test_baseline_and_mp105_reject_an_unjoin_the_smi_does_not_hold(
    pair: str, srv: str, lose: bool
) -> None:
    for variant in ("baseline", "mp105"):
        after, outcome = serve(variant, pair, srv, lose)
        if not jm.STATES[pair].smi:
            assert (outcome.accepted, outcome.response_code) == (False, "E080801")
            assert after.joins[0] == pair and not outcome.forwarded
        else:
            assert outcome.forwarded


@given(st.sampled_from(STABLE), st.sampled_from(UNJOIN))
def test_mp178_forwards_every_unjoin(pair: str, srv: str) -> None:
    _, outcome = serve("mp178", pair, srv)
    assert outcome.forwarded and outcome.response_code != "E080801"


@given(st.sampled_from(["joined", "device_only"]), st.sampled_from(JOIN))
def test_compliance_decides_a_re_sent_join(pair: str, srv: str) -> None:
    after, outcome = serve("baseline", pair, srv, compliant=True)
    assert outcome.response_code == "I0" and after.joins[0] == "joined"
    after, outcome = serve("baseline", pair, srv, compliant=False)
    assert outcome.response_code == "DEVICE:ALREADY_JOINED" and after.joins[0] == pair


def test_an_unjoin_for_a_pair_the_device_does_not_hold_is_refused() -> None:
    after, outcome = serve("mp178", "smi_only", "8.8.2")
    assert outcome.response_code == "DEVICE:NOT_JOINED" and after.joins[0] == "smi_only"


def test_check_e5_applies_to_a_suspended_target() -> None:
    _, non_critical = serve("mp178", "unjoined", "8.7.2", status="suspended")
    assert (non_critical.accepted, non_critical.response_code) == (False, "E51")
    # the Critical SR8.7.1 passes check E5, for a pair whose Other Device may use it (a Type 1
    # Device: a PPMID) ...
    ppmid = Setup((DeviceSpec("esme1", "ESME"), DeviceSpec("ppmid1", "PPMID")), (PairSpec(0, 1),))
    suspended = World(
        frozenset({"F1"}),
        (
            DeviceState("suspended", "commissioned", "F1", "F1"),
            DeviceState("commissioned", None, "F1", "F1"),
        ),
        ("unjoined",),
    )
    _, critical = step(ppmid, suspended, Request("8.7.1", 0, 1), load_variant("mp178"), LIVE)
    assert critical.accepted
    # ... and never for a CAD, which joins by Method B only (the message declarations): the
    # issue's Critical way round an E51 for a CAD pair is closed
    _, cad = serve("mp178", "unjoined", "8.7.1", status="suspended")
    assert (cad.accepted, cad.response_code) == (False, NOT_FOR_OTHER_DEVICE)


def test_manual_fix_sets_the_smi_to_the_device_view() -> None:
    for pair, fixed in (("device_only", "joined"), ("smi_only", "unjoined"), ("joined", "joined")):
        after, _ = step(setup(), world(pair), ManualFix(0), load_variant("baseline"), LIVE)
        assert after.joins[0] == fixed


def test_reconcile_from_read_device_log_is_a_variant_key(tmp_path) -> None:
    path = tmp_path / "reconcile.toml"
    path.write_text(
        'id = "reconcile"\nextends = "baseline"\n[joins]\nreconcile_smi_from_8_9 = true\n'
    )
    for variant, expected in (("baseline", "device_only"), (str(path), "joined")):
        after, outcome = step(
            setup(), world("device_only"), Request("8.9", 0), load_variant(variant), LIVE
        )
        assert after.joins[0] == expected and outcome.response_code == "I0"


def _last_join(report: dict) -> tuple[bool, bool]:
    join = report["steps"][-1]["joins"][0]
    return join["smi"], join["device"]


def test_mp178_story_under_baseline_is_stuck_joined_on_the_device_only() -> None:
    report = cli_json("run", str(SCENARIOS / "mp178-story-baseline.json"))
    assert [s["response_code"] for s in report["steps"]] == [
        None,
        "E080801",
        "DEVICE:ALREADY_JOINED",
    ]
    assert _last_join(report) == (False, True) and report["manual_fixes"] == 0


def test_mp178_story_under_baseline_needs_one_manual_fix() -> None:
    report = cli_json("run", str(SCENARIOS / "mp178-story-baseline-manual-fix.json"))
    assert _last_join(report) == (False, False)
    assert (report["manual_fixes"], report["manual_fix_cost_gbp"]) == (1, 2000)


def test_mp178_story_with_a_compliant_device_recovers_by_re_sending_the_join() -> None:
    report = cli_json("run", str(SCENARIOS / "mp178-story-baseline-compliant.json"))
    assert _last_join(report) == (True, True) and report["manual_fixes"] == 0


def test_mp178_story_under_mp178_ends_in_sync_without_a_manual_fix() -> None:
    report = cli_json("run", str(SCENARIOS / "mp178-story-mp178.json"))
    assert report["steps"][1]["response_code"] == "I0"
    assert all(j["smi"] == j["device"] for j in report["steps"][-1]["joins"])
    assert report["manual_fixes"] == 0
    for record in report["steps"]:
        assert len(record["joins"]) == 1  # both views of every join after every step
