"""Benchmark (not a test): the CPU seconds of a cold ``smi-spec check --variant all
--no-cache``, a BEFORE tree against this one, interleaved so that both see the same load;
then a warm check of this tree (its result in a fresh cache) (issue 23).

    git worktree add --detach /tmp/check-before 44cae0d
    .venv/bin/python bench/check_ab.py --before /tmp/check-before [--runs 3] [--json]

Each measurement is a fresh process, ``python -m smi_spec check --variant all --no-cache``,
run with its tree first on ``PYTHONPATH`` and as its working directory; the modules each
tree's process imports are printed once, so a run that imported the wrong tree shows. CPU
time is user + system of the child (``resource.getrusage(RUSAGE_CHILDREN)`` deltas). Runs
alternate: before, this tree, before, ... Prints each tree's median and worst, the ratio of
the medians, and the warm check: a fresh ``SMI_SPEC_CACHE_DIR``, one run that fills it,
then ``--runs`` timed runs with it. Record the figures in docs/performance.md with the
machine and the load average they came from.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECK = ("-m", "smi_spec", "check", "--variant", "all")
WHERE = "import checker.causes, smi_spec; print(checker.causes.__file__, smi_spec.__file__)"


def machine() -> str:
    """As bench/bench.py says it, with the load average."""
    processor = platform.processor() or platform.machine()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{processor}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load}"
    )


def environment(tree: Path, cache: str | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    if cache is not None:
        env["SMI_SPEC_CACHE_DIR"] = cache
    return env


def imported_from(tree: Path) -> str:
    """Where a process run for ``tree`` imports the checker and the command line from."""
    done = subprocess.run(
        [sys.executable, "-c", WHERE],
        env=environment(tree),
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def cpu_seconds(tree: Path, *extra: str, cache: str | None = None) -> float:
    """The CPU seconds (user + system) of one check process for ``tree``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, *CHECK, *extra],
        env=environment(tree, cache),
        cwd=tree,
        capture_output=True,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{tree}: check failed: {done.stderr.decode()[-400:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(before: Path, runs: int) -> dict[str, object]:
    trees = {"before": before.resolve(), "after": ROOT}
    cold: dict[str, list[float]] = {name: [] for name in trees}
    for _ in range(runs):
        for name, tree in trees.items():
            seconds = cpu_seconds(tree, "--no-cache")
            cold[name].append(seconds)
            print(f"  cold {name}: {seconds:.2f} CPU s", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="smi-spec-cache-") as cache:
        cpu_seconds(ROOT, cache=cache)  # fills the cache
        warm = [cpu_seconds(ROOT, cache=cache) for _ in range(runs)]
    medians = {name: statistics.median(values) for name, values in cold.items()}
    return {
        "machine": machine(),
        "command": " ".join(("python", *CHECK, "--no-cache")),
        "imported": {name: imported_from(tree) for name, tree in trees.items()},
        "cold": {
            name: {"runs": values, "median": medians[name], "worst": max(values)}
            for name, values in cold.items()
        },
        "ratio": medians["after"] / medians["before"],
        "warm": {"runs": warm, "median": statistics.median(warm), "worst": max(warm)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="a checkout to compare with")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="the figures as JSON")
    options = parser.parse_args()
    result = measure(options.before, options.runs)
    if options.json:
        print(json.dumps(result, indent=2))
        return
    print(result["machine"])
    print(f"command: {result['command']}")
    for name, where in result["imported"].items():  # type: ignore[attr-defined]
        print(f"{name} imports {where}")
    for name, figures in result["cold"].items():  # type: ignore[attr-defined]
        runs = ", ".join(f"{x:.2f}" for x in figures["runs"])
        print(
            f"cold, {name}: median {figures['median']:.2f} CPU s, worst "
            f"{figures['worst']:.2f} ({runs})"
        )
    print(f"after / before (medians): {result['ratio']:.2f}")
    warm = result["warm"]
    print(
        f"warm (cached), after: median {warm['median']:.2f} CPU s, "  # type: ignore[index]
        f"worst {warm['worst']:.2f}"  # type: ignore[index]
    )


if __name__ == "__main__":
    main()
