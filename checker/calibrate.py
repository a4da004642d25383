"""The loss probability the seeds' incident count implies (``impact --calibrate``).

seed:MP178 counts four join strands since August 2020; for a stated fleet of installations
and a rate of joins per installation, the response loss probability P at which the model's
expected join strands per year equal that count is found by bisection (the strand
probability grows with P)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from checker.explorer import System
from checker.impact import type_impact
from model.messages import srvs_doing
from model.rates import Figure, Rates
from model.variant import Variant

#: The MP178 story's closed system: a meter joined to a CAD (seed:MP178).
JOIN_SYSTEM = System("ESME", "CAD")


@dataclass(frozen=True, slots=True)
class Calibration:
    loss: float | None
    target_per_year: float
    fleet: int
    joins_per_year: float

    def as_dict(self) -> dict[str, object]:
        return {
            "loss": self.loss,
            "incidents_per_year": self.target_per_year,
            "fleet": self.fleet,
            "joins_per_installation_per_year": self.joins_per_year,
        }


def calibrate(variant: Variant, rates: Rates, fleet: int, joins_per_year: float) -> Calibration:
    """The response loss probability that makes ``fleet`` installations strand as many joins
    a year as the incidents say; None if even a certain loss strands fewer."""
    incidents = rates.incidents
    actions = dict(rates.actions)
    # Joins per installation: every request the rulebook declares to join, together, in the
    # rates file's proportions between them.
    joins = [srv for srv in srvs_doing(variant.messages, "join") if srv in actions]
    total = sum(actions[srv].value for srv in joins)
    for srv in joins:
        share = actions[srv].value / total if total else 1 / len(joins)
        actions[srv] = Figure(joins_per_year * share, "assumption", "given on the command line")
    base = replace(rates, actions=actions)
    horizon = rates.figure("horizon_years")

    def per_year(loss: float) -> float:
        found = type_impact(variant, JOIN_SYSTEM, base.with_loss(response=loss), fleet)
        return fleet * found.by_property.get(incidents.property_id, 0.0) / horizon

    target = incidents.per_year
    low, high = 1e-12, 1.0
    if per_year(high) < target:
        return Calibration(None, target, fleet, joins_per_year)
    for _ in range(20):  # twelve decades to a ratio of 1.00003
        middle = (low * high) ** 0.5
        if per_year(middle) < target:
            low = middle
        else:
            high = middle
    return Calibration(high, target, fleet, joins_per_year)
