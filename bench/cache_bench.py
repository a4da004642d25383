"""Benchmark of ``check``'s result cache (not a test): CPU seconds of
``smi-spec check --variant all`` cold (``--no-cache``) and warm (the same check again, its
result in the cache), interleaved so that a machine loaded by other jobs weighs on both.

    .venv/bin/python bench/cache_bench.py [--runs N] [--json]

CPU time (user + system of the process, from ``resource``) rather than wall time: the
issue's goal is a warm run of at most 0.5 CPU seconds (issue 23). The cache is a
temporary directory, primed by one run first. Record the figures in docs/performance.md
with the machine they came from.
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
COMMAND = ("check", "--variant", "all")


def machine() -> str:
    """As bench/bench.py says it."""
    processor = platform.processor() or platform.machine()
    return f"{processor}, {os.cpu_count()} cores, Python {platform.python_version()}"


def cpu_seconds(args: list[str], env: dict[str, str]) -> float:
    """The CPU seconds (user + system) of one ``smi-spec`` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    exe = str(Path(sys.executable).with_name("smi-spec"))
    subprocess.run([exe, *args], capture_output=True, cwd=ROOT, env=env, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(runs: int) -> dict[str, object]:
    """``runs`` cold and ``runs`` warm checks, alternating, with a cache of their own."""
    with tempfile.TemporaryDirectory(prefix="smi-spec-cache-") as cache:
        env = {**os.environ, "SMI_SPEC_CACHE_DIR": cache}
        cpu_seconds(list(COMMAND), env)  # primes the cache
        cold, warm = [], []
        for _ in range(runs):
            cold.append(cpu_seconds([*COMMAND, "--no-cache"], env))
            warm.append(cpu_seconds(list(COMMAND), env))
    summary = {
        name: {"median": statistics.median(times), "worst": max(times), "runs": times}
        for name, times in (("cold", cold), ("warm", warm))
    }
    ratio = statistics.median(cold) / statistics.median(warm)
    return {
        "machine": machine(),
        "command": "smi-spec " + " ".join(COMMAND),
        **summary,
        "ratio": ratio,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = measure(args.runs)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"machine: {report['machine']}")
    for name in ("cold", "warm"):
        times = report[name]
        assert isinstance(times, dict)
        print(
            f"{report['command']} {name}: median {times['median']:.2f} CPU s, worst "
            f"{times['worst']:.2f} over {len(times['runs'])} runs"
        )
    print(f"cold / warm (medians): {report['ratio']:.1f}x")


if __name__ == "__main__":
    main()
