"""Benchmark (not a test): the dense explorer against the explorer, states per CPU second
and bytes per state, in one run.

    git worktree add --detach /tmp/explorer-before 44cae0d      # the explorer before issue 23
    .venv/bin/python bench/dense_ab.py [--before /tmp/explorer-before] [--runs 3] [--meters 2]

Each measurement is a fresh process that imports everything, compiles the machine tables
and explores once untimed at 1 meter (so both engines start from the same warm process),
then explores the variant's ESME-with-CAD system at N meters with one engine
(``explore(..., engine=...)``): CPU seconds of that exploration (``time.process_time``),
and its memory as the growth of the process's peak resident set over its resident set
just before (``ru_maxrss`` against ``/proc/self/statm``), divided by the states. Runs
alternate, python, dense, python, ..., so both see the same load. Prints each engine's
median and worst, and the ratios; the verdicts and shortest story lengths of the two are
compared on every run (a difference is an error). With ``--before TREE``, the explorer of
that checkout is measured too, in the same rotation (``PYTHONPATH=TREE``): the explorer as
it was before this work, which is what the dense one is measured against.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, os, resource, sys, time
from checker.explorer import Bounds, explore
from checker.machine_tables import compiled
from model.variant import load_variant
engine, meters, variant_ref = sys.argv[1], int(sys.argv[2]), sys.argv[3]
variant = load_variant(variant_ref)
compiled()
options = {} if engine == "before" else {"engine": engine}
explore(variant, Bounds(), **options)
page = os.sysconf("SC_PAGE_SIZE")
with open("/proc/self/statm") as statm:
    resident = int(statm.read().split()[1]) * page
started = time.process_time()
e = explore(variant, Bounds(meters=meters), **options)
cpu = time.process_time() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({
    "states": e.states,
    "transitions": e.transitions,
    "cpu": cpu,
    "grown": max(0, peak - resident),
    "verdicts": [(p.id, p.verdict, len(p.actions)) for p in e.properties],
}))
"""


def one(engine: str, meters: int, variant: str, tree: Path = ROOT) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, engine, str(meters), variant],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--meters", type=int, default=2)
    parser.add_argument("--variant", default="baseline")
    parser.add_argument("--before", type=Path, help="a checkout of the explorer before")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    found: dict[str, list[dict[str, object]]] = {"python": [], "dense": []}
    if args.before:
        found = {"before": [], **found}
    for _ in range(args.runs):
        for engine in found:
            tree = args.before if engine == "before" else ROOT
            found[engine].append(one(engine, args.meters, args.variant, tree))
            print(engine, found[engine][-1], file=sys.stderr, flush=True)
    reference = found["python"][0]
    for engine, runs in found.items():
        for run in runs:
            same = (run["states"], run["transitions"], run["verdicts"]) == (
                reference["states"],
                reference["transitions"],
                reference["verdicts"],
            )
            if not same:
                raise SystemExit(f"{engine} disagrees with the explorer: {run} against {reference}")
    summary = {}
    for engine, runs in found.items():
        rates = sorted(float(r["states"]) / float(r["cpu"]) for r in runs)  # type: ignore[arg-type]
        sizes = sorted(float(r["grown"]) / float(r["states"]) for r in runs)  # type: ignore[arg-type]
        summary[engine] = {
            "states": reference["states"],
            "states_per_cpu_s_median": statistics.median(rates),
            "states_per_cpu_s_worst": rates[0],
            "bytes_per_state_median": statistics.median(sizes),
            "bytes_per_state_worst": sizes[-1],
        }
    summary["ratio"] = {
        f"dense/{other}_{kind}": summary["dense"][f"states_per_cpu_s_{kind}"]
        / summary[other][f"states_per_cpu_s_{kind}"]
        for other in found
        if other != "dense"
        for kind in ("median", "worst")
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{args.variant}, {args.meters} meters x 1 CAD, {reference['states']:,} states")
    for engine in found:
        s = summary[engine]
        print(
            f"{engine:>7}: {s['states_per_cpu_s_median']:,.0f} states/CPU s median "
            f"({s['states_per_cpu_s_worst']:,.0f} worst), {s['bytes_per_state_median']:.1f} "
            f"bytes/state median ({s['bytes_per_state_worst']:.1f} worst)"
        )
    ratio = summary["ratio"]
    for other in found:
        if other != "dense":
            print(
                f"  dense/{other}: {ratio[f'dense/{other}_median']:.2f}x median, "
                f"{ratio[f'dense/{other}_worst']:.2f}x worst against worst"
            )


if __name__ == "__main__":
    main()
