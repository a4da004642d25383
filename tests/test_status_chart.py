"""The device status statechart: history, guards, provenance, unique ids."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from model import status_chart as chart
from model.provenance import TAGS
from model.status_chart import OPERATIONAL, STATUSES, DeviceStatusChart

LIFE_CYCLE = ("whitelist", "join_han", "commission")


def test_the_chart_has_every_duis_status_and_unique_state_ids() -> None:
    leaves = {s.id for s in DeviceStatusChart.states_map.values() if not s.states}
    assert set(STATUSES) <= leaves
    ids = [s.id for s in DeviceStatusChart.states_map.values()]
    assert len(ids) == len(set(ids))
    assert OPERATIONAL == ("pending", "whitelisted", "installed_not_commissioned", "commissioned")


def test_every_transition_carries_a_known_provenance_tag() -> None:
    rows = chart.describe_transitions()
    assert rows
    for row in rows:
        assert row["provenance"] in TAGS, row
        assert row["why"], row
    by_event = {r["event"]: r["provenance"] for r in rows}
    assert by_event["suspend_on_cpl_removal"] == "seed:MP105"
    assert by_event["restore_prior_status"] == "seed:MP105"
    assert by_event["commission"] == "assumption"


@given(st.lists(st.sampled_from(LIFE_CYCLE), max_size=4))
def test_restoration_returns_exactly_the_status_held_before_suspension(path: list[str]) -> None:
    state: chart.StatusState = ("pending", None)
    for event in path:
        state = chart.fire(state, event)
    before = state[0]
    suspended = chart.fire(state, "suspend_on_cpl_removal")
    assert suspended == ("suspended", before)
    assert chart.fire(suspended, "restore_prior_status", version_on_cpl=True) == (before, None)


@given(st.sampled_from(OPERATIONAL), st.sampled_from(OPERATIONAL))
def test_a_second_suspension_remembers_the_newer_status(first: str, second: str) -> None:
    state = chart.fire((first, None), "suspend_on_cpl_removal")
    state = chart.fire(state, "restore_prior_status", version_on_cpl=True)
    assert state == (first, None)
    again = chart.fire((second, None), "suspend_on_cpl_removal")
    assert chart.fire(again, "restore_prior_status", version_on_cpl=True) == (second, None)


@given(st.sampled_from(OPERATIONAL))
def test_no_restoration_while_the_new_version_is_off_the_cpl(prior: str) -> None:
    suspended: chart.StatusState = ("suspended", prior)
    assert chart.fire(suspended, "restore_prior_status", version_on_cpl=False) == suspended


@given(st.sampled_from(OPERATIONAL))
def test_life_cycle_events_do_not_move_a_suspended_device(prior: str) -> None:
    for event in LIFE_CYCLE:
        assert chart.fire(("suspended", prior), event) == ("suspended", prior)


def test_decommissioning_and_withdrawal_leave_suspended_for_good() -> None:
    assert chart.fire(("suspended", "commissioned"), "decommission") == ("decommissioned", None)
    assert chart.fire(("suspended", "pending"), "withdraw") == ("withdrawn", None)
    assert not chart.enabled(("decommissioned", None), "restore_prior_status")


def test_recovery_is_outside_the_suspendable_statuses() -> None:
    assert chart.fire(("commissioned", None), "start_recovery") == ("recovery", None)
    assert chart.fire(("recovery", None), "suspend_on_cpl_removal") == ("recovery", None)
    assert chart.fire(("recovery", None), "complete_recovery") == ("recovered", None)
