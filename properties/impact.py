"""Fleet impact, computed: the probability that a device ends stranded within the horizon,
the expected stranded devices of a fleet and their cost (docs/fleet.md).

Each installation's chain (:mod:`properties.fleet_chain`) is written as a PRISM CTMC and
checked by stormpy (Storm, a probabilistic model checker) for ``P=? [F<=T "stranded"]``,
once for a GBCS-compliant device and once for a non-compliant one; a fleet mixes them by the
rates' ``non_compliant_fraction``. Devices are independent (assumption: the fleet spans many
device models, each with its own CPL entries, so one CPL change touches few devices): the
stranded count of a fleet of N is binomial, and its expectation N times the probability.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from model.rates import Rates
from model.variant import Variant
from properties.explorer import System, default_systems
from properties.fleet_chain import Chain, build_chain

STRANDED = "stranded"


def prism(chain: Chain) -> str:
    """The chain as a PRISM CTMC: one state variable, one Markovian command per edge (an
    absorbing state loops on itself), a label per
    recoverability property and ``stranded`` for any of them."""
    last = len(chain.states) - 1
    lines = ["ctmc", "module installation", f"  s : [0..{max(last, 1)}] init 0;"]
    for number, edges in enumerate(chain.rates):
        for to, rate in sorted(edges.items()) or [(number, 1.0)]:
            lines.append(f"  <> s={number} -> {rate!r} : (s'={to});")
    lines.append("endmodule")
    labels = {STRANDED: chain.absorbing}
    labels.update({_label(p): states for p, states in chain.stranded.items()})
    for name, states in labels.items():
        formula = " | ".join(f"s={n}" for n in sorted(states)) or "false"
        lines.append(f'label "{name}" = {formula};')
    return "\n".join(lines) + "\n"


def _label(property_id: str) -> str:
    return property_id.replace("-", "_")


def strand_probabilities(chain: Chain, horizon: float) -> dict[str, float]:
    """Storm: the probability, from the start, of a strand within ``horizon`` years, in all
    and per property."""
    import stormpy

    program = _parse(prism(chain))
    names = [STRANDED, *chain.stranded]
    text = ";".join(f'P=? [F<={horizon!r} "{_label(n)}"]' for n in names)
    properties = stormpy.parse_properties(text, program)
    with _quiet_stderr():
        model = stormpy.build_model(program, properties)
        start = model.initial_states[0]
        return {
            name: float(stormpy.model_checking(model, prop).get_value(start))
            for name, prop in zip(names, properties, strict=True)
        }


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Storm's C++ core writes numerical notes (Fox-Glynn tail bounds) to the process's
    stdout; a command's output is its report, so they are dropped here. The
    results are checked against hand-computed chains by tests/test_impact.py."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
        yield
    finally:
        for fd, copy in zip((1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)


def _parse(text: str) -> Any:
    """A PRISM program from text (stormpy parses files)."""
    import tempfile

    import stormpy

    with tempfile.NamedTemporaryFile("w", suffix=".prism", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        return stormpy.parse_prism_program(handle.name)


@dataclass(frozen=True, slots=True)
class TypeImpact:
    """One device type's figures for a fleet."""

    system: System
    probability: float
    by_property: dict[str, float]
    compliant: float
    non_compliant: float
    fleet: int
    cost_each: float

    @property
    def expected(self) -> float:
        return self.fleet * self.probability

    @property
    def cost(self) -> float:
        return self.expected * self.cost_each

    def interval(self, level: float = 0.99) -> tuple[int, int]:
        return binomial_interval(self.fleet, self.probability, level)

    def as_dict(self) -> dict[str, Any]:
        low, high = self.interval()
        return {
            "device_type": self.system.target,
            "system": self.system.describe(),
            "probability_stranded": self.probability,
            "probability_by_property": self.by_property,
            "probability_compliant": self.compliant,
            "probability_non_compliant": self.non_compliant,
            "fleet": self.fleet,
            "expected_stranded": self.expected,
            "interval_99": [low, high],
            "expected_cost_gbp": self.cost,
        }


def type_impact(variant: Variant, system: System, rates: Rates, fleet: int) -> TypeImpact:
    horizon = rates.figure("horizon_years")
    share = rates.figure("non_compliant_fraction")
    good = strand_probabilities(build_chain(variant, system, True, rates), horizon)
    bad = strand_probabilities(build_chain(variant, system, False, rates), horizon)
    mix = {name: (1 - share) * good[name] + share * bad[name] for name in good}
    total = mix.pop(STRANDED)
    return TypeImpact(
        system,
        total,
        mix,
        good[STRANDED],
        bad[STRANDED],
        fleet,
        rates.figure("cost_per_manual_correction_gbp"),
    )


def impact(
    variant: Variant, rates: Rates, fleet: int, systems: tuple[System, ...] | None = None
) -> list[TypeImpact]:
    """Every device type's impact (by default every type's closed system)."""
    return [type_impact(variant, s, rates, fleet) for s in systems or default_systems()]


def binomial_interval(n: int, p: float, level: float = 0.99) -> tuple[int, int]:
    """The central interval holding ``level`` of Binomial(n, p), computed exactly from the
    probability mass function in log space (no normal approximation)."""
    if p <= 0 or n == 0:
        return 0, 0
    if p >= 1:
        return n, n
    tail = (1 - level) / 2
    mean = n * p
    spread = 12 * math.sqrt(mean * (1 - p)) + 12
    low_k, high_k = max(0, int(mean - spread)), min(n, int(mean + spread) + 1)
    log_p, log_q = math.log(p), math.log1p(-p)

    def pmf(k: int) -> float:
        return math.exp(
            math.lgamma(n + 1)
            - math.lgamma(k + 1)
            - math.lgamma(n - k + 1)
            + k * log_p
            + (n - k) * log_q
        )

    masses = [pmf(k) for k in range(low_k, high_k + 1)]
    total, low = 0.0, low_k
    for k, mass in zip(range(low_k, high_k + 1), masses, strict=True):
        total += mass
        if total > tail:
            low = k
            break
    total, high = 0.0, high_k
    for k, mass in zip(range(high_k, low_k - 1, -1), reversed(masses), strict=True):
        total += mass
        if total > tail:
            high = k
            break
    return low, high
