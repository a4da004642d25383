"""The SMI device status statechart (python-statemachine), written once.

Every other view of the device status rules (diagrams, the explorer's compiled tables, the
docs) is derived from :class:`DeviceStatusChart`.

The statuses are those of DUIS (source: duis). Suspension on the Central Products List and
the return to the status held immediately before it are facts of MP105 (source: seed:MP105):
``suspended`` is entered from the operational statuses, grouped in the compound state
``operational``, and left through that compound's shallow ``HistoryState``, so exactly the
remembered status comes back. The other life-cycle transitions are assumptions of this model,
each tagged so a spec author can correct it in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from statemachine import HistoryState, State, StateChart

from model.provenance import ASSUMPTION, SEED_MP105, check_tag


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a transition comes from, and what triggers it (an SRV, or a DCC event).

    ``external`` marks events sent from outside the DSP's rules (a HAN join, a DCC
    withdrawal or recovery): scenarios and the explorer send them directly.
    """

    source: str
    trigger: str
    why: str
    external: bool = False


def tagged(transitions: Any, source: str, trigger: str, why: str, external: bool = False) -> Any:
    """Attach provenance to every transition of an event, at the place it is defined."""
    check_tag(source)
    for transition in transitions.transitions:
        transition.provenance = Provenance(source, trigger, why, external)  # type: ignore[attr-defined]
    return transitions


class DeviceStatusChart(StateChart):  # type: ignore[misc]
    """The SMI status of one device (statuses: duis; suspension and history: seed:MP105)."""

    allow_event_without_transition = True

    class operational(State.Compound, name="Operational statuses"):  # type: ignore[misc]
        """The statuses a CPL removal suspends, and to which restoration returns."""

        pending = State("Pending", initial=True)
        whitelisted = State("Whitelisted")
        installed_not_commissioned = State("Installed Not Commissioned")
        commissioned = State("Commissioned")
        # Globally unique id: two same-named HistoryStates were seen to resume the wrong compound.
        operational_history = HistoryState()

        whitelist = tagged(
            pending.to(whitelisted),
            ASSUMPTION,
            "SR8.11",
            "an Update HAN Device Log adding the device to the CHF's log whitelists it",
        )
        join_han = tagged(
            whitelisted.to(installed_not_commissioned),
            ASSUMPTION,
            "HAN join",
            "the device joining the HAN makes it Installed Not Commissioned",
            external=True,
        )
        commission = tagged(
            installed_not_commissioned.to(commissioned),
            ASSUMPTION,
            "SR8.1.1",
            "a successful Commission Device response commissions it",
        )

    suspended = State("Suspended")
    decommissioned = State("Decommissioned", final=True)
    withdrawn = State("Withdrawn", final=True)
    recovery = State("Recovery")
    recovered = State("Recovered")

    suspend_on_cpl_removal = tagged(
        operational.to(suspended),
        SEED_MP105,
        "CPL removal",
        "removing the device's SMI firmware version from the CPL suspends it",
    )
    suspend_on_off_cpl_update = tagged(
        operational.to(suspended),
        ASSUMPTION,
        "SMI firmware set off the CPL",
        "the DSP keeps 'Suspended exactly when the SMI firmware is off the CPL' when the "
        "SMI firmware itself changes, as it does when the CPL changes",
    )
    restore_prior_status = tagged(
        suspended.to(operational.operational_history, cond="version_on_cpl"),
        SEED_MP105,
        "SMI firmware updated",
        "an SMI firmware update to a version on the CPL restores the status held "
        "immediately before suspension",
    )
    restore_on_cpl_relisting = tagged(
        suspended.to(operational.operational_history),
        ASSUMPTION,
        "CPL re-listing",
        "re-listing the version a device was suspended on restores the status held immediately "
        "before suspension, where the variant's [cpl] relisting_restores says so",
    )
    decommission = tagged(
        operational.to(decommissioned)
        | suspended.to(decommissioned)
        | recovered.to(decommissioned),
        ASSUMPTION,
        "SR8.3",
        "a Decommission Device request decommissions a device in any live status",
    )
    withdraw = tagged(
        operational.to(withdrawn) | suspended.to(withdrawn),
        ASSUMPTION,
        "DCC withdrawal",
        "the DCC can withdraw a device in any operational status or while Suspended",
        external=True,
    )
    start_recovery = tagged(
        operational.commissioned.to(recovery),
        ASSUMPTION,
        "DCC recovery",
        "the DCC starts recovery of a compromised commissioned device",
        external=True,
    )
    complete_recovery = tagged(
        recovery.to(recovered),
        ASSUMPTION,
        "DCC recovery complete",
        "the DCC completes recovery",
        external=True,
    )

    def version_on_cpl(self, version_on_cpl: bool = False) -> bool:
        """Guard of restoration: the new SMI firmware version is on the CPL (seed:MP105)."""
        return version_on_cpl


HISTORY: Final = "operational_history"
SUSPENDED: Final = "suspended"

#: Every SMI status, by its DUIS name as this project writes it (source: duis).
STATUSES: Final = (
    "pending",
    "whitelisted",
    "installed_not_commissioned",
    "commissioned",
    "decommissioned",
    "withdrawn",
    "suspended",
    "recovery",
    "recovered",
)

#: The statuses from which a CPL removal suspends a device (the compound's children).
OPERATIONAL: Final = tuple(
    s.id
    for s in DeviceStatusChart.operational.states  # type: ignore[attr-defined]
    if not isinstance(s, HistoryState)
)

#: Statuses in which the DSP accepts no Service Request for the device (assumption).
TERMINAL: Final = ("decommissioned", "withdrawn")

#: The status machine's state, as the model stores it: the leaf status, and the status held
#: before suspension while (and only while) the device is Suspended.
StatusState = tuple[str, str | None]


def status_events() -> tuple[str, ...]:
    """Every event the chart defines, in definition order."""
    return tuple(e.id for e in DeviceStatusChart.events)  # type: ignore[attr-defined]


def chart_at(state: StatusState) -> DeviceStatusChart:
    """A live chart in ``state``: started at the leaf status, with its history set."""
    status, prior = state
    chart = DeviceStatusChart(start_value=status)
    if prior is not None:
        chart.history_values[HISTORY] = [chart.states_map[prior]]
    return chart


def state_of(chart: DeviceStatusChart) -> StatusState:
    """Read a live chart back into the model's StatusState."""
    leaves = [s.id for s in chart.configuration if not s.states]
    if len(leaves) != 1:
        raise AssertionError(f"expected one active status, got {leaves}")
    status = leaves[0]
    prior = None
    if status == SUSPENDED:
        remembered = chart.history_values.get(HISTORY)
        prior = remembered[0].id if remembered else None
    return (status, prior)


def fire(state: StatusState, event: str, **guards: Any) -> StatusState:
    """Send ``event`` to a live chart in ``state`` and return the state it ends in.

    An event with no enabled transition leaves the state as it is (SCXML semantics).
    """
    chart = chart_at(state)
    chart.send(event, **guards)
    return state_of(chart)


def enabled(state: StatusState, event: str) -> bool:
    """True when ``event`` has a transition out of ``state`` (guards not evaluated)."""
    return event in {e.id for e in chart_at(state).allowed_events}


def external_events() -> tuple[str, ...]:
    """Events sent from outside the DSP's rules (HAN join, DCC withdrawal and recovery)."""
    return tuple(
        dict.fromkeys(
            str(t.event)
            for s in DeviceStatusChart.states_map.values()
            for t in s.transitions
            if not t.initial and t.provenance.external
        )
    )


def provenance_of(event: str) -> Provenance:
    """The provenance of an event's transitions (all transitions of one event share it)."""
    for state in DeviceStatusChart.states_map.values():
        for transition in state.transitions:
            if not transition.initial and event in transition.events:
                return transition.provenance  # type: ignore[no-any-return]
    raise KeyError(event)


def describe_transitions() -> list[dict[str, Any]]:
    """Every transition of the chart with its provenance, for diagrams and docs."""
    rows = []
    for state in DeviceStatusChart.states_map.values():
        for transition in state.transitions:
            if transition.initial:  # the compound's own initial arrow, not a rule
                continue
            p: Provenance = transition.provenance
            for target in transition.targets:
                rows.append(
                    {
                        "event": str(transition.event),
                        "source": state.id,
                        "target": target.id,
                        "guard": " and ".join(str(c) for c in transition.cond) or None,
                        "provenance": p.source,
                        "trigger": p.trigger,
                        "why": p.why,
                    }
                )
    return rows


__all__ = [
    "HISTORY",
    "OPERATIONAL",
    "STATUSES",
    "SUSPENDED",
    "TERMINAL",
    "DeviceStatusChart",
    "StatusState",
    "chart_at",
    "describe_transitions",
    "enabled",
    "external_events",
    "fire",
    "provenance_of",
    "state_of",
    "status_events",
]
