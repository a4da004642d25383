"""Compile the two live machines into compact transition tables.

Nothing here restates a rule: the tables are filled by sending every event, in every state
the machine can be in, to the live python-statemachine chart and the live transitions
machine, and recording where each ends. A Hypothesis differential test
(``tests/test_tables.py``) drives live machines and tables with the same random event
sequences and requires identical results.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from model import join_machine, status_chart
from model.status_chart import OPERATIONAL, STATUSES, SUSPENDED, StatusState


def status_states() -> tuple[StatusState, ...]:
    """Every state of the status machine: each status, and Suspended with each prior."""
    plain = tuple((s, None) for s in STATUSES if s != SUSPENDED)
    return plain + tuple((SUSPENDED, p) for p in OPERATIONAL)


@dataclass(frozen=True, slots=True)
class CompiledMachines:
    """The :class:`model.machines.Machines` backend over compiled tables."""

    status_table: dict[tuple[StatusState, str, bool], StatusState]
    join_table: dict[tuple[str, str], str]

    def status(self, state: StatusState, event: str, version_on_cpl: bool = False) -> StatusState:
        return self.status_table[(state, event, version_on_cpl)]

    def join(self, state: str, event: str) -> str:
        return self.join_table[(state, event)]


@cache
def compiled() -> CompiledMachines:
    """Tables for every (state, event[, guard input]) of both machines, from the live ones."""
    status_table = {
        (state, event, guard): status_chart.fire(state, event, version_on_cpl=guard)
        for state in status_states()
        for event in status_chart.status_events()
        for guard in (False, True)
    }
    join_table = {
        (state, event): join_machine.fire(state, event)
        for state in join_machine.STATES
        for event in join_machine.EVENTS
    }
    return CompiledMachines(status_table, join_table)
