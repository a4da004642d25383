"""What ``smi-spec run`` says after a scenario's steps: the property verdicts on this one
path, the point of no return of each recoverability property, and the manual SMI
corrections the end state needs (one per stranded device or join pair, at the cost
``model/data/rates.json`` gives).

One scenario is one path: a safety property is violated on it if one of its steps breaks it;
a recoverability property is violated if some state on it has no way back
(:func:`properties.recoverability.recoverable`, over the alphabet of the versions the
scenario names). The point of no return is the first step after which no way back is left.
"""

from __future__ import annotations

from typing import Any

from checker.alphabet import alphabet
from checker.explorer import RECOVERABILITY
from checker.machine_tables import compiled
from checker.recovery_attempts import correction_cost, manual_correction
from model.dsp import step
from model.property_ids import PROPERTY_IDS
from model.scenario import Scenario
from model.variant import Variant
from model.world import World
from properties.recoverability import recoverable
from properties.safety import violations


def _versions(scenario: Scenario) -> tuple[str, ...]:
    named = set(scenario.start.cpl)
    for d in scenario.start.devices:
        named.update(v for v in (d.firmware, d.smi_firmware, d.image) if v)
    for _, action in scenario.steps:
        for name in ("version", "image"):
            value = getattr(action, name, None)
            if isinstance(value, str):
                named.add(value)
    return tuple(sorted(named))


def verdicts(scenario: Scenario, variant: Variant) -> dict[str, Any]:
    """Each property's verdict on the scenario's path, the point of no return of each
    recoverability property (0: the start), the manual corrections made and the ones still
    needed at the end, and their cost."""
    setup, world = scenario.setup, scenario.start
    actions = alphabet(setup, _versions(scenario), variant)
    machines = compiled()

    def stuck(at: World) -> list[str]:
        return [
            p
            for p in RECOVERABILITY
            if recoverable(setup, at, variant, p, lambda s, w: actions, machines) is False
        ]

    first: dict[str, int] = dict.fromkeys(stuck(world), 0)
    why: dict[str, str] = {}
    for number, (_, action) in enumerate(scenario.steps, 1):
        after, outcome = step(setup, world, action, variant, machines)
        for found in violations(setup, variant, world, action, after, outcome):
            first.setdefault(found.property, number)
            why.setdefault(found.property, found.why)
        world = after
        for p in stuck(world):
            first.setdefault(p, number)
    still = stuck(world)
    needed = sorted({who for p in still for who in manual_correction(setup, world, p)["stranded"]})
    cost = correction_cost()
    per = int(cost.value)
    return {
        "verdicts": [
            {
                "property": p,
                "verdict": "violated" if p in first else "holds",
                "expected": variant.expected(p),
                "first_step": first.get(p),
                "why": why.get(p),
            }
            for p in PROPERTY_IDS
        ],
        "points_of_no_return": {p: n for p, n in first.items() if p in RECOVERABILITY},
        "stranded_at_end": still,
        "manual_fixes_needed": len(needed),
        "needing_correction": needed,
        "manual_fixes_needed_cost_gbp": len(needed) * per,
        "cost_per_correction_gbp": per,
        "cost_source": f"cost_per_manual_correction_gbp (model/data/rates.json), {cost.source}",
    }
