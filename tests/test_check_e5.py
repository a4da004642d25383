"""Check E5 for a Suspended device: critical, the exception list and its conditions."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from model.catalogue import catalogue
from model.dsp import check_e5
from model.status_chart import OPERATIONAL
from model.variant import load_variant
from tests.conftest import cli_json

SRVS = st.sampled_from(sorted(catalogue()))
CVS = st.integers(min_value=1, max_value=8)
SMETS = st.sampled_from([1, 2])
BASELINE_EXCEPTIONS = {"11.1", "6.23"}
#: Non-Device Requests the baseline's Suspended row does not gate (each an assumption).
UNGATED = {"8.2", "8.3", "8.4", "5.2", "5.3"}


def test_done_when_explain_11_2_suspended() -> None:
    baseline = cli_json("explain", "11.2", "--variant", "baseline", "--status", "suspended")
    assert (baseline["accepted"], baseline["response_code"]) == (False, "E51")
    assert baseline["source"] == "seed:MP105"
    mp105 = cli_json("explain", "11.2", "--variant", "mp105", "--status", "suspended")
    assert mp105["accepted"] is True
    assert set(mp105) >= {"srv", "status", "variant", "accepted", "response_code", "rule", "source"}


def test_done_when_top_up_command_variant_2_for_smets1_only() -> None:
    cv2 = cli_json(
        "explain", "2.2", "--status", "suspended", "--command-variant", "2", "--smets", "1"
    )
    cv1 = cli_json(
        "explain", "2.2", "--status", "suspended", "--command-variant", "1", "--smets", "1"
    )
    assert cv2["accepted"] is True
    assert (cv1["accepted"], cv1["response_code"]) == (False, "E51")


@given(SRVS, CVS, SMETS, st.sampled_from(["baseline", "mp105", "mp178"]))
def test_any_critical_srv_is_accepted_while_suspended(
    srv: str, cv: int, smets: int, v: str
) -> None:
    if catalogue()[srv].critical:
        assert check_e5(load_variant(v), srv, "suspended", cv, smets).accepted


@given(SRVS, CVS, SMETS)
def test_baseline_rejects_every_other_non_critical_srv_with_e51(
    srv: str, cv: int, smets: int
) -> None:
    decision = check_e5(load_variant("baseline"), srv, "suspended", cv, smets)
    entry = catalogue()[srv]
    expected = (
        entry.critical
        or srv in BASELINE_EXCEPTIONS
        or (srv == "2.2" and cv == 2 and smets == 1)
        or (entry.non_device and srv in UNGATED)
    )
    assert decision.accepted == expected
    if not expected:
        assert decision.response_code == "E51"


@given(SRVS, CVS, SMETS)
def test_mp105_differs_from_baseline_only_for_11_2_and_11_4(srv: str, cv: int, smets: int) -> None:
    """SR11.2 (seed:MP105) and SR11.4, SECMP0007's PPMID firmware in the same November 2021
    release (assumption, docs/assumptions.md)."""
    base = check_e5(load_variant("baseline"), srv, "suspended", cv, smets)
    mp105 = check_e5(load_variant("mp105"), srv, "suspended", cv, smets)
    assert (base.accepted != mp105.accepted) == (srv in ("11.2", "11.4"))
    if srv == "11.4":
        assert mp105.rule.source == "assumption"


@given(st.sampled_from(sorted(BASELINE_EXCEPTIONS | {"2.2", "11.2"})), CVS, SMETS)
def test_each_exception_entry_names_its_rule_and_source(srv: str, cv: int, smets: int) -> None:
    decision = check_e5(load_variant("mp105"), srv, "suspended", cv, smets)
    if decision.accepted:
        assert decision.rule.id.startswith("suspended.exceptions[")
        assert decision.rule.source == "seed:MP105"


@given(SRVS, st.sampled_from(OPERATIONAL))
def test_operational_statuses_are_not_restricted_by_the_suspended_rule(
    srv: str, status: str
) -> None:
    assert check_e5(load_variant("baseline"), srv, status).accepted


@given(SRVS, st.sampled_from(["decommissioned", "withdrawn"]))
def test_terminal_statuses_reject_every_request(srv: str, status: str) -> None:
    decision = check_e5(load_variant("mp178"), srv, status)
    assert not decision.accepted and decision.rule.source == "assumption"
