"""Benchmark of the checking engine (not a test): explorer and fuzzer throughput.

    .venv/bin/python bench/bench.py [--quick] [--json]

Prints, for the default bounds and larger ones: states, transitions, states per second,
seconds to the first counterexample of the firmware and join problems, fuzzing steps per
second, and the wall time of ``smi-spec check --variant all`` from the shell (start-up
included). Record the figures in docs/performance.md with the machine they came from.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from checker.explorer import Bounds, explore
from checker.fuzz import fuzz
from model.variant import load_variant

ROOT = Path(__file__).resolve().parent.parent
BOUNDS = {
    "default": Bounds(),
    "3 versions, 2 lost, DCC events": Bounds(versions=3, max_lost=2, dcc_events=True),
    "1 meter x 2 CADs, 2 lost": Bounds(cads=2, max_lost=2),
    "2 meters x 1 CAD": Bounds(meters=2),
}


def machine() -> str:
    cpus = os.cpu_count()
    processor = platform.processor() or platform.machine()
    return f"{processor}, {cpus} cores, Python {platform.python_version()}"


def check_wall(runs: int = 5) -> dict[str, float]:
    """``smi-spec check --variant all`` from the shell, pinned to one core where possible,
    without the result cache (bench/cache_bench.py measures that)."""
    exe = str(Path(sys.executable).with_name("smi-spec"))
    command = ["taskset", "-c", "0", exe, "check", "--variant", "all", "--no-cache"]
    if subprocess.run(["which", "taskset"], capture_output=True).returncode != 0:
        command = command[3:]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return {"min": min(times), "median": statistics.median(times), "runs": runs}


def explorer_rows(names: list[str]) -> list[dict[str, object]]:
    rows = []
    for name in names:
        for variant_id in ("baseline", "mp105", "mp178"):
            e = explore(load_variant(variant_id), BOUNDS[name])
            rows.append(
                {
                    "bounds": name,
                    "variant": variant_id,
                    "states": e.states,
                    "transitions": e.transitions,
                    "seconds": e.seconds,
                    "states_per_second": e.states / e.seconds,
                    "transitions_per_second": e.transitions / e.seconds,
                }
            )
    return rows


def first_counterexample(names: list[str]) -> list[dict[str, object]]:
    rows = []
    for name in names:
        for property_id in ("firmware-recoverable", "join-recoverable"):
            started = time.perf_counter()
            e = explore(load_variant("baseline"), BOUNDS[name], [property_id])
            seconds = time.perf_counter() - started
            rows.append(
                {
                    "bounds": name,
                    "property": property_id,
                    "seconds": seconds,
                    "length": len(e.result(property_id).actions),
                }
            )
    return rows


def fuzz_rate() -> dict[str, float]:
    variant = load_variant("baseline")
    holding = ("suspended-gate", "prior-status-restored", "no-false-restore", "unjoin-validated")
    result = fuzz(variant, holding, max_examples=300, step_count=30, seed=1)
    return {
        "steps": result.steps,
        "seconds": result.seconds,
        "steps_per_second": result.steps / result.seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="default bounds only")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    names = ["default"] if args.quick else list(BOUNDS)
    report = {
        "machine": machine(),
        "check_wall_seconds": check_wall(),
        "explorer": explorer_rows(names),
        "first_counterexample": first_counterexample(names[:2]),
        "fuzz": fuzz_rate(),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    console = Console()
    console.print(f"machine: {report['machine']}")
    wall = report["check_wall_seconds"]
    console.print(
        f"smi-spec check --variant all (shell, start-up included): min {wall['min']:.2f}s, "
        f"median {wall['median']:.2f}s over {wall['runs']} runs"
    )
    table = Table(title="Explorer")
    for column in (
        "bounds",
        "variant",
        "states",
        "transitions",
        "seconds",
        "states/s",
        "transitions/s",
    ):
        table.add_column(column)
    for r in report["explorer"]:
        table.add_row(
            str(r["bounds"]),
            str(r["variant"]),
            f"{r['states']:,}",
            f"{r['transitions']:,}",
            f"{r['seconds']:.2f}",
            f"{r['states_per_second']:,.0f}",
            f"{r['transitions_per_second']:,.0f}",
        )
    console.print(table)
    table = Table(title="Seconds to the first counterexample (baseline)")
    for column in ("bounds", "property", "seconds", "trace length"):
        table.add_column(column)
    for r in report["first_counterexample"]:
        table.add_row(str(r["bounds"]), str(r["property"]), f"{r['seconds']:.2f}", str(r["length"]))
    console.print(table)
    f = report["fuzz"]
    console.print(
        f"fuzzing (live machines, baseline): {f['steps']:,} steps in {f['seconds']:.1f}s = "
        f"{f['steps_per_second']:,.0f} steps/s"
    )


if __name__ == "__main__":
    main()
