"""Compositional checking: each device and each join pair against the CPL and the DCC.

Every property is a property of one device (the safety properties on a device,
``firmware-recoverable``) or of one join pair (``join-recoverable``, ``unjoin-validated``),
and devices interact only through the CPL and their join pairs. So a closed system of many
devices is checked one component at a time: a Business Target type with one Other Device
type (the pair and both its devices), or a CPL-listed type alone. The cost grows with the
number of distinct components, not with the product of the devices' states; identical
devices (same type; compliance is explored inside the component) are one component, which
is the symmetry reduction the product would need.

Why this is exact for these properties, and the differential test that guards it, are in
docs/properties.md ("Compositional checking").
"""

from __future__ import annotations

import multiprocessing
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from typing import Final

from checker.alphabet import LIFE_CYCLE_SRVS, join_srvs
from checker.explorer import (
    Bounds,
    Exploration,
    System,
    default_systems,
    explore,
    subject_of,
    universe,
)
from checker.shared_steps import SharedSteps
from model.catalogue import applicability
from model.device_types import cpl_listed_types, device_types, type_2_types
from model.dsp import READ_DEVICE_LOG, READ_FIRMWARE
from model.errors import InputError
from model.messages import messages, srvs_doing
from model.rule_tables import FirmwareRoute
from model.variant import Variant

#: How many devices of one type ``--devices`` accepts: compositional checking does not care,
#: but a scenario of this size is what the counts are for.
MAX_PER_TYPE: Final = 10_000
_ITEM: Final = re.compile(r"\s*([A-Za-z0-9]+)\s*=\s*([0-9]{1,6})\s*")


@dataclass(frozen=True, slots=True)
class DeviceMix:
    """What the closed system holds: devices per type. A Type 2 count (IHD, CAD) is per
    Business Target: ``ESME=8,CAD=2`` is eight meters, each joined to two CADs."""

    counts: Mapping[str, int]

    @classmethod
    def parse(cls, text: str) -> DeviceMix:
        """``ESME=2,GSME=1,PPMID=1,HCALCS=1,CAD=2``; an input error names what is wrong."""
        counts: dict[str, int] = {}
        for item in text.split(","):
            found = _ITEM.fullmatch(item)
            if found is None:
                raise InputError(f"--devices: {item.strip()[:40]!r} is not TYPE=COUNT")
            kind, count = found.group(1).upper(), int(found.group(2))
            if kind not in device_types():
                known = ", ".join(device_types())
                raise InputError(f"--devices: unknown device type {kind!r} (known: {known})")
            if kind in counts:
                raise InputError(f"--devices: {kind} is given twice")
            if count > MAX_PER_TYPE:
                raise InputError(f"--devices: at most {MAX_PER_TYPE:,} devices of one type")
            counts[kind] = count
        mix = cls(counts)
        if not mix.components():
            raise InputError("--devices: no CPL-listed device (ESME, GSME, PPMID, HCALCS) to check")
        return mix

    def components(self) -> tuple[System, ...]:
        """The distinct components: each Business Target type present with each Other Device
        type present, and each CPL-listed type with no pair on its own."""
        present = [t for t, n in self.counts.items() if n > 0]
        join_targets = _join_targets()
        targets = [t for t in cpl_listed_types() if t in present and t in join_targets]
        others = [t for t in type_2_types() if t in present]
        systems = [System(t, o) for t in targets for o in others]
        paired = {s.target for s in systems}
        systems += [System(t) for t in cpl_listed_types() if t in present and t not in paired]
        return tuple(systems)

    def describe(self) -> str:
        parts = []
        for kind, count in self.counts.items():
            each = " per Business Target" if kind in type_2_types() else ""
            parts.append(f"{count} {kind}{each}")
        return ", ".join(parts)

    def devices(self) -> int:
        """How many devices the closed system holds."""
        targets = sum(n for t, n in self.counts.items() if t not in type_2_types())
        join_targets = _join_targets()
        meters = sum(n for t, n in self.counts.items() if t in join_targets)
        others = sum(n for t, n in self.counts.items() if t in type_2_types())
        return targets + meters * others


# ---------------------------------------------------------------------------------------
# Device types the rules cannot tell apart


def _requests_sent(variant: Variant) -> frozenset[str]:
    """Every SRV the closed system's alphabet can hold (``checker.alphabet``): only
    their applicability can tell two device types apart in the explorer."""
    routed = {srv for r in variant.routes.values() for srv in (r.deliver, r.activate) if srv}
    joins = {srv for other in type_2_types() for group in join_srvs(other) for srv in group}
    joins |= {srv for group in join_srvs("") for srv in group}
    return frozenset({*LIFE_CYCLE_SRVS, READ_FIRMWARE, READ_DEVICE_LOG, *routed, *joins})


def type_signature(variant: Variant, device_type: str) -> tuple[object, ...]:
    """Everything the DSP and the alphabet read about a device type under ``variant``: its
    CPL listing and Type 2 standing, its firmware route, the requests that apply to it, and
    the update rules limited to some device types. Two types with equal signatures are
    treated alike by every rule."""
    facts = variant.device_types[device_type]
    route = variant.route(device_type)
    return (
        facts.cpl_listed,
        facts.type_2,
        None if route is None else _route_signature(route),
        frozenset(srv for srv in _requests_sent(variant) if variant.applies(srv, device_type)[0]),
        tuple(
            None if rule.device_types is None else device_type in rule.device_types
            for rule in variant.update_smi_on
        ),
    )


def _join_targets() -> frozenset[str]:
    """The device types a join request with any Other Device applies to (the data's
    message declarations and applicability): the Business Targets of a mix."""
    table = messages()
    joins = [s for s in srvs_doing(table, "join") if table[s].other_devices == "any"]
    return frozenset(t for srv in joins for t in applicability()[srv].device_types)


def _route_signature(route: FirmwareRoute) -> tuple[object, ...]:
    steps = (route.deliver, route.activate, route.report, route.report_failure)
    return (*steps, tuple((g, _route_signature(r)) for g, r in route.by_smets))


def system_signature(variant: Variant, system: System) -> tuple[object, ...]:
    other = None if system.other is None else type_signature(variant, system.other)
    return (type_signature(variant, system.target), other, system.smets)


def explore_systems(
    variant: Variant,
    bounds: Bounds,
    properties: Iterable[str],
    systems: Iterable[System],
    coverage: bool = False,
    keep_steps: bool = False,
    shared: SharedSteps | None = None,
    finish: Callable[[list[Exploration]], None] | None = None,
) -> list[Exploration]:
    """Explore each system once per class of systems the rules cannot tell apart (under the
    built-in variants, an ESME with a CAD and a GSME with an IHD are one class); the others
    are the same graph, told again with their own device types. A system whose alphabet
    differs from its class's after all is explored on its own. With ``finish``, each graph's
    explorations (the one explored, then those told again from it) are handed to it as soon
    as they are made, before the next graph is explored: a caller that lets go of each graph
    there holds one at a time (issue 23)."""
    wanted, chosen = tuple(properties), tuple(systems)
    keys = [system_signature(variant, system) for system in chosen]
    results: list[Exploration | None] = [None] * len(chosen)
    first_of: set[tuple[object, ...]] = set()
    for n, system in enumerate(chosen):
        if results[n] is not None:
            continue
        exploration = explore(
            variant,
            bounds,
            wanted,
            system=system,
            coverage=coverage,
            keep_steps=keep_steps,
            shared=shared,
        )
        if not keep_steps:  # its tables are not wanted after it: free them now
            exploration.successors = None
        results[n], group = exploration, [exploration]
        if keys[n] not in first_of:  # the first of its class: the others told from it
            first_of.add(keys[n])
            for m in range(n + 1, len(chosen)):
                same = keys[m] == keys[n]
                retold = _retold(exploration, chosen[m], variant, bounds) if same else None
                if retold is not None:
                    results[m] = retold
                    group.append(retold)
        if finish is not None:
            finish(group)
    return [e for e in results if e is not None]


def _retold(
    first: Exploration, system: System, variant: Variant, bounds: Bounds
) -> Exploration | None:
    """``first``'s graph and verdicts, about ``system``'s device types."""
    own = universe(bounds, variant, system)
    if own.actions != first.universe.actions or len(own.starts) != len(first.universe.starts):
        return None
    properties = [
        replace(
            p,
            subject=subject_of(system, p.id),
            expected=variant.expected(p.id, subject_of(system, p.id)),
        )
        for p in first.properties
    ]
    return replace(first, universe=own, system=system, properties=properties, seconds=0.0)


# ---------------------------------------------------------------------------------------
# Both cores


_Task = tuple[Variant, Bounds, tuple[str, ...], tuple[System, ...], bool, bool]


def _explore_one(
    task: _Task,
    shared: SharedSteps | None = None,
    finish: Callable[[list[Exploration]], None] | None = None,
) -> list[Exploration]:
    from checker.progress_events import REPORTER

    REPORTER.set(None)  # one live display, in the parent
    variant, bounds, wanted, systems, coverage, keep_steps = task
    chosen = systems or default_systems(variant)
    return explore_systems(variant, bounds, wanted, chosen, coverage, keep_steps, shared, finish)


def _explore_pooled(task: _Task) -> list[Exploration]:
    """``_explore_one`` in a worker process: its successor tables stay there (the cause
    search explores again where it needs them, ``checker.causes``)."""
    found = _explore_one(task)
    return [replace(e, successors=None) for e in found]


def explore_variants(
    variants: list[Variant],
    bounds: Bounds,
    properties: Iterable[str],
    systems: Iterable[System],
    jobs: int = 1,
    coverage: bool = False,
    keep_steps: bool = False,
    share_steps: bool = False,
) -> list[list[Exploration]]:
    """Each variant's explorations, all held at once (``iter_explored`` one at a time)."""
    return list(
        iter_explored(
            variants,
            bounds,
            properties,
            systems,
            jobs,
            coverage,
            keep_steps=keep_steps,
            share_steps=share_steps,
        )
    )


def iter_explored(
    variants: list[Variant],
    bounds: Bounds,
    properties: Iterable[str],
    systems: Iterable[System],
    jobs: int = 1,
    coverage: bool = False,
    finish: Callable[[list[Exploration]], None] | None = None,
    keep_steps: bool = False,
    share_steps: bool = False,
) -> Iterator[list[Exploration]]:
    """Each variant's explorations, in order, every graph's handed to ``finish`` first.
    Variants are independent: with ``jobs`` above 1 and more than one variant they run in
    a pool of processes (forked, so nothing is imported again) and ``finish`` is handed a
    variant's explorations whole as they come back; with ``jobs`` 1, one after the other in
    this process, each graph handed to ``finish`` as soon as it is explored and each variant
    explored only when the one before has been taken, with ``share_steps`` sharing the DSP
    steps whose rules agree between them (``checker.shared_steps``; not by default: for the
    built-in variants, tracing the rules read costs more than the steps it saves,
    docs/performance.md). A caller that lets go of each graph in ``finish`` holds one graph
    at a time (issue 23)."""
    wanted, chosen = tuple(properties), tuple(systems)
    workers = min(jobs, len(variants))
    keep_steps = keep_steps and workers <= 1  # a worker's steps would not come back
    tasks = [(v, bounds, wanted, chosen, coverage, keep_steps) for v in variants]
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        shared = SharedSteps() if share_steps and len(tasks) > 1 else None
        if shared is not None:
            shared.closing(tasks[-1][0])
        for task in tasks:
            yield _explore_one(task, shared, finish)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for explorations in pool.map(_explore_pooled, tasks):
            if finish is not None:
                finish(explorations)
            yield explorations
