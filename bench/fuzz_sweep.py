"""Fuzzing sweep (a benchmark, not a test): is every expected violation found, and shrunk to
the explorer's shortest counterexample, for every seed?

    .venv/bin/python bench/fuzz_sweep.py [--seeds 0:100] [--guide NAME]
                                         [--jobs N] [--json]

For every built-in variant and every property its ``[expect]`` table says is violated, it
fuzzes that property alone at the default budget (``smi-spec fuzz``'s) for each seed, and
reports: found N/seeds, shrunk to the shortest length N/seeds, and the median and worst
examples to the first failure and seconds per run. ``--guide`` compares the generation
strategies (checker.fuzz.Guide). Record the figures in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from rich.console import Console
from rich.table import Table

from checker.explorer import explore
from checker.fuzz import MAX_EXAMPLES, STEP_COUNT, Guide, fuzz
from model.property_ids import PROPERTY_IDS
from model.variant import BUILTIN, load_variant
from smi_spec.fuzz_command import expected

GUIDES = {
    "default": Guide(),
    "plain": Guide(swarm=False),
    "faults-in-rule": Guide(faults_in_rule=True),
    "target": Guide(target=True),
}


def cases() -> list[tuple[str, str, int]]:
    """(variant, property, the explorer's shortest counterexample length) per expected
    violation of each built-in variant in the closed system the fuzzer drives (an ESME with
    a CAD), read from the variants and the explorer."""
    found = []
    for variant_id in BUILTIN:
        variant = load_variant(variant_id)
        wanted = [p for p in PROPERTY_IDS if expected(variant, p) == "violated"]
        exploration = explore(variant, properties=wanted)
        for property_id in wanted:
            found.append((variant_id, property_id, len(exploration.result(property_id).actions)))
    return found


def one(job: tuple[str, str, int, str, int]) -> dict[str, Any]:
    variant_id, property_id, seed, guide, max_examples = job
    variant = load_variant(variant_id)
    result = fuzz(variant, (property_id,), max_examples, seed=seed, guide=GUIDES[guide])
    return {
        "variant": variant_id,
        "property": property_id,
        "seed": seed,
        "found": result.found == property_id,
        "length": len(result.trace) if result.found else None,
        "found_at": result.found_at,
        "seconds": result.seconds,
        "steps_per_second": result.steps_per_second,
    }


def summarise(runs: list[dict[str, Any]], shortest: int) -> dict[str, Any]:
    seconds = [r["seconds"] for r in runs]
    found_at = [r["found_at"] for r in runs if r["found"]]
    return {
        "seeds": len(runs),
        "found": sum(r["found"] for r in runs),
        "shortest": shortest,
        "shrunk_to_shortest": sum(r["length"] == shortest for r in runs),
        "longest_shrunk": max((r["length"] or 0) for r in runs),
        "missed_seeds": [r["seed"] for r in runs if not r["found"]],
        "found_at_median": statistics.median(found_at) if found_at else None,
        "found_at_worst": max(found_at) if found_at else None,
        "seconds_median": statistics.median(seconds),
        "seconds_worst": max(seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0:100", help="start:stop (Python range)")
    parser.add_argument("--guide", choices=list(GUIDES), default="default")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--max-examples", type=int, default=MAX_EXAMPLES)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    start, stop = (int(n) for n in args.seeds.split(":"))
    seeds = range(start, stop)
    targets = cases()
    jobs = [(v, p, seed, args.guide, args.max_examples) for v, p, _ in targets for seed in seeds]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        runs = list(pool.map(one, jobs, chunksize=4))
    rows = []
    for variant_id, property_id, shortest in targets:
        mine = [r for r in runs if r["variant"] == variant_id and r["property"] == property_id]
        rows.append({"variant": variant_id, "property": property_id, **summarise(mine, shortest)})
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "budget": {"max_examples": args.max_examples, "steps": STEP_COUNT},
        "guide": args.guide,
        "rows": rows,
    }
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    show(report)


def show(report: dict[str, Any]) -> None:
    table = Table(
        title=f"fuzz sweep, guide {report['guide']}, {report['budget']} ({report['machine']})"
    )
    for column in (
        "variant",
        "expected violation",
        "found",
        "shrunk to shortest",
        "examples to find (median / worst)",
        "seconds (median / worst)",
    ):
        table.add_column(column)
    for r in report["rows"]:
        table.add_row(
            r["variant"],
            r["property"],
            f"{r['found']}/{r['seeds']}",
            f"{r['shrunk_to_shortest']}/{r['seeds']} (length {r['shortest']})",
            f"{r['found_at_median']} / {r['found_at_worst']}",
            f"{r['seconds_median']:.2f} / {r['seconds_worst']:.2f}",
        )
    Console().print(table)
    for r in report["rows"]:
        if r["missed_seeds"]:
            print(f"{r['variant']} {r['property']}: missed for seeds {r['missed_seeds']}")


if __name__ == "__main__":
    main()
