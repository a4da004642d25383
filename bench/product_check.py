"""Benchmark (not a test): ``smi-spec check`` of the product at N meters against the
compositional verdicts, with its time and peak memory.

    .venv/bin/python bench/product_check.py [--variant baseline] [--meters 3] [--out DIR]

Runs ``smi-spec check --variant V --meters N --jobs 1 --no-cache --format json`` under
``/usr/bin/time -v`` (wall and CPU time, peak resident memory from the kernel), then the
same check at 1 meter, which is the compositional check (``checker.compose``: each closed
system's verdicts are those of one device of its type, ``tests/test_compose.py``), and
compares, for every property and every system, the verdict and the length of the shortest
story. Prints the figures and the comparison; exit code 0 when every verdict and length is
equal, 1 otherwise. With ``--out``, the two JSON reports and the ``time -v`` output are
kept there.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMI_SPEC = [sys.executable, "-m", "smi_spec"]


def run_check(variant: str, meters: int, out: Path) -> tuple[dict[str, object], dict[str, str]]:
    """The JSON report of one check, and ``/usr/bin/time -v``'s figures for it."""
    report, timing = out / f"check-{meters}.json", out / f"time-{meters}.txt"
    command = ["/usr/bin/time", "-v", *SMI_SPEC, "check", "--variant", variant]
    command += ["--meters", str(meters), "--jobs", "1", "--no-cache", "--format", "json"]
    with report.open("w") as stdout, timing.open("w") as stderr:
        code = subprocess.run(command, cwd=ROOT, stdout=stdout, stderr=stderr).returncode
    if code not in (0, 1):
        raise SystemExit(f"check at {meters} meters: exit {code}: {timing.read_text()[-2000:]}")
    lines = [line.strip().rsplit(": ", 1) for line in timing.read_text().splitlines()]
    figures = {line[0]: line[1] for line in lines if len(line) == 2}
    return json.loads(report.read_text()), figures


def verdicts(report: dict[str, object]) -> dict[tuple[str, str], tuple[str, int]]:
    """(property, subject) -> (verdict, length of the shortest story)."""
    found = {}
    for variant in report["variants"]:  # type: ignore[attr-defined]
        for prop in variant["properties"]:
            for subject, told in prop["by_subject"].items():
                found[prop["id"], subject] = (told["verdict"], len(told["trace"]))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", default="baseline")
    parser.add_argument("--meters", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="product-check-"))
    out.mkdir(parents=True, exist_ok=True)
    product, figures = run_check(args.variant, args.meters, out)
    components, _ = run_check(args.variant, 1, out)
    states = sum(v["states"] for v in product["variants"])  # type: ignore[attr-defined]
    print(f"{args.variant}, {args.meters} meters: {states:,} states in every system")
    for name in (
        "Elapsed (wall clock) time (h:mm:ss or m:ss)",
        "User time (seconds)",
        "System time (seconds)",
        "Maximum resident set size (kbytes)",
    ):
        print(f"  {name}: {figures.get(name)}")
    mine, theirs = verdicts(product), verdicts(components)
    differ = {k: (mine.get(k), theirs.get(k)) for k in mine.keys() | theirs.keys()}
    differ = {k: v for k, v in differ.items() if v[0] != v[1]}
    for (prop, subject), (at_n, at_1) in sorted(differ.items()):
        print(f"  DIFFERS {prop} ({subject}): {at_n} at {args.meters} meters, {at_1} composed")
    print(
        f"  {len(mine) - len(differ)} of {len(mine)} verdicts and shortest lengths equal "
        f"the compositional ones; reports kept in {out}"
    )
    raise SystemExit(1 if differ else 0)


if __name__ == "__main__":
    main()
