"""The ways back, tried and failing: what a story shows after its point of no return.

Once a recoverability property has no way back, a Service User still tries the requests the
seeds name (``model/data/recovery_attempts.json``, by what each request does: SR11.2 to read the
version, a re-sent SR11.3, a re-sent Join, an Unjoin). Each is tried from the stranded state
with the response it gets; what none of them fixes, only a manual SMI correction does, at
the cost ``model/data/rates.json`` gives (``cost_per_manual_correction_gbp``, seed:MP178).

The recovery rule itself is :func:`properties.recoverability.is_recovery_action`: an attempt
shown here is one a way back may use. Nothing here decides a verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from model.data_files import read_data
from model.dsp import Outcome, StepNotAllowed, step
from model.machines import LIVE, Machines
from model.messages import srvs_doing
from model.rates import Figure, default_rates
from model.variant import Variant
from model.world import Request, Setup, World
from properties.recoverability import DEVICE_GOOD, GOOD, is_recovery_action, join_good_pair


@dataclass(frozen=True, slots=True)
class WayBack:
    """One row of ``recovery_attempts.json``: requests that do ``does`` are tried for
    ``properties``."""

    does: str
    properties: tuple[str, ...]
    source: str
    why: str


@cache
def ways_back() -> tuple[WayBack, ...]:
    return tuple(
        WayBack(row["does"], tuple(row["properties"]), row["source"], row["why"])
        for row in read_data("recovery_attempts.json")["ways_back"]
    )


def correction_cost() -> Figure:
    """The cost of one manual SMI correction, with its source (model/data/rates.json)."""
    return default_rates().figures["cost_per_manual_correction_gbp"]


def stranded(setup: Setup, world: World, property_id: str) -> list[str]:
    """The devices (or join pairs, as ``target-other``) that break ``property_id``'s good
    state in ``world``: each needs its own manual SMI correction where no way back exists."""
    device_good = DEVICE_GOOD.get(property_id)
    if device_good is not None:
        return [
            spec.id
            for spec, d in zip(setup.devices, world.devices, strict=True)
            if not device_good(spec.cpl_listed, d.status, d.smi_firmware, d.firmware, world.cpl)
        ]
    if property_id not in GOOD:
        return []
    return [
        f"{setup.devices[pair.target].id}-{setup.devices[pair.other].id}"
        for pair, state in zip(setup.pairs, world.joins, strict=True)
        if not join_good_pair(state, world.devices[pair.target].status)
    ]


def _requests(setup: Setup, who: list[str], srv: str) -> list[Request]:
    """``srv`` sent for each stranded device (``id``) or join pair (``target-other``)."""
    found = []
    for name in who:
        target, _, other = name.partition("-")
        if other:
            found.append(Request(srv, setup.index(target), setup.index(other)))
        else:
            found.append(Request(srv, setup.index(target)))
    return found


#: How a story tells one attempt: the request and the DSP's answer, in words (the caller's
#: narration, ``checker.narrate``; kept out of here so that the two modules do not
#: import each other).
Describe = Callable[[Setup, Request, Outcome], str]


def attempts(
    setup: Setup,
    world: World,
    variant: Variant,
    property_id: str,
    describe: Describe,
    machines: Machines = LIVE,
) -> list[dict[str, Any]]:
    """Each way back the seeds name for ``property_id``, tried once from ``world`` for each
    stranded device or pair: every request declared to do what the row names (the DSP
    rejects one that does not apply to the device type), the DSP's answer, what changed,
    and whether it brought the good state back (it does not, where there is no way back)."""
    who = stranded(setup, world, property_id)
    good = GOOD.get(property_id)
    tried: list[dict[str, Any]] = []
    for row in ways_back():
        if property_id not in row.properties:
            continue
        for srv in srvs_doing(variant.messages, row.does):
            for action in _requests(setup, who, srv):
                if not is_recovery_action(property_id, action):
                    continue
                try:
                    after, outcome = step(setup, world, action, variant, machines)
                except StepNotAllowed:
                    continue
                tried.append(
                    {
                        "text": describe(setup, action, outcome),
                        "srv": action.srv,
                        "target": setup.devices[action.target].id,
                        "accepted": outcome.accepted,
                        "response_code": outcome.response_code,
                        "fixed": bool(good and good(setup, after)),
                        "source": row.source,
                        "why": row.why,
                    }
                )
    return tried


def manual_correction(setup: Setup, world: World, property_id: str) -> dict[str, Any]:
    """What only a manual SMI correction fixes: the stranded devices, one correction each,
    and the cost with its source. seed:MP178 charges "£2,000 per update" of the SMI;
    assumption: one update per stranded device (or join pair), as each is its own SMI
    record."""
    who = stranded(setup, world, property_id)
    cost = correction_cost()
    return {
        "stranded": who,
        "corrections": len(who),
        "cost_gbp": int(len(who) * cost.value),
        "cost_per_correction_gbp": int(cost.value),
        "cost_source": cost.source,
        "cost_parameter": "cost_per_manual_correction_gbp (model/data/rates.json)",
    }


def aftermath(
    setup: Setup, world: World, variant: Variant, property_id: str, describe: Describe
) -> dict[str, Any] | None:
    """The ways back tried and the manual correction left, for a recoverability property
    stranded in ``world``; None for any other property."""
    if property_id not in GOOD:
        return None
    return {
        "attempts": attempts(setup, world, variant, property_id, describe),
        "manual": manual_correction(setup, world, property_id),
    }


def aftermath_lines(told: dict[str, Any]) -> list[str]:
    """The aftermath as story lines: each attempt with its answer, then the correction."""
    lines = []
    for attempt in told["attempts"]:
        verdict = "brings it back" if attempt["fixed"] else "no way back"
        lines.append(f"tried: {attempt['text']} ({verdict}; {attempt['source']})")
    manual = told["manual"]
    if manual["corrections"]:
        lines.append(
            f"only a manual SMI correction fixes {', '.join(manual['stranded'])}: "
            f"{manual['corrections']} × £{manual['cost_per_correction_gbp']:,} = "
            f"£{manual['cost_gbp']:,} ({manual['cost_parameter']}, {manual['cost_source']})"
        )
    return lines
