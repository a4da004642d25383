"""How the DSP moves the two machines: through the live machines, or compiled tables.

The DSP's rules are written once, against :class:`Machines`. :data:`LIVE` sends each event
to a live python-statemachine chart or transitions machine; the explorer passes compiled
tables built from those same live machines (``checker/machine_tables.py``).
"""

from __future__ import annotations

from typing import Protocol

from model import join_machine, status_chart
from model.status_chart import StatusState


class Machines(Protocol):
    def status(self, state: StatusState, event: str, version_on_cpl: bool = False) -> StatusState:
        """The status state after ``event`` (unchanged when the event has no transition)."""
        ...

    def join(self, state: str, event: str) -> str:
        """The join state after ``event`` (unchanged when the event has no transition)."""
        ...


class LiveMachines:
    """Each event is sent to a live machine put in the given state."""

    def status(self, state: StatusState, event: str, version_on_cpl: bool = False) -> StatusState:
        return status_chart.fire(state, event, version_on_cpl=version_on_cpl)

    def join(self, state: str, event: str) -> str:
        return join_machine.fire(state, event)


LIVE = LiveMachines()
