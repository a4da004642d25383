"""The mutation bench's machinery (bench/mutation.py), on a tiny synthetic module and
synthetic data, never on the rules themselves: moving a rule must not break this suite
(a mutant whose site is gone is the bench's "not applicable", not a failure here)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import mutation  # noqa: E402
from mutants import PRIORITY, Mutant, generated, json_row, replace_in, toml_row, toml_value  # noqa: E402
from mutation_set import EQUIVALENT, KNOWN_GAPS, all_mutants  # noqa: E402

SYNTHETIC = '''"""A tiny rule module."""


def judge(devices, limit):
    found = []
    for d in devices:
        if d.status == "suspended" and d.version not in limit:
            found.append(d)
    return all(d.ok for d in found)


class Gate:
    def admits(self, request):
        return request.critical or request.listed
'''


def test_every_operator_makes_parseable_distinct_mutants() -> None:
    mutants = generated("model/tiny.py", SYNTHETIC, "judge", "rule")
    operators = {m.operator for m in mutants}
    assert {"negate-if", "drop-condition", "flip-compare", "quantifier", "first-only"} <= operators
    assert "drop-effect" in operators and set(operators) <= set(PRIORITY)
    texts = set()
    for m in mutants:
        text = m.edit(SYNTHETIC)
        assert text is not None and text != SYNTHETIC, m.name
        ast.parse(text)
        texts.add(text)
    assert len(texts) == len(mutants)
    assert len({m.name for m in mutants}) == len(mutants)
    method = generated("model/tiny.py", SYNTHETIC, "Gate.admits", "rule")
    assert {m.operator for m in method} >= {"drop-condition", "return-const"}


def test_a_mutant_located_by_scope_and_source_survives_reformatting_and_moves() -> None:
    edit = replace_in("judge", "d.status == 'suspended'", "True")
    moved = "\n\ndef other():\n    pass\n" + SYNTHETIC.replace(
        'd.status == "suspended"', '(\n            d.status\n            == "suspended"\n        )'
    )
    for text in (SYNTHETIC, moved):
        mutated = edit(text)
        assert mutated is not None and "(True)" in mutated
        ast.parse(mutated)


def test_a_mutant_whose_site_is_gone_is_not_applicable() -> None:
    assert replace_in("judge", "d.colour == 'red'", "True")(SYNTHETIC) is None
    assert replace_in("renamed", "d.status == 'suspended'", "True")(SYNTHETIC) is None
    # Two equal sites and no occurrence named: ambiguous, so not applicable either.
    twice = SYNTHETIC + "\n\ndef judge2():\n    pass\n"
    assert replace_in("judge", "d", "e")(twice) is None


def test_a_capped_scope_takes_one_operator_at_a_time() -> None:
    capped = generated("model/tiny.py", SYNTHETIC, "judge", "rule", cap=3)
    assert [m.operator for m in capped] == ["negate-if", "drop-condition", "first-only"]


TOML = """[suspended]
reject_code = "E51"
allow_critical = true
exceptions = [
  { srv = "11.1", source = "seed:MP105" },
  { srv = "6.23", source = "seed:MP105" },
]

[cpl]
allow_critical = false
"""


def test_data_rows_and_values_are_located_by_table_and_key() -> None:
    dropped = toml_row("suspended", "exceptions", 'srv = "6.23"', lambda line: "")(TOML)
    assert dropped is not None and "6.23" not in dropped and "11.1" in dropped
    assert toml_row("suspended", "exceptions", 'srv = "9.9"', lambda line: "")(TOML) is None
    flipped = toml_value("suspended", "allow_critical", "true", "false")(TOML)
    assert flipped is not None and flipped.count("allow_critical = false") == 2
    assert toml_value("cpl", "allow_critical", "true", "false")(TOML) is None
    rows = json.dumps({"requests": [{"srv": "1", "critical": True}, {"srv": "2"}]})
    changed = json_row("requests", "srv", "1", lambda r: {**r, "critical": False})(rows)
    assert changed is not None and json.loads(changed)["requests"][0]["critical"] is False
    assert json_row("requests", "srv", "3", lambda r: None)(rows) is None


def test_the_default_set_has_enough_mutants_of_both_kinds() -> None:
    mutants = all_mutants(ROOT)
    assert len(mutants) >= 80
    assert len({m.name for m in mutants}) == len(mutants)
    assert {m.kind for m in mutants} == {"rule", "property"}
    for name in (*EQUIVALENT, *KNOWN_GAPS):
        assert (EQUIVALENT.get(name) or KNOWN_GAPS.get(name) or "").strip(), name


def test_every_mutant_of_the_default_set_applies_to_todays_code() -> None:
    """A named mutant or a data row whose site moved is judged "not applicable" and counts
    for nothing: six had drifted so (a rule moved to properties/ways_back.py, memo keys and
    TOML rows rewritten) before this test. Each must change its file."""
    stale = []
    for m in all_mutants(ROOT):
        original = (ROOT / m.path).read_text(encoding="utf-8")
        mutated = m.edit(original)
        if mutated is None or mutated == original:
            stale.append(m.name)
    assert stale == []
    # and every exclusion names a mutant of the set (an exclusion left behind by a move
    # would silently excuse the next mutant that takes its name)
    names = {m.name for m in all_mutants(ROOT)}
    assert sorted(set(EQUIVALENT) - names) == []


def _result(status: str, kind: str = "rule") -> mutation.Result:
    m = Mutant(f"{kind}-{status}", kind, "model/tiny.py", "negate-if", "a guard", lambda t: t)
    return mutation.Result(m, status, "check", 1.0, "--- a\n+++ b\n-if x:\n+if not (x):\n")


def test_the_report_gives_rates_per_kind_and_every_survivor_with_its_diff() -> None:
    results = [
        _result("killed"),
        _result("survived"),
        _result("not applicable"),
        _result("killed", "property"),
    ]
    meta = {"command": "python bench/mutation.py", "machine": "m", "jobs": 2, "elapsed": 60.0}
    text = mutation.report(results, [], ["stale-name"], meta)
    assert "| rule | 3 | 1/2 (50.0%) |" in text
    assert "| property | 1 | 1/1 (100.0%) |" in text
    assert "+if not (x):" in text and "`rule-survived`" in text
    assert "Stale exclusions (no such mutant): 1" in text
    assert not mutation.passed(results)
    assert mutation.passed([_result("killed"), _result("killed", "property")])


def test_bad_input_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    for args in (
        ["--only", "no-such-mutant"],
        ["--jobs", "0"],
        ["--out", str(tmp_path / "x/y.md")],
    ):
        done = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "mutation.py"), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_a_named_mutant_is_killed_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "one.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "mutation.py"), "--only", "no-mismatch-alert",
         "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=1200,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "| rule | 1 | 1/1 (100.0%) |" in out.read_text(encoding="utf-8")


def _guide_lines() -> list[tuple[str, bool]]:
    """docs/tester.md's mutation examples: each command, and whether it is run by hand only
    (the full run and the sample take minutes: the test checks that their arguments parse)."""
    text = (ROOT / "docs" / "tester.md").read_text(encoding="utf-8")
    block = text.split("<!-- mutation-examples -->", 1)[1].split("```sh\n", 1)[1]
    lines = []
    for line in block.split("```", 1)[0].splitlines():
        command, _, comment = line.partition("  #")
        if command.strip():
            lines.append((command.strip(), "by hand" in comment))
    return lines


@pytest.mark.slow
def test_the_guides_mutation_examples_run(tmp_path: Path) -> None:
    lines = _guide_lines()
    assert len(lines) == 4 and sum(by_hand for _, by_hand in lines) == 2
    for command, by_hand in lines:
        words = command.replace(".venv/bin/python", sys.executable).split()
        words = [str(tmp_path / w) if w.endswith(".md") else w for w in words]
        done = subprocess.run(
            [*words, *(["--list"] if by_hand else [])],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        assert done.returncode == 0, (command, done.stderr[-500:])
