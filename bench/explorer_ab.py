"""Benchmark (not a test): the explorer's states per CPU second, this tree against another
checkout, interleaved so that both see the same load.

    git worktree add --detach /tmp/base BASE
    .venv/bin/python bench/explorer_ab.py --base /tmp/base [--runs 5] [--meters 1 2]

Each measurement is a fresh process importing the explorer from one tree (``PYTHONPATH``)
and timing ``explore`` of the baseline variant with N meters x 1 CAD at the other default
bounds, in CPU seconds of that process (``time.process_time``), after one untimed run that
loads the data; at 1 meter, whose exploration takes a fraction of a second, each
measurement is the sum of 5 explorations. Runs alternate: base, this tree, base, ...
Prints each tree's median and worst states per CPU second, per meter count.
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
import gc, json, sys, time
from checker.explorer import Bounds, explore
from model.variant import load_variant
meters, repeat = int(sys.argv[1]), int(sys.argv[2])
variant, bounds = load_variant("baseline"), Bounds(meters=meters)
if meters == 1:
    explore(variant, bounds)
states = 0
started = time.process_time()
for _ in range(repeat):
    e = explore(variant, bounds)
    states += e.states
    del e
    gc.collect()
cpu = time.process_time() - started
print(json.dumps({"states": states // repeat, "cpu": cpu, "rate": states / cpu}))
"""


def one(tree: Path, meters: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    repeat = "5" if meters == 1 else "1"
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(meters), repeat],
        env=env,
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--meters", type=int, nargs="+", default=[1, 2])
    options = parser.parse_args()
    trees = {"base": options.base.resolve(), "this": ROOT}
    for meters in options.meters:
        rates: dict[str, list[float]] = {name: [] for name in trees}
        states = {}
        for _ in range(options.runs):
            for name, tree in trees.items():
                result = one(tree, meters)
                rates[name].append(result["rate"])
                states[name] = result["states"]
                print(f"  {meters} meter(s) {name}: {result['rate']:,.0f} states/CPU s", flush=True)
        for name in trees:
            print(
                f"{meters} meter(s), {name}: {states[name]:,} states, median "
                f"{statistics.median(rates[name]):,.0f} states/CPU s, worst "
                f"{min(rates[name]):,.0f}, best {max(rates[name]):,.0f}"
            )
        change = statistics.median(rates["this"]) / statistics.median(rates["base"]) - 1
        print(f"{meters} meter(s): this tree's median is {change:+.1%} against base")


if __name__ == "__main__":
    main()
