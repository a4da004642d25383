"""Fleet impact, computed: the probability that a device ends stranded within the horizon,
the expected stranded devices of a fleet and their cost (docs/fleet.md).

Each installation's chain (:mod:`checker.fleet_chain`) is written as a PRISM CTMC and
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
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checker.explorer import System, default_systems
from checker.fleet_chain import Chain, build_chain
from model.rates import Rates
from model.variant import Variant

STRANDED = "stranded"


def drn(chains: Sequence[Chain]) -> str:
    """The chains as one CTMC of disjoint copies in Storm's explicit format (DRN; one Storm
    run answers them all): each state's exit rate and its rates to its successors (an
    absorbing state loops on itself), a label ``start_i`` on each copy's start (every start
    is initial), a label per recoverability property and ``stranded`` for any of them."""
    total = sum(len(chain.states) for chain in chains)
    lines = ["@type: CTMC", "@parameters", "", "@reward_models", "", "@nr_states", str(total)]
    lines += ["@nr_choices", str(total), "@model"]
    base = 0
    for copy, chain in enumerate(chains):
        marks: dict[int, list[str]] = {0: ["init", f"start_{copy}"]}
        for prop, states in chain.stranded.items():
            for n in states:
                marks.setdefault(n, []).append(_label(prop))
        for n in chain.absorbing:
            marks.setdefault(n, []).append(STRANDED)
        for number, edges in enumerate(chain.rates):
            moves = sorted(edges.items()) or [(number, 1.0)]
            exit_rate = sum(rate for _, rate in moves)
            lines.append(
                " ".join([f"state {base + number} !{exit_rate!r}", *marks.get(number, [])])
            )
            lines.append("\taction 0")
            lines += [f"\t\t{base + to} : {rate!r}" for to, rate in moves]
        base += len(chain.states)
    return "\n".join(lines) + "\n"


def _label(property_id: str) -> str:
    return property_id.replace("-", "_")


def strand_probabilities(chains: Sequence[Chain], horizon: float) -> list[dict[str, float]]:
    """Storm: for each chain, the probability from its start of a strand within ``horizon``
    years, in all and per property (all chains in one model, one run)."""
    import stormpy

    names = list(dict.fromkeys(p for chain in chains for p in chain.stranded))
    names = [STRANDED, *names]
    with tempfile.TemporaryDirectory(prefix="smi-spec-impact-") as directory:
        path = Path(directory) / "fleet.drn"
        path.write_text(drn(chains), encoding="utf-8")
        with _quiet_stderr():
            model = stormpy.build_model_from_drn(str(path))
            labels = model.labeling.get_labels()
            starts = [
                next(iter(model.labeling.get_states(f"start_{n}"))) for n in range(len(chains))
            ]
            values: list[Any] = []
            for name in names:
                if _label(name) not in labels:  # no state strands this way
                    values.append(None)
                    continue
                formula = stormpy.parse_properties(f'P=? [F<={horizon!r} "{_label(name)}"]')
                values.append(stormpy.model_checking(model, formula[0]))
    return [
        {
            n: 0.0 if r is None else float(r.get_value(start))
            for n, r in zip(names, values, strict=True)
        }
        for start in starts
    ]


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
    """One device type's impact."""
    return impacts([(variant, rates)], fleet, (system,))[0][0]


def impact(
    variant: Variant, rates: Rates, fleet: int, systems: tuple[System, ...] | None = None
) -> list[TypeImpact]:
    """Every device type's impact (by default every type's closed system)."""
    return impacts([(variant, rates)], fleet, systems)[0]


def impacts(
    cases: Sequence[tuple[Variant, Rates]], fleet: int, systems: tuple[System, ...] | None = None
) -> list[list[TypeImpact]]:
    """Each (variant, rates) case's impact per device type, all in one Storm run (the
    chains as disjoint copies of one model): a loss sweep of several variants costs one
    model build. Every case's rates share the first case's horizon."""
    chosen = systems or default_systems()
    horizon = cases[0][1].figure("horizon_years")
    chains = [
        build_chain(variant, system, compliant, rates)
        for variant, rates in cases
        for system in chosen
        for compliant in (True, False)
    ]
    found = iter(strand_probabilities(chains, horizon))
    result = []
    for _, rates in cases:
        share = rates.figure("non_compliant_fraction")
        row = []
        for system in chosen:
            good, bad = next(found), next(found)
            mix = {name: (1 - share) * good[name] + share * bad[name] for name in good}
            total = mix.pop(STRANDED)
            row.append(
                TypeImpact(
                    system,
                    total,
                    mix,
                    good[STRANDED],
                    bad[STRANDED],
                    fleet,
                    rates.figure("cost_per_manual_correction_gbp"),
                )
            )
        result.append(row)
    return result


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
