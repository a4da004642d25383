"""docs/spec-author.md, "The open rulebook": every command shown runs, gives the exit code
shown, and prints every line shown (``...`` stands for lines left out; runs of spaces are
one space, as the console pads table cells)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT, cli

GUIDE = (ROOT / "docs" / "spec-author.md").read_text(encoding="utf-8")
SECTION = GUIDE.split("## The open rulebook", 1)[1].split("\n## ", 1)[0]


def examples() -> list[tuple[str, list[str], int]]:
    """(command, lines shown, exit code) for each ``$ smi-spec`` in the section's blocks."""
    found = []
    for block in re.findall(r"```console\n(.*?)```", SECTION, re.S):
        lines = block.splitlines()
        for n, line in enumerate(lines):
            if not line.startswith("$ smi-spec "):
                continue
            shown = []
            end = n + 1
            while not lines[end].startswith("$ "):
                shown.append(lines[end])
                end += 1
            assert lines[end] == "$ echo $?", lines[end]
            found.append((line.removeprefix("$ smi-spec "), shown, int(lines[end + 1])))
    return found


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


EXAMPLES = examples()
FAST = [e for e in EXAMPLES if e[0].split()[0] in ("explain", "run")]
SLOW = [e for e in EXAMPLES if e not in FAST]


def run_example(command: str, shown: list[str], code: int) -> None:
    result = cli(*command.split())
    assert result.returncode == code, (command, result.stdout, result.stderr)
    output = [flat(line) for line in result.stdout.splitlines()]
    for line in shown:
        if line != "...":
            assert flat(line) in output, (command, line)


def test_the_section_shows_check_diff_and_explain_for_eleven_variants() -> None:
    variants = set(re.findall(r"docs/variants/[\w.-]+\.toml", SECTION))
    assert len(variants) >= 11
    for verb in ("check", "diff", "explain"):
        named = {v for c, _, _ in EXAMPLES if c.startswith(verb) for v in variants if v in c}
        assert len(named) >= 11 - (verb == "diff"), (verb, variants - named)


@pytest.mark.parametrize(("command", "shown", "code"), FAST, ids=[c for c, _, _ in FAST])
def test_an_explain_or_run_example_prints_what_the_guide_shows(
    command: str, shown: list[str], code: int
) -> None:
    run_example(command, shown, code)


@pytest.mark.slow
@pytest.mark.parametrize(("command", "shown", "code"), SLOW, ids=[c for c, _, _ in SLOW])
def test_a_check_or_diff_example_prints_what_the_guide_shows(
    command: str, shown: list[str], code: int
) -> None:
    run_example(command, shown, code)
