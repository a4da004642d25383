"""The join relationship machine (transitions), written once.

One machine per (Business Target device, Other Device) pair. Each state shows both views at
once: what the SMI records and what the device's log holds. Two states are in flight: the
device has applied a Join or Unjoin and the DSP awaits its response, which either arrives
(the SMI follows the device) or is lost (the two views part ways).

Facts (seed:MP178): the DSP records a join only from a successful Join response; baseline
rejects an Unjoin the SMI holds no join for with E080801; GBCS requires a device to accept a
re-sent Join, some devices reject it; the way out is a manual SMI correction by the DCC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from transitions import Machine

from model.provenance import ASSUMPTION, SEED_MP178, check_tag


@dataclass(frozen=True, slots=True)
class JoinView:
    """What the SMI records and what the device's log holds, for one pair."""

    smi: bool
    device: bool
    label: str


#: The machine's states, each with both views (the views are what a reviewer reads).
STATES: Final[dict[str, JoinView]] = {
    "unjoined": JoinView(smi=False, device=False, label="In sync, not joined"),
    "joined": JoinView(smi=True, device=True, label="In sync, joined"),
    "device_only": JoinView(smi=False, device=True, label="Joined on the device only"),
    "smi_only": JoinView(smi=True, device=False, label="Joined in the SMI only"),
    "join_in_flight": JoinView(smi=False, device=True, label="Join applied, response awaited"),
    "unjoin_in_flight": JoinView(smi=True, device=False, label="Unjoin applied, response awaited"),
}

#: The states in which the SMI and the device agree.
IN_SYNC: Final = frozenset(s for s, v in STATES.items() if v.smi == v.device)

INITIAL: Final = "unjoined"


def _t(trigger: str, source: str, dest: str, provenance: str, why: str) -> dict[str, str]:
    check_tag(provenance)
    return {
        "trigger": trigger,
        "source": source,
        "dest": dest,
        "provenance": provenance,
        "why": why,
    }


#: Every transition, with its provenance: the one place the join rules are written.
TRANSITIONS: Final = (
    _t(
        "join_applied",
        "unjoined",
        "join_in_flight",
        SEED_MP178,
        "the DSP forwards the Join; the device adds the Other Device to its log",
    ),
    _t(
        "join_applied",
        "device_only",
        "join_in_flight",
        SEED_MP178,
        "a GBCS-compliant device accepts a re-sent Join when already joined",
    ),
    _t(
        "join_applied",
        "smi_only",
        "joined",
        SEED_MP178,
        "the device joins; the SMI already records the join",
    ),
    _t(
        "join_applied",
        "joined",
        "joined",
        SEED_MP178,
        "a GBCS-compliant device accepts a re-sent Join when already joined",
    ),
    _t(
        "join_rejected_by_device",
        "device_only",
        "device_only",
        SEED_MP178,
        "a non-compliant device rejects a re-sent Join when already joined",
    ),
    _t(
        "join_rejected_by_device",
        "joined",
        "joined",
        SEED_MP178,
        "a non-compliant device rejects a re-sent Join when already joined",
    ),
    _t(
        "unjoin_applied",
        "joined",
        "unjoin_in_flight",
        SEED_MP178,
        "the DSP forwards the Unjoin; the device removes the Other Device from its log",
    ),
    _t(
        "unjoin_applied",
        "device_only",
        "unjoined",
        SEED_MP178,
        "without SMI validation (MP178) the Unjoin reaches the device, which unjoins",
    ),
    _t(
        "unjoin_rejected_by_device",
        "unjoined",
        "unjoined",
        ASSUMPTION,
        "a device answers an Unjoin for a pair it does not hold with a failure, not success",
    ),
    _t(
        "unjoin_rejected_by_device",
        "smi_only",
        "smi_only",
        ASSUMPTION,
        "a device answers an Unjoin for a pair it does not hold with a failure, not success",
    ),
    _t(
        "unjoin_rejected_by_dsp",
        "unjoined",
        "unjoined",
        SEED_MP178,
        "E080801: the SMI holds no such join, so the DSP rejects the Unjoin",
    ),
    _t(
        "unjoin_rejected_by_dsp",
        "device_only",
        "device_only",
        SEED_MP178,
        "E080801: the SMI holds no such join, so the DSP rejects the Unjoin",
    ),
    _t(
        "success_response",
        "join_in_flight",
        "joined",
        SEED_MP178,
        "the DSP records the join from a successful Join response",
    ),
    _t(
        "success_response",
        "unjoin_in_flight",
        "unjoined",
        SEED_MP178,
        "the DSP removes the join from a successful Unjoin response",
    ),
    _t(
        "response_lost",
        "join_in_flight",
        "device_only",
        SEED_MP178,
        "the Join response is lost: the device is joined, the SMI is not",
    ),
    _t(
        "response_lost",
        "unjoin_in_flight",
        "smi_only",
        ASSUMPTION,
        "the Unjoin response is lost: the SMI still records the join (by symmetry with Join)",
    ),
    _t(
        "manual_smi_fix",
        "device_only",
        "joined",
        SEED_MP178,
        "the DCC corrects the SMI by hand to match the device (about £2,000 each)",
    ),
    _t(
        "manual_smi_fix",
        "smi_only",
        "unjoined",
        SEED_MP178,
        "the DCC corrects the SMI by hand to match the device (about £2,000 each)",
    ),
    _t(
        "smi_reconciled_from_device_log",
        "device_only",
        "joined",
        ASSUMPTION,
        "a variant may let the DSP set the SMI from a Read Device Log (SR8.9) response",
    ),
    _t(
        "smi_reconciled_from_device_log",
        "smi_only",
        "unjoined",
        ASSUMPTION,
        "a variant may let the DSP set the SMI from a Read Device Log (SR8.9) response",
    ),
    *(
        _t(
            "cascade_unjoin",
            state,
            "unjoined",
            ASSUMPTION,
            "a variant's [cascades] row: decommissioning or withdrawing the Business Target "
            "ends its joins, in the SMI and on the device",
        )
        for state in ("joined", "device_only", "smi_only", "join_in_flight", "unjoin_in_flight")
    ),
)

EVENTS: Final = tuple(dict.fromkeys(t["trigger"] for t in TRANSITIONS))


class JoinPair:
    """The model object a ``transitions`` Machine drives: one (target, other) pair."""

    state: str

    def __init__(self, target: str, other: str) -> None:
        self.target = target
        self.other = other


def build_machine(pair: JoinPair, initial: str = INITIAL) -> Machine:
    """A live join relationship machine for ``pair``, starting in ``initial``.

    Events with no transition from the current state are ignored (the DSP fires response
    events uniformly; only in-flight states react to them).
    """
    machine = Machine(
        model=pair,
        states=list(STATES),
        transitions=[
            {"trigger": t["trigger"], "source": t["source"], "dest": t["dest"]} for t in TRANSITIONS
        ],
        initial=initial,
        auto_transitions=False,
        ignore_invalid_triggers=True,
    )
    for t in TRANSITIONS:
        for transition in machine.events[t["trigger"]].transitions[t["source"]]:
            if transition.dest == t["dest"]:
                transition.provenance = t["provenance"]  # type: ignore[attr-defined]
                transition.why = t["why"]  # type: ignore[attr-defined]
    return machine


def fire(state: str, event: str) -> str:
    """Send ``event`` to a live machine in ``state`` and return the state it ends in."""
    pair = JoinPair("target", "other")
    build_machine(pair, initial=state)
    pair.trigger(event)  # type: ignore[attr-defined]
    return pair.state


def enabled(state: str, event: str) -> bool:
    """True when ``event`` has a transition out of ``state``."""
    pair = JoinPair("target", "other")
    machine = build_machine(pair, initial=state)
    return bool(machine.events[event].transitions.get(state))


def describe_transitions() -> list[dict[str, Any]]:
    """Every transition with its provenance, read back from a live machine (for diagrams)."""
    machine = build_machine(JoinPair("target", "other"))
    rows = []
    for event_name, event in machine.events.items():
        for source, transitions in event.transitions.items():
            for transition in transitions:
                rows.append(
                    {
                        "event": event_name,
                        "source": source,
                        "target": transition.dest,
                        "provenance": getattr(transition, "provenance", ""),
                        "why": getattr(transition, "why", ""),
                    }
                )
    return rows
