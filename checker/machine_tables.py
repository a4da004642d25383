"""Compile the two live machines into compact transition tables.

Nothing here restates a rule: the tables are filled by sending an event, in a state the
machine can be in, to the live python-statemachine chart and the live transitions machine,
and recording where it ends; each entry the first time it is asked for. A Hypothesis
differential test (``tests/test_tables.py``) drives live machines and tables with the same
random event sequences and requires identical results.
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
    """The :class:`model.machines.Machines` backend over compiled tables.

    Each entry is compiled the first time it is asked for: a check asks for a few dozen of
    the 324, and each costs a live chart (issue 23). A key outside the machines' states and
    events is a KeyError, as in a table compiled whole."""

    status_table: dict[tuple[StatusState, str, bool], StatusState]
    join_table: dict[tuple[str, str], str]
    status_keys: frozenset[tuple[StatusState, str, bool]]
    join_keys: frozenset[tuple[str, str]]

    def status(self, state: StatusState, event: str, version_on_cpl: bool = False) -> StatusState:
        key = (state, event, version_on_cpl)
        found = self.status_table.get(key)
        if found is None:
            if key not in self.status_keys:
                raise KeyError(key)
            found = self.status_table[key] = status_chart.fire(
                state, event, version_on_cpl=version_on_cpl
            )
        return found

    def join(self, state: str, event: str) -> str:
        key = (state, event)
        found = self.join_table.get(key)
        if found is None:
            if key not in self.join_keys:
                raise KeyError(key)
            found = self.join_table[key] = join_machine.fire(state, event)
        return found


@cache
def compiled() -> CompiledMachines:
    """Tables for every (state, event[, guard input]) of both machines, from the live ones
    (each entry when first asked for)."""
    status_keys = frozenset(
        (state, event, guard)
        for state in status_states()
        for event in status_chart.status_events()
        for guard in (False, True)
    )
    join_keys = frozenset(
        (state, event) for state in join_machine.STATES for event in join_machine.EVENTS
    )
    return CompiledMachines({}, {}, status_keys, join_keys)
