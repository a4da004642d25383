"""How big a check will be, before it starts: the state space estimated from the bounds.

The explorer holds every reachable state, so a check whose state space cannot fit in memory
is refused up front (exit code 2 with the estimate) instead of being killed by the system.
The estimate is calibrated on the state counts measured in docs/performance.md (within a
factor of 1.3 of each): a meter's own part of the state, a CAD with its join to the meter,
the CPL (a subset of the versions), the responses lost so far, and which meters are
GBCS-compliant.
"""

from __future__ import annotations

import math
import os
from typing import Final

from checker.explorer import Bounds
from model.errors import InputError

#: Measured: about 470 bytes of resident memory per explored state at 2 meters (705,024
#: states in 393 MB); rounded up.
BYTES_PER_STATE: Final = 600

#: A meter's reachable local states at 2 versions (fitted: 42), and a CAD with its join (4).
_METER_AT_2_VERSIONS: Final = 42.0
_CAD_WITH_JOIN: Final = 4.0
#: Withdrawal and recovery events multiply the local states (fitted on the measured bounds).
_DCC_EVENTS_FACTOR: Final = 2.33


#: The largest estimate given as a number; above it the estimate is this cap ("more than"):
#: no machine explores 10^30 states, and the estimate is computed in logarithms so that
#: ``--meters 1000000`` (or a 30-digit value) is refused at once, allocating nothing.
MAX_ESTIMATE: Final = 10**30


def estimated_states(bounds: Bounds) -> int:
    """An estimate of the number of states the explorer reaches at ``bounds``, at most
    :data:`MAX_ESTIMATE`. Computed as a logarithm first: the bounds come from the command
    line and may be any size (issue 25)."""
    meter = _METER_AT_2_VERSIONS * (bounds.versions / 2) ** 2
    if bounds.dcc_events:
        meter *= _DCC_EVENTS_FACTOR
    log_per_meter = math.log(meter) + bounds.cads * math.log(_CAD_WITH_JOIN)
    log_shared = (bounds.versions + bounds.meters) * math.log(2) + math.log(bounds.max_lost + 1)
    log_states = bounds.meters * log_per_meter + log_shared
    if log_states >= math.log(MAX_ESTIMATE):
        return MAX_ESTIMATE
    return int(math.exp(log_states) + 0.5)


def describe(bounds: Bounds) -> str:
    """The bounds in words; a count of more than 20 digits is shortened to its digit count
    (a refusal is one short line however many digits the user typed)."""
    if max(bounds.meters, bounds.cads) < 10**20:
        return bounds.describe()
    named = (("meters", bounds.meters), ("cads", bounds.cads))
    return ", ".join(f"--{n} of {len(str(v))} digits" for n, v in named if v >= 10**20)


def memory_budget() -> int:
    """Half the machine's physical memory (assumption: leave the rest to everything else)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return 4 * 1024**3


def require_fits(bounds: Bounds, budget: int | None = None) -> int:
    """The estimated states, or an InputError when they would not fit in ``budget`` bytes."""
    states = estimated_states(bounds)
    limit = memory_budget() if budget is None else budget
    needed = states * BYTES_PER_STATE
    if needed > limit:
        about = "more than" if states >= MAX_ESTIMATE else "about"
        raise InputError(
            f"these bounds ({describe(bounds)}) give {about} {states:,} states, {about} "
            f"{needed / 1024**3:,.1f} GiB to explore; at most {limit / 1024**3:,.1f} GiB "
            "fits here: lower --meters, --cads, --versions or --max-lost"
        )
    return states
