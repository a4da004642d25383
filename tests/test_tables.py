"""Differential test: the compiled tables and the live machines agree on every sequence."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from checker.explorer import Bounds, universe
from checker.machine_tables import compiled, status_states
from model import join_machine, status_chart
from model.dsp import StepNotAllowed, step
from model.machines import LIVE
from model.variant import load_variant

STATUS_EVENTS = st.tuples(st.sampled_from(status_chart.status_events()), st.booleans())


@settings(max_examples=150)
@given(st.sampled_from(status_states()), st.lists(STATUS_EVENTS, max_size=12))
def test_status_chart_and_its_table_agree(start: status_chart.StatusState, events: list) -> None:
    tables = compiled()
    chart = status_chart.chart_at(start)  # one live chart, driven through the whole sequence
    state = start
    for event, guard in events:
        chart.send(event, version_on_cpl=guard)
        state = tables.status(state, event, guard)
        assert status_chart.state_of(chart) == state


@settings(max_examples=150)
@given(
    st.sampled_from(list(join_machine.STATES)),
    st.lists(st.sampled_from(join_machine.EVENTS), max_size=12),
)
def test_join_machine_and_its_table_agree(start: str, events: list[str]) -> None:
    tables = compiled()
    pair = join_machine.JoinPair("esme1", "cad1")
    join_machine.build_machine(pair, initial=start)
    state = start
    for event in events:
        pair.trigger(event)  # type: ignore[attr-defined]
        state = tables.join(state, event)
        assert pair.state == state


WORLD = universe(
    Bounds(meters=1, cads=1, versions=3, max_lost=3, dcc_events=True), load_variant("mp105")
)


@settings(max_examples=100)
@given(
    st.sampled_from(WORLD.starts),
    st.lists(st.sampled_from(WORLD.actions), max_size=15),
    st.sampled_from(["baseline", "mp105", "mp178"]),
)
def test_the_whole_system_runs_the_same_on_live_machines_and_tables(
    start, actions, variant
) -> None:
    rules = load_variant(variant)
    setup = WORLD.setups[start[0]]
    live = tabled = start[1]
    for action in actions:
        try:
            live, live_outcome = step(setup, live, action, rules, LIVE)
        except StepNotAllowed:
            try:
                step(setup, tabled, action, rules, compiled())
            except StepNotAllowed:
                continue
            raise AssertionError("the tables allow a step the live machines refuse") from None
        tabled, table_outcome = step(setup, tabled, action, rules, compiled())
        assert (live, live_outcome) == (tabled, table_outcome)
