"""Benchmark: time and peak memory of the four readers against input size, up to their caps
(issue 25: each must grow linearly with its input).

Not a test. For each reader it writes inputs of 1/8, 1/4, 1/2 and all of its top size to a
temporary directory and runs the command a user would under ``/usr/bin/time -v`` (one run
per size; ``--runs`` for more, the median is kept), then prints wall time, CPU time (user +
system) and peak memory per size, and the CPU time per MB of the last doubling against the
first (about 1 for linear growth, 2 for quadratic):

- variant: a 1 MiB variant file (its cap) of many Suspended exceptions, each warned of
  (``smi-spec explain 11.2 --variant FILE``);
- scenario: a 1 MB scenario of 10,000 noted steps (``smi-spec run FILE --format json``);
- log: a 10 MB message log in which every round names a new firmware version (CPL add,
  SR11.1 with that image, activation, SR11.2 read, CPL removal of the previous one)
  (``smi-spec replay FILE --format jsonl``);
- DUIS XML: a request padded with elements up to the 20,000-element cap
  (``smi-spec classify FILE --format json``).

    .venv/bin/python bench/readers_bench.py [--runs 1] [--only log]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FRACTIONS = (0.125, 0.25, 0.5, 1.0)
METERS = 4


def variant_file(path: Path, size: int) -> list[str]:
    """Exceptions for SRVs no CPL-listed type receives: each one a warning with its line."""
    head = 'id = "bench"\nextends = "baseline"\n\n[suspended]\nexceptions = [\n'
    entry = '  { srv = "6.28", source = "assumption" },\n'
    count = max(1, (size - len(head) - 4) // len(entry))
    path.write_text(head + entry * count + "]\n")
    return ["explain", "11.2", "--variant", str(path)]


def scenario_file(path: Path, size: int) -> list[str]:
    """Steps of about 100 bytes (a read with a note), at most the 10,000-step cap."""
    devices = [{"id": "esme1", "type": "ESME", "firmware": "F1"}]
    count = min(10_000, max(1, size // 100))
    step = {"sr": "11.2", "target": "esme1", "note": "x" * max(1, size // count - 48)}
    document = {"variant": "mp178", "cpl": ["F1"], "devices": devices, "steps": [step] * count}
    path.write_text(json.dumps(document))
    return ["run", str(path), "--format", "json"]


def log_file(path: Path, size: int) -> list[str]:
    devices: list[dict[str, object]] = []
    for n in range(1, METERS + 1):
        devices += [{"id": f"esme{n}", "type": "ESME", "firmware": "V0"}]
    inventory = {"inventory": {"variant": "mp105", "cpl": ["V0"], "devices": devices}}
    written = 0
    with path.open("w") as out:
        out.write(json.dumps(inventory) + "\n")
        version = 0
        while written < size:
            version += 1
            meter = f"esme{version % METERS + 1}"
            new, old = f"V{version}", f"V{version - 1}"
            for event in (
                {"cpl_add": new},
                {"inline": {"srv": "11.1", "target": meter, "image": new}},
                {"inline": {"srv": "11.3", "target": meter}},
                {"inline": {"srv": "11.2", "target": meter}},
                {"cpl_remove": old} if version % 3 == 0 else {"cpl_add": old},
            ):
                line = json.dumps(event) + "\n"
                out.write(line)
                written += len(line)
    return ["replay", str(path), "--format", "jsonl"]


def duis_file(path: Path, size: int) -> list[str]:
    template = (ROOT / "docs/replay/messages/sr11.2-read-firmware-version.xml").read_text()
    element = "<sr:Pad>x</sr:Pad>"
    count = min(19_900, max(0, (size - len(template)) // len(element)))
    padded = template.replace("</sr:Header>", "</sr:Header>", 1)
    padded = re.sub(r"(<sr:Body>)", r"\1" + element * count, padded, count=1)
    path.write_text(padded)
    return ["classify", str(path), "--format", "json"]


READERS: dict[str, tuple[Callable[[Path, int], list[str]], int, str]] = {
    "variant": (variant_file, 1024 * 1024 - 64, ".toml"),
    "scenario": (scenario_file, 1_000_000, ".json"),
    "log": (log_file, 10_000_000, ".jsonl"),
    "duis": (duis_file, 20_000 * 18, ".xml"),
}


def measure(args: list[str]) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds, peak MB and the exit code of one run."""
    command = ["/usr/bin/time", "-v", sys.executable, "-m", "smi_spec", *args]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    text = done.stderr

    def field(name: str) -> str:
        found = re.search(rf"{re.escape(name)}: (.+)", text)
        return found.group(1).strip() if found else "0"

    clock = field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")
    wall = sum(float(part) * 60**n for n, part in enumerate(reversed(clock)))
    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    peak = int(field("Maximum resident set size (kbytes)")) / 1024
    code = int(field("Exit status"))
    return wall, cpu, peak, code


def linearity(rows: list[tuple[int, float, float, float, list[int]]]) -> str:
    """CPU per MB of the last doubling against the first (the start-up cost, about half a
    second, cancels out): about 1 for linear growth, about 2 for quadratic."""
    (a, _, ca, _, _), (b, _, cb, _, _) = rows[0], rows[1]
    (c, _, cc, _, _), (d, _, cd, _, _) = rows[-2], rows[-1]
    first = (cb - ca) / (b - a) * 1e6
    last = (cd - cc) / (d - c) * 1e6
    ratio = last / first if first > 0 else float("nan")
    return f"cpu per MB: first doubling {first:.2f} s, last {last:.2f} s (ratio {ratio:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--only", choices=sorted(READERS), action="append")
    options = parser.parse_args()
    if shutil.which("/usr/bin/time") is None:
        sys.exit("needs /usr/bin/time (GNU time)")
    with tempfile.TemporaryDirectory() as scratch:
        for name in options.only or list(READERS):
            make, top, suffix = READERS[name]
            rows = []
            for fraction in FRACTIONS:
                path = Path(scratch) / f"{name}-{fraction}{suffix}"
                args = make(path, int(top * fraction))
                size = path.stat().st_size
                runs = [measure(args) for _ in range(options.runs)]
                wall = statistics.median(r[0] for r in runs)
                cpu = statistics.median(r[1] for r in runs)
                peak = max(r[2] for r in runs)
                codes = sorted({r[3] for r in runs})
                rows.append((size, wall, cpu, peak, codes))
                print(
                    f"{name:8} {size:>11,} bytes  wall {wall:6.2f} s  cpu {cpu:6.2f} s  "
                    f"peak {peak:6.0f} MB  exit {codes}",
                    flush=True,
                )
            print(f"{name:8} {linearity(rows)}", flush=True)


if __name__ == "__main__":
    main()
