"""Mutation testing of the rules and the properties (a benchmark, not a test).

    .venv/bin/python bench/mutation.py --out mutation-report.md [--jobs 2]
    .venv/bin/python bench/mutation.py --list
    .venv/bin/python bench/mutation.py --only gate-drops-command-variant --out one.md
    .venv/bin/python bench/mutation.py --sample 20 --out sample.md

Applies each mutant of ``bench/mutation_set.py`` (operators: ``bench/mutants.py``) to a
temporary copy of the tree and judges it with the project's own checks, cheapest first,
stopping at the first that notices (kills) it:

1. ``smi-spec check --variant all --format json``: every verdict, per variant, property
   and device type, and whether it was vacuous, against the unmutated tree's;
2. the test files most related to the mutated file (the bite tests of issue 26 first,
   then the files that import the mutated module), ``pytest -x``;
3. the rest of the default suite, cheapest files first, ``pytest -x``.

The bench's own tests and the browser test are left out in the copies. A mutant whose
site is gone is reported *not applicable*; an excluded survivor (``EQUIVALENT``) is not
run. The report gives the kill rate of rule mutants and of property mutants, every
survivor with its diff, what killed the others, and the elapsed time. Exit code 0 when
rule mutants are killed at 95% or more and property mutants at 100%, 1 when not, 2 for
bad input.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutants import Mutant
from mutation_set import EQUIVALENT, KNOWN_GAPS, all_mutants

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("model", "properties", "smi_spec", "tests", "docs", "diagrams", "scripts", "bench")
COPIED_FILES = ("pyproject.toml", "README.md")
#: Never run in a copy: the bench's own tests, and the browser test (slow, needs chromium).
EXCLUDED_TESTS = ("test_mutation_bench.py", "test_browser.py")
#: The bite tests of issue 26, run first for a mutant of their kind.
BITE = {"rule": "test_rules_bite.py", "property": "test_properties_bite.py"}
#: Test files that take longest (docs/performance.md): run last.
SLOW_LAST = (
    "test_security_outputs.py",
    "test_report.py",
    "test_testpack.py",
    "test_fuzz.py",
    "test_explorer.py",
)
#: Test files that judge the rule data, for a mutant of a data file.
DATA_TESTS = ("test_variants.py", "test_rules_as_data.py", "test_check_e5.py")
TIMEOUTS = {"check": 300, "related tests": 900, "rest of the suite": 1800}
RULE_TARGET, PROPERTY_TARGET = 0.95, 1.0
#: ``--bite``: judge by the bite test of the mutant's kind alone (to show it kills).
BITE_ONLY = False


class BadInput(Exception):
    """Bad input: one line on stderr, exit code 2."""


@dataclass
class Result:
    mutant: Mutant
    status: str  # killed, survived, not applicable, error
    by: str = ""
    seconds: float = 0.0
    diff: str = ""
    detail: str = ""


def copy_tree(dst: Path) -> None:
    # Compiled bytecode is copied with its source's modification time (copy2), so only the
    # mutated file, written afresh, is compiled again in the copy.
    ignore = shutil.ignore_patterns(".hypothesis", ".pytest_cache")
    for name in COPIED:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, dst / name, ignore=ignore)
    for name in COPIED_FILES:
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, dst / name)


def environment(tree: Path) -> dict[str, str]:
    """Imports resolve to the copy first (before the editable install of ROOT)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)
    env.pop("PYTEST_ADDOPTS", None)
    return env


def run(command: list[str], tree: Path, timeout: int) -> tuple[int | None, str]:
    """Exit code (None on timeout) and the output's tail."""
    try:
        done = subprocess.run(
            command,
            cwd=tree,
            env=environment(tree),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return None, "timed out"
    return done.returncode, (done.stdout + done.stderr)[-1500:]


def verdicts(tree: Path) -> tuple[int | None, object]:
    """``smi-spec check --variant all``'s exit code and every verdict it gives."""
    command = [sys.executable, "-m", "smi_spec", "check", "--variant", "all", "--format", "json"]
    command.append("--no-cache")  # a mutant's result is of no use again
    try:
        done = subprocess.run(
            command,
            cwd=tree,
            env=environment(tree),
            capture_output=True,
            text=True,
            timeout=TIMEOUTS["check"],
        )
    except subprocess.TimeoutExpired:
        return None, None
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        return done.returncode, "no JSON (a crash)"
    seen = []
    for variant in report.get("variants", []):
        for prop in variant.get("properties", []):
            for subject, found in sorted((prop.get("by_subject") or {}).items()):
                vacuous = found.get("armed") == 0
                seen.append((variant["variant"], prop["id"], subject, found["verdict"], vacuous))
    return done.returncode, sorted(seen)


def test_files(tree: Path) -> list[str]:
    names = sorted(p.name for p in (tree / "tests").glob("test_*.py"))
    names = [n for n in names if n not in EXCLUDED_TESTS]
    slow = [n for n in SLOW_LAST if n in names]
    return [n for n in names if n not in slow] + slow


def related(mutant: Mutant, tree: Path, names: list[str]) -> list[str]:
    """The bite tests of the mutant's kind, then the files importing the mutated module
    (for a data file: the rule-data tests), cheapest first."""
    chosen = [BITE[mutant.kind]]
    if mutant.path.endswith(".py"):
        package, stem = mutant.path.removesuffix(".py").split("/")
        # Rule code is reached through the DSP, property code through the explorer: their
        # tests are related to every rule or property module.
        stems = f"(?:{stem}|{'dsp' if package == 'model' else 'explorer'})"
        uses = re.compile(
            rf"(from|import)\s+{package}\.{stems}\b|from\s+{package}\s+import\s+[^\n]*\b{stems}\b"
        )
        chosen += [n for n in names if uses.search((tree / "tests" / n).read_text("utf-8"))]
    else:
        chosen += list(DATA_TESTS)
    if mutant.kind == "property":
        chosen.append("test_property_mutants.py")
    wanted = set(chosen[1:]) - {chosen[0]}
    return [chosen[0], *(n for n in names if n in wanted)]


def pytest(tree: Path, files: Iterable[str], timeout: int) -> tuple[int | None, str]:
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]
    command += ["-p", "no:randomly", "-o", "addopts=", "-m", "not slow", "-n", "0"]
    command += [f"tests/{name}" for name in files]
    return run(command, tree, timeout)


def judge(mutant: Mutant, expected: object) -> Result:
    """Apply one mutant in a fresh copy and run the checks, cheapest first."""
    started = time.perf_counter()
    original = (ROOT / mutant.path).read_text(encoding="utf-8")
    mutated = mutant.edit(original)
    if mutated is None or mutated == original:
        return Result(mutant, "not applicable", detail="its site is not in the code any more")
    diff = "".join(
        difflib.unified_diff(
            original.splitlines(keepends=True),
            mutated.splitlines(keepends=True),
            f"a/{mutant.path}",
            f"b/{mutant.path}",
            n=1,
        )
    )
    with tempfile.TemporaryDirectory(prefix="smi-mutant-") as temp:
        tree = Path(temp)
        copy_tree(tree)
        (tree / mutant.path).write_text(mutated, encoding="utf-8")
        result = _stages(mutant, tree, expected)
    result.seconds, result.diff = time.perf_counter() - started, diff
    return result


def _stages(mutant: Mutant, tree: Path, expected: object) -> Result:
    if BITE_ONLY:
        code, tail = pytest(tree, [BITE[mutant.kind]], TIMEOUTS["related tests"])
        if code in (1, 2):
            return Result(mutant, "killed", BITE[mutant.kind], detail=_first_failure(tail, code))
        return Result(mutant, "survived", detail=f"{BITE[mutant.kind]} passed (exit {code})")
    code, seen = verdicts(tree)
    if (code, seen) != expected:
        timed_out = code is None and seen is None
        by = "check (timeout)" if timed_out else "check"
        return Result(mutant, "killed", by, detail="timed out" if timed_out else "verdicts differ")
    names = test_files(tree)
    first = related(mutant, tree, names)
    rest = [n for n in names if n not in first]
    for stage, files in (("related tests", first), ("rest of the suite", rest)):
        if not files:
            continue
        code, tail = pytest(tree, files, TIMEOUTS[stage])
        if code is None:
            return Result(mutant, "killed", f"{stage} (timeout)", detail="timed out")
        if code in (1, 2):
            return Result(mutant, "killed", stage, detail=_first_failure(tail, code))
        if code not in (0, 5):
            return Result(mutant, "error", stage, detail=tail[-600:])
    return Result(mutant, "survived", detail="every check and test passed")


def _first_failure(tail: str, code: int | None) -> str:
    if code is None:
        return "timed out"
    failed = [line for line in tail.splitlines() if line.startswith(("FAILED", "ERROR"))]
    return failed[0][:200] if failed else f"pytest exit {code}"


def baseline() -> object:
    """The unmutated tree's verdicts, from a copy like the mutants'."""
    with tempfile.TemporaryDirectory(prefix="smi-mutant-") as temp:
        copy_tree(Path(temp))
        return verdicts(Path(temp))


def select(mutants: list[Mutant], only: list[str], sample: int | None, seed: int) -> list[Mutant]:
    if only:
        known = {m.name: m for m in mutants}
        missing = [n for n in only if n not in known]
        if missing:
            raise BadInput(f"unknown mutant {missing[0]!r} (see --list)")
        return [known[n] for n in only]
    if sample is not None:
        return random.Random(seed).sample(mutants, min(sample, len(mutants)))
    return mutants


def rates(results: list[Result]) -> dict[str, tuple[int, int]]:
    """Killed and judged, per kind (equivalent and not applicable mutants are not judged)."""
    out = {}
    for kind in ("rule", "property"):
        judged = [
            r for r in results if r.mutant.kind == kind and r.status in ("killed", "survived")
        ]
        out[kind] = (sum(r.status == "killed" for r in judged), len(judged))
    return out


def _rate(killed: int, judged: int) -> str:
    return f"{killed}/{judged} ({100 * killed / judged:.1f}%)" if judged else "none judged"


def report(results: list[Result], excluded: list[Mutant], stale: list[str], meta: dict) -> str:
    """The run's report, in Markdown."""
    by_kind = rates(results)
    lines = [
        "# Mutation run",
        "",
        f"Command: `{meta['command']}`  ",
        f"Machine: {meta['machine']}; jobs {meta['jobs']}; elapsed {meta['elapsed']:.0f} s "
        f"({meta['elapsed'] / 60:.1f} min)",
        "",
        "| | mutants | killed / judged |",
        "|---|---|---|",
    ]
    for kind, (killed, judged) in by_kind.items():
        total = sum(r.mutant.kind == kind for r in results)
        lines.append(f"| {kind} | {total} | {_rate(killed, judged)} |")
    stages: dict[str, int] = {}
    for r in results:
        if r.status == "killed":
            stages[r.by] = stages.get(r.by, 0) + 1
    lines += ["", "Killed by: " + (", ".join(f"{k} {v}" for k, v in stages.items()) or "none")]
    na = [r for r in results if r.status == "not applicable"]
    errors = [r for r in results if r.status == "error"]
    lines += _listing("Not applicable (site gone)", [f"`{r.mutant.name}`" for r in na])
    lines += _listing("Errors (not judged)", [f"`{r.mutant.name}`: {r.detail}" for r in errors])
    lines += _listing(
        "Excluded as equivalent", [f"`{m.name}`: {EQUIVALENT[m.name]}" for m in excluded]
    )
    lines += _listing("Stale exclusions (no such mutant)", [f"`{n}`" for n in stale])
    lines += ["", "## Survivors", ""]
    survivors = [r for r in results if r.status == "survived"]
    if not survivors:
        lines.append("None.")
    for r in survivors:
        gap = KNOWN_GAPS.get(r.mutant.name)
        lines += [
            f"### `{r.mutant.name}` ({r.mutant.kind}, {r.mutant.operator})",
            "",
            r.mutant.what + (f". Known gap: {gap}" if gap else ""),
            "",
            "```diff",
            r.diff.rstrip(),
            "```",
            "",
        ]
    lines += ["", "## Every mutant", "", "| mutant | kind | result | by | first failure | s |"]
    lines.append("|---|---|---|---|---|---|")
    for r in results:
        name = r.mutant.name.replace("|", "\\|")
        detail = r.detail.replace("|", "\\|")
        lines.append(
            f"| `{name}` | {r.mutant.kind} | {r.status} | {r.by} | {detail} | {r.seconds:.0f} |"
        )
    return "\n".join(lines) + "\n"


def _listing(title: str, items: list[str]) -> list[str]:
    return ["", f"{title}: {len(items)}", *(f"- {item}" for item in items)] if items else []


def passed(results: list[Result]) -> bool:
    by_kind = rates(results)
    ok = True
    for kind, target in (("rule", RULE_TARGET), ("property", PROPERTY_TARGET)):
        killed, judged = by_kind[kind]
        ok = ok and (judged == 0 or killed >= target * judged)
    return ok


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Mutation testing of rules and properties.")
    parser.add_argument("--out", type=Path, help="write the Markdown report here")
    parser.add_argument("--jobs", type=int, default=2, help="mutants judged at once")
    parser.add_argument("--only", action="append", default=[], help="one mutant by name")
    parser.add_argument("--sample", type=int, help="a random sample of N mutants")
    parser.add_argument("--seed", type=int, default=26, help="the sample's seed")
    parser.add_argument("--kind", choices=("rule", "property"), help="only mutants of this kind")
    parser.add_argument("--all-sites", action="store_true", help="every generic site, no cap")
    parser.add_argument(
        "--bite", action="store_true", help="judge by the bite test file alone (no check, no suite)"
    )
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        return _main(args, argv)
    except BadInput as error:
        print(f"mutation: {error}", file=sys.stderr)
        return 2


def _main(args: argparse.Namespace, argv: list[str] | None) -> int:
    if args.jobs < 1 or (args.sample is not None and args.sample < 1):
        raise BadInput("--jobs and --sample take a positive number")
    if args.out is not None and not args.out.parent.is_dir():
        raise BadInput(f"cannot write {args.out}: no such directory")
    global BITE_ONLY
    BITE_ONLY = args.bite
    caps = {"rule": None, "property": None} if args.all_sites else None
    every = all_mutants(ROOT, caps)
    mutants = [m for m in every if args.kind in (None, m.kind)]
    if args.list:
        for m in mutants:
            print(f"{m.kind}\t{m.operator}\t{m.name}")
        return 0
    names = {m.name for m in every}
    stale = sorted(set(EQUIVALENT) - names)
    chosen = select(mutants, args.only, args.sample, args.seed)
    excluded = [m for m in chosen if m.name in EQUIVALENT]
    chosen = [m for m in chosen if m.name not in EQUIVALENT]
    started = time.perf_counter()
    expected = baseline()
    if not isinstance(expected[1], list):
        raise BadInput("smi-spec check fails on the unmutated tree: fix it first")
    results = _judge_all(chosen, expected, args.jobs)
    meta = {
        "command": "python bench/mutation.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": _machine(),
        "jobs": args.jobs,
        "elapsed": time.perf_counter() - started,
    }
    text = report(results, excluded, stale, meta)
    if args.out is not None:
        temporary = args.out.with_name(args.out.name + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(args.out)
    by_kind = rates(results)
    print(
        f"rule mutants killed {_rate(*by_kind['rule'])}, property mutants killed "
        f"{_rate(*by_kind['property'])}; {sum(r.status == 'survived' for r in results)} "
        f"survivor(s); {meta['elapsed']:.0f} s"
    )
    return 0 if passed(results) else 1


def _judge_all(chosen: list[Mutant], expected: object, jobs: int) -> list[Result]:
    done: list[Result] = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for result in pool.map(lambda m: judge(m, expected), chosen):
            done.append(result)
            print(
                f"[{len(done)}/{len(chosen)}] {result.status:<14} {result.by:<18} "
                f"{result.seconds:5.0f} s  {result.mutant.name}",
                file=sys.stderr,
                flush=True,
            )
    return done


def _machine() -> str:
    import platform

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


if __name__ == "__main__":
    sys.exit(main())
