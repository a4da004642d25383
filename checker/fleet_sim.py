"""A synthetic fleet's DUIS message log (``smi-spec simulate``; docs/fleet.md).

Each installation runs the chain of :mod:`checker.fleet_chain` on its own: from its
state, every action of the alphabet fires after an exponential time at its rate from the
rates file (a response lost with the loss probability), the one DSP steps it, and the log
records the request inline with what the DSP did (``logged``) or ``lose_response``. A CPL
change is the installation's own (``"installation": k``): devices are independent, as the
computed impact assumes. An installation's traffic stops once it is stranded (the count is
what the simulation is for). The events of all installations are written in time order.
"""

from __future__ import annotations

import bisect
import json
import random
from pathlib import Path
from typing import Any, TextIO

from checker.alphabet import alphabet
from checker.explorer import Bounds, System, universe
from checker.fleet_chain import action_rates
from checker.machine_tables import compiled
from checker.replay import recoverability
from model.dsp import StepNotAllowed, step
from model.rates import Rates
from model.variant import Variant
from model.world import Action, CplChange, Request, Setup, World

Move = tuple[list[float], list[tuple[World, str]], float]


def _text(setup: Setup, action: Action, outcome: Any) -> str:
    """The log line of ``action`` with ``#`` where the installation number goes."""
    if isinstance(action, CplChange):
        name = "cpl_add" if action.listed else "cpl_remove"
        return json.dumps({name: action.version, "installation": 0}).replace(": 0}", ": #}")
    assert isinstance(action, Request)
    inline: dict[str, Any] = {"srv": action.srv, "target": f"{setup.devices[action.target].id}-#"}
    if action.other is not None:
        inline["other"] = f"{setup.devices[action.other].id}-#"
    if action.image is not None:
        inline["image"] = action.image
    event: dict[str, Any] = {"inline": inline}
    if action.lose_response and outcome.accepted:  # a rejection is answered by the DSP
        event["lose_response"] = True
    else:
        event["logged"] = {"accepted": bool(outcome.accepted)}
        if outcome.response_code is not None:
            event["logged"]["response_code"] = outcome.response_code
    return json.dumps(event)


class _Installation:
    """The moves of one kind of installation, computed once per state."""

    def __init__(self, variant: Variant, system: System, compliant: bool, rates: Rates) -> None:
        made = universe(Bounds(), variant, system)
        index = 0 if compliant else 1
        self.variant, self.setup = variant, made.setups[index]
        self.start = next(w for s, w in made.starts if s == index)
        self.versions = made.versions
        self.actions = action_rates(
            alphabet(self.setup, self.versions, variant, False), rates, self.versions
        )
        self.moves: dict[World, Move | None] = {}

    def moves_of(self, world: World) -> Move | None:
        """(cumulative rates, (successor, line)s, total) or None where stranded."""
        if world in self.moves:
            return self.moves[world]
        found: Move | None = None
        verdicts = recoverability(self.setup, world, self.variant, self.versions)
        if all(ok is not False for ok in verdicts.values()):
            cumulative: list[float] = []
            targets: list[tuple[World, str]] = []
            total = 0.0
            for action, rate in self.actions:
                try:
                    after, outcome = step(self.setup, world, action, self.variant, compiled())
                except StepNotAllowed:
                    continue
                total += rate
                cumulative.append(total)
                targets.append((after, _text(self.setup, action, outcome)))
            found = (cumulative, targets, total)
        self.moves[world] = found
        return found


def simulate(
    variant: Variant,
    system: System,
    rates: Rates,
    fleet: int,
    days: float,
    seed: int,
    out: TextIO,
) -> dict[str, int]:
    """Write the fleet log to ``out``; returns the installations of each kind and events."""
    rng = random.Random(seed)
    share = rates.figure("non_compliant_fraction")
    bad = sum(rng.random() < share for _ in range(fleet))
    kinds = [(True, fleet - bad), (False, bad)]
    header = {
        "fleet": {
            "variant": variant.id,
            "installations": [
                {"target": system.target, "other": system.other, "compliant": c, "count": n}
                for c, n in kinds
                if n
            ],
        }
    }
    years = days / 365.25
    timed: list[tuple[float, int, str]] = []
    number = 0
    for compliant, count in kinds:
        if not count:
            continue
        kind = _Installation(variant, system, compliant, rates)
        for _ in range(count):
            number += 1
            _run(kind, rng, years, number, timed)
    timed.sort()
    out.write(json.dumps(header) + "\n")
    for _, installation, text in timed:
        out.write(text.replace("#", str(installation)) + "\n")
    return {"installations": fleet, "non_compliant": bad, "events": len(timed)}


def _run(
    kind: _Installation, rng: random.Random, years: float, number: int, timed: list[Any]
) -> None:
    world, now = kind.start, 0.0
    while True:
        moves = kind.moves_of(world)
        if moves is None or moves[2] <= 0:
            return
        cumulative, targets, total = moves
        now += rng.expovariate(total)
        if now > years:
            return
        pick = bisect.bisect_right(cumulative, rng.random() * total)
        world, text = targets[min(pick, len(targets) - 1)]
        timed.append((now, number, text))


def write_simulation(
    path: str,
    variant: Variant,
    system: System,
    rates: Rates,
    fleet: int,
    days: float,
    seed: int,
) -> dict[str, int]:
    """Simulate into ``path`` through a temporary file, so a failure leaves no partial log."""
    target = Path(path)
    temporary = target.with_name(target.name + ".partial")
    try:
        with temporary.open("w", encoding="utf-8") as out:
            counts = simulate(variant, system, rates, fleet, days, seed, out)
        temporary.replace(target)
    finally:
        temporary.unlink(missing_ok=True)
    return counts
