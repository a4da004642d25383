"""How big a check will be, before it starts: the state space and the peak memory estimated
from the bounds.

The explorer holds every reachable state, so a check whose peak memory would not fit is
refused up front (exit code 2 with the estimate) instead of being killed by the system.
The state count is calibrated on the counts measured in docs/performance.md (within a
factor of 1.3 of each at one lost response, 1.5 at two): a meter's own part of the state,
a CAD with its join to the meter, the CPL (a subset of the versions), the responses lost so
far, and which meters are GBCS-compliant.

The peak memory (:func:`estimated_peak_bytes`) is what a check really holds at its peak:
the imports, tables and memos every check has (:data:`BASE_BYTES`), and one variant's
largest closed system while it is explored (:func:`estimated_graph_bytes`: the explorer's
:data:`BYTES_PER_STATE` per estimated state, or from 2 meters the dense explorer's
:data:`DENSE_BYTES_PER_STATE`).
With ``--jobs 1`` the variants do not add up: each variant's graph is let go once its
stories are told (``smi_spec.told``), before the next is explored. Both constants are
measured (docs/performance.md, "Memory per variant (issue 23)"; ``bench/memory_bench.py``)
and ``tests/test_estimate_memory.py`` holds them to within a factor of 2 of a real run.
"""

from __future__ import annotations

import math
import os
from typing import Final

from checker.explorer import DENSE_FROM_METERS, Bounds
from model.errors import InputError

#: Measured: peak resident bytes of ``smi-spec check --jobs 1`` beyond :data:`BASE_BYTES`,
#: per estimated state of the largest closed system. At 2 meters the explorer holds about
#: 470 bytes per state it reaches (index, keys, parents, actions, reverse edges: 392 MiB
#: for 705,024 states at max-lost 1, 955 MiB for 1,997,568 at max-lost 2, baseline); per
#: *estimated* state (903,168 and 1,354,752) that is 370 to 690. Rounded to the middle.
#: Not counted: the distinct causes' search, whose memos can outweigh a small system's
#: graph (mp105's PPMID system at 2 meters: about 430 MiB for 78,336 states).
BYTES_PER_STATE: Final = 520

#: The dense explorer (``checker.dense``, from :data:`DENSE_FROM_METERS` meters) holds per
#: state its packed key (8 bytes), whether it is good and whether it recovers (1 byte each
#: per recoverability property judged at a time: 2) and its bits in two bitmaps over the
#: values its fields take (about 2): 12, rounded up to 14 for the levels' slack; beside
#: them, tables and scratch arrays of a fixed size (:data:`DENSE_FIXED_BYTES`). Measured at
#: 2 meters, max-lost 1: ``check --variant baseline`` peaks at 105 MiB, ``all`` at 172 MiB
#: (mp105's small PPMID system's cause search, not the graph; docs/performance.md).
DENSE_BYTES_PER_STATE: Final = 14
DENSE_FIXED_BYTES: Final = 35 * 1024**2

#: Measured: the peak of a check whose graphs are small (1 meter: 73 MiB): the imports
#: (35 MiB), the compiled machines, the successor memos, the causes' search and the report.
BASE_BYTES: Final = 70 * 1024**2

#: A meter's reachable local states at 2 versions (fitted: 42), and a CAD with its join (4).
_METER_AT_2_VERSIONS: Final = 42.0
_CAD_WITH_JOIN: Final = 4.0
#: Withdrawal and recovery events multiply the local states (fitted on the measured bounds).
_DCC_EVENTS_FACTOR: Final = 2.33
#: Per pair of meters beyond the first two: a factor of 10 (3 meters: at least 6.4 measured).
_LOG_INTERLEAVING: Final = math.log(10)


#: The largest estimate given as a number; above it the estimate is this cap ("more than"):
#: no machine explores 10^30 states, and the estimate is computed in logarithms so that
#: ``--meters 1000000`` (or a 30-digit value) is refused at once, allocating nothing.
MAX_ESTIMATE: Final = 10**30


def estimated_states(bounds: Bounds) -> int:
    """An estimate of the number of states the explorer reaches at ``bounds`` in the
    largest closed system, at most :data:`MAX_ESTIMATE`. Computed as a logarithm first: the
    bounds come from the command line and may be any size (issue 25)."""
    meter = _METER_AT_2_VERSIONS * (bounds.versions / 2) ** 2
    if bounds.dcc_events:
        meter *= _DCC_EVENTS_FACTOR
    log_per_meter = math.log(meter) + bounds.cads * math.log(_CAD_WITH_JOIN)
    log_shared = (bounds.versions + bounds.meters) * math.log(2) + math.log(bounds.max_lost + 1)
    # Meters interleave: each pair of meters beyond the first two multiplies the space again
    # (measured: 2,688 states at 1 meter, 705,024 at 2, more than 1,948,245,246 at 3, the
    # dense explorer stopped at its 17th level; the product alone gave 303,464,448).
    pairs_beyond = (bounds.meters - 1) * (bounds.meters - 2) / 2
    log_states = bounds.meters * log_per_meter + log_shared + pairs_beyond * _LOG_INTERLEAVING
    if log_states >= math.log(MAX_ESTIMATE):
        return MAX_ESTIMATE
    return int(math.exp(log_states) + 0.5)


def estimated_peak_bytes(bounds: Bounds, variants: int = 1, jobs: int = 1) -> int:
    """Estimated peak resident bytes of checking ``variants`` variants at ``bounds`` on up
    to ``jobs`` processes. One process: the base and one variant's largest system, however
    many variants (they do not add up). More (assumption, not measured): each worker at
    that peak, and the parent holding every variant's graph as the workers send it back."""
    graph = estimated_graph_bytes(bounds)
    workers = min(jobs, variants)
    if workers <= 1:
        return BASE_BYTES + graph
    return BASE_BYTES + variants * graph + workers * (BASE_BYTES + graph)


def estimated_graph_bytes(bounds: Bounds) -> int:
    """What the explorer that ``explore`` picks for ``bounds`` holds for its largest
    closed system: the Python explorer's index and edges, or the dense explorer's arrays."""
    states = estimated_states(bounds)
    if bounds.meters >= DENSE_FROM_METERS:
        return DENSE_FIXED_BYTES + states * DENSE_BYTES_PER_STATE
    return states * BYTES_PER_STATE


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


def require_fits(
    bounds: Bounds, budget: int | None = None, variants: int = 1, jobs: int = 1
) -> int:
    """The estimated states, or an InputError when the estimated peak memory of checking
    ``variants`` variants on ``jobs`` processes (:func:`estimated_peak_bytes`) would not fit
    in ``budget`` bytes."""
    states = estimated_states(bounds)
    limit = memory_budget() if budget is None else budget
    needed = estimated_peak_bytes(bounds, variants, jobs)
    if needed > limit:
        about = "more than" if states >= MAX_ESTIMATE else "about"
        raise InputError(
            f"these bounds ({describe(bounds)}) give {about} {states:,} states, {about} "
            f"{needed / 1024**3:,.1f} GiB to explore; at most {limit / 1024**3:,.1f} GiB "
            "fits here: lower --meters, --cads, --versions or --max-lost"
        )
    return states
