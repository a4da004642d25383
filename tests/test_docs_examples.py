"""Every shell example in docs/spec-author.md, docs/tester.md and docs/reviewer.md runs, with
the exit code the page states and the lines it quotes (doctest-style), against the files the
page shows.

- A ```` ```console ```` block: ``$ smi-spec ...``, the lines it prints (``...`` stands for
  lines left out; runs of spaces are one space, as the console pads table cells), then
  ``$ echo $?`` and the exit code.
- A ```` ```sh ```` block: one command a line; a comment ``# exit N`` states its exit code,
  0 otherwise. Lines that do not run ``smi-spec`` (a Redis server) are the setting.
- The files: a ```` ```toml ```` block after a line "`NAME.toml`:", or else whose
  ``id = "NAME"`` names it, is the file ``NAME.toml`` the commands after it read (the page's
  own, not a corrected copy). Commands
  run in a directory holding those files and ``docs/``; ``/tmp/`` paths go into it too.

"The open rulebook" section of spec-author.md has its own runner (tests/test_docs_rulebook.py).
Quick commands (reading, explaining, running a scenario, a diff of built-in variants) run in
the default suite; every other exploration, fuzzing campaign and report is marked slow (CI
runs them in a step of its own, ``pytest -m slow``), so the default suite stays short.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import ROOT, load_variant_cache_clear
from tests.redis_server import redis_server

GUIDES = ("spec-author.md", "tester.md", "reviewer.md")
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
_EXIT = re.compile(r"#.*\bexit (\d)\b")
_ID = re.compile(r'^id = "([\w.-]+)"', re.M)
#: A paragraph that is only "`NAME.toml`:" names the toml block after it.
_CALLED = re.compile(r"`([\w.-]+\.toml)`:")
#: A console block with no ``$ echo $?``: the page does not say the exit code (a failure).
NOT_STATED = -1


@dataclass
class Example:
    guide: str
    line: int
    command: str
    code: int
    shown: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    #: The commands before it in its block that write what it reads, run first (a pack
    #: written by ``testpack --out`` and read by ``conform``).
    before: list[Example] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.guide}:{self.line}: {self.command[:60]}"


def _text(guide: str) -> str:
    text = (ROOT / "docs" / guide).read_text(encoding="utf-8")
    if guide == "spec-author.md":  # tests/test_docs_rulebook.py runs that section
        head, _, rest = text.partition("## The open rulebook")
        tail = rest.split("\n## ", 1)[1] if "\n## " in rest else ""
        text = head + "\n" * rest.count("\n") + tail
    return text


def _console(guide: str, line: int, body: str, files: dict[str, str]) -> list[Example]:
    found = []
    lines = body.splitlines()
    for n, text in enumerate(lines):
        if not text.startswith("$ smi-spec "):
            continue
        end = n + 1
        while end < len(lines) and not lines[end].startswith("$ "):
            end += 1
        stated = end + 1 < len(lines) and lines[end] == "$ echo $?"
        found.append(
            Example(
                guide,
                line + n + 1,
                text.removeprefix("$ "),
                int(lines[end + 1]) if stated else NOT_STATED,
                lines[n + 1 : end],
                dict(files),
            )
        )
    return found


def _sh(guide: str, line: int, body: str, files: dict[str, str]) -> list[Example]:
    found = []
    for n, text in enumerate(body.splitlines()):
        words = shlex.split(text, comments=True)
        env = {}
        while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
            key, _, value = words.pop(0).partition("=")
            env[key] = value
        if not words or words[0] != "smi-spec":
            continue
        said = _EXIT.search(text)
        command = shlex.join(words)
        code = int(said.group(1)) if said else 0
        needed = [e for e in found if _writes(e) in words]
        found.append(Example(guide, line + n + 1, command, code, [], dict(files), env, needed))
    return found


def _writes(example: Example) -> str | None:
    """The directory an earlier command of the block writes (``--out DIR``) for a later one
    to read (a pack for ``conform``)."""
    words = example.command.split()
    return words[words.index("--out") + 1] if "--out" in words[:-1] else None


def examples() -> list[Example]:
    found: list[Example] = []
    for guide in GUIDES:
        text = _text(guide)
        files: dict[str, str] = {}
        for match in _BLOCK.finditer(text):
            kind, body = match.group(1), match.group(2)
            line = text.count("\n", 0, match.start()) + 1
            if kind == "toml":
                before = text[: match.start()].rstrip().rsplit("\n", 1)[-1]
                called = _CALLED.fullmatch(before)
                named = _ID.search(body)
                if called:
                    files[called.group(1)] = body
                elif named:
                    files[f"{named.group(1)}.toml"] = body
            elif kind == "console":
                found += _console(guide, line, body, files)
            elif kind in ("sh", "bash", "shell"):
                found += _sh(guide, line, body, files)
    return found


#: What makes an example slow: more than the default bounds, every variant, fuzzing
#: campaigns, reports and packs (each seconds to minutes on two cores).
_SLOW = re.compile(
    r"\bfuzz\b|--meters [2-9]|--max-lost [2-9]|--versions [3-9]|--devices|--coverage"
    r"|\breport\b|\btestpack\b|\bconform\b|\bdiagrams\b|--jobs|--database redis"
)


#: Commands of a second or less in this process: reading, explaining, running a scenario,
#: and those whose exploration another test of the worker has already made.
_QUICK = ("run", "explain", "variants", "rules", "catalogue")
_SHARED = ("smi-spec diff baseline mp105", "check --variant mp105 --property")


def is_slow(example: Example) -> bool:
    if any(is_slow(e) for e in example.before):
        return True
    if example.code == 2:  # bad input is refused before any exploration
        return False
    words = example.command.split()
    if words[1] in _QUICK or any(s in example.command for s in _SHARED):
        return bool(_SLOW.search(example.command))
    return True


EXAMPLES = examples()


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


#: The Redis store the guides name; each example runs against a server of its own instead.
DOCS_REDIS = "redis://127.0.0.1:6379/0"


def run(example: Example, work: Path, redis_url: str = DOCS_REDIS) -> tuple[int, str, str]:
    """Run the example in ``work`` (the page's files, ``docs/``), in this process."""
    from smi_spec import cli as command

    for name, body in example.files.items():
        (work / name).write_text(body, encoding="utf-8")
    if not (work / "docs").exists():
        (work / "docs").symlink_to(ROOT / "docs")
    (work / "tmp").mkdir(exist_ok=True)  # the page's /tmp/, kept inside the test's directory
    command_line = example.command.replace("/tmp/", f"{work}/tmp/").replace(DOCS_REDIS, redis_url)
    args = shlex.split(command_line)[1:]
    load_variant_cache_clear()
    out, err = io.StringIO(), io.StringIO()
    argv, width, environ = sys.argv, command.console._width, dict(os.environ)
    sys.argv, command.console.width = ["smi-spec", *args], 80
    os.environ.update(example.env)
    try:
        with (
            contextlib.chdir(work),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            command.main()
        code: int | str | None = 0
    except SystemExit as stopped:
        code = stopped.code
    finally:
        sys.argv, command.console._width = argv, width
        os.environ.clear()
        os.environ.update(environ)
    return (
        (code if isinstance(code, int) else int(code is not None)),
        out.getvalue(),
        err.getvalue(),
    )


#: A campaign's budget: examples asked for at this size or more are a campaign (tester.md's
#: workers sharing a Redis store), not an example the slow step runs on every push.
CAMPAIGN_EXAMPLES = 5000


def campaign_examples(example: Example) -> int:
    """The examples the command asks for, if it is a campaign; else 0."""
    asked = re.search(r"--max-examples (\d+)", example.command)
    return int(asked.group(1)) if asked and int(asked.group(1)) >= CAMPAIGN_EXAMPLES else 0


def check(example: Example, tmp_path: Path) -> None:
    assert example.code != NOT_STATED, f"{example.name}: the page states no exit code"
    examples = campaign_examples(example)
    if examples and not os.environ.get("SMI_SPEC_DOCS_CAMPAIGNS"):
        pytest.skip(
            f"a fuzzing campaign of {examples} examples (about 10 CPU minutes each); "
            "SMI_SPEC_DOCS_CAMPAIGNS=1 runs it (tests/test_fuzz_redis.py runs a short one)"
        )
    needs_redis = any(DOCS_REDIS in e.command for e in (*example.before, example))
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(redis_server(tmp_path / "redis")) if needs_redis else DOCS_REDIS
        for earlier in example.before:
            code, out, err = run(earlier, tmp_path, url)
            assert code == earlier.code, (earlier.name, out[-2000:], err[-2000:])
        code, out, err = run(example, tmp_path, url)
    assert code == example.code, (example.name, out[-3000:], err[-2000:])
    printed = [flat(line) for line in out.splitlines()]
    for line in example.shown:
        if line != "...":
            assert flat(line) in printed, (example.name, line, out[-3000:])


FAST = [e for e in EXAMPLES if not is_slow(e)]
SLOW = [e for e in EXAMPLES if is_slow(e)]


def test_the_guides_have_examples_and_every_command_is_collected() -> None:
    """Each guide's every ``smi-spec`` command line is an example here (or in the rulebook
    section's own runner): none is left unrun by a block of a kind not parsed."""
    assert {e.guide for e in EXAMPLES} == set(GUIDES)
    for guide in GUIDES:
        text = _text(guide)
        in_blocks = sum(
            1
            for m in _BLOCK.finditer(text)
            for line in m.group(2).splitlines()
            if re.match(r"^(\$ )?([A-Z_]+=\S+ )*smi-spec ", line)
        )
        assert in_blocks == sum(e.guide == guide for e in EXAMPLES), guide


@pytest.mark.parametrize("example", FAST, ids=[e.name for e in FAST])
def test_a_quick_example_gives_its_exit_code_and_lines(example: Example, tmp_path: Path) -> None:
    check(example, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("example", SLOW, ids=[e.name for e in SLOW])
def test_a_long_example_gives_its_exit_code_and_lines(example: Example, tmp_path: Path) -> None:
    check(example, tmp_path)
