"""``smi-spec check --variant FILE --watch`` (smi_spec/check_watch.py, issue 23): checks,
checks again when the file or a file it extends is saved, keeps watching after a save
that does not load, and ends with exit code 0 on Ctrl-C.

The processes stop by themselves after SMI_SPEC_WATCH_ROUNDS checks, so no test depends
on when a signal arrives, except the one about Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT, assert_one_line_error, cli

VARIANT = """\
id = "watched"
title = "A watched variant"
extends = "{parent}"
sources = ["assumption"]
"""

#: How long a test waits for a check or an exit before it fails.
PATIENCE = 120.0


def watching(variant: Path, rounds: int | None, stderr: Path) -> subprocess.Popen[str]:
    env = dict(os.environ)
    if rounds is not None:
        env["SMI_SPEC_WATCH_ROUNDS"] = str(rounds)
    command = ["check", "--variant", str(variant), "--max-lost", "0", "--brief", "--watch"]
    return subprocess.Popen(
        [sys.executable, "-m", "smi_spec", *command],
        stdout=subprocess.PIPE,
        stderr=stderr.open("w"),
        text=True,
        cwd=ROOT,
        env=env,
    )


def read_until(process: subprocess.Popen[str], done: Callable[[str], bool]) -> str:
    """The standard output up to and including the first line for which ``done`` holds."""
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if done(line):
            return "".join(seen)
    raise AssertionError(f"the output ended first: {''.join(seen)}")


def table_end(line: str) -> bool:
    return line.startswith("└")


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.1)


def save(path: Path, text: str) -> None:
    """Write ``text`` and make sure the modification time moves, however coarse the clock."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    if path.stat().st_mtime_ns == before:
        os.utime(path, ns=(before + 10**9, before + 10**9))


def test_a_save_checks_again(tmp_path: Path) -> None:
    variant = tmp_path / "watched.toml"
    save(variant, VARIANT.format(parent="baseline"))
    process = watching(variant, 2, tmp_path / "err")
    try:
        first = read_until(process, table_end)
        assert "watched" in first and "suspended-gate" in first
        save(variant, VARIANT.format(parent="mp178"))
        second = read_until(process, table_end)
        assert process.wait(PATIENCE) == 0
    finally:
        process.kill()
    assert f"{variant} changed; checking again ---" in second.splitlines()[0]
    assert second.splitlines()[0].startswith("--- ")
    assert first.split("suspended-gate")[1] != second.split("suspended-gate")[1]


def test_a_save_of_the_file_it_extends_checks_again(tmp_path: Path) -> None:
    parent = tmp_path / "parent.toml"
    save(parent, VARIANT.format(parent="baseline").replace('"watched"', '"parent"'))
    variant = tmp_path / "watched.toml"
    save(variant, VARIANT.format(parent="parent.toml"))
    process = watching(variant, 2, tmp_path / "err")
    try:
        read_until(process, table_end)
        save(parent, VARIANT.format(parent="mp178").replace('"watched"', '"parent"'))
        second = read_until(process, table_end)
        assert process.wait(PATIENCE) == 0
    finally:
        process.kill()
    assert f"{parent} changed" in second


def test_a_bad_save_prints_its_error_and_the_watch_goes_on(tmp_path: Path) -> None:
    variant = tmp_path / "watched.toml"
    save(variant, VARIANT.format(parent="baseline"))
    errors = tmp_path / "err"
    process = watching(variant, 3, errors)
    try:
        read_until(process, table_end)
        save(variant, "id = [")
        wait_for(lambda: "not valid TOML" in errors.read_text())
        save(variant, VARIANT.format(parent="mp105"))
        last = read_until(process, table_end)
        assert process.wait(PATIENCE) == 0
    finally:
        process.kill()
    assert "watched" in last
    said = [line for line in errors.read_text().splitlines() if line.strip()]
    assert len(said) == 1 and said[0].startswith("smi-spec: error: ")
    assert "Traceback" not in errors.read_text()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is a POSIX signal")
def test_ctrl_c_ends_the_watch_with_exit_code_0(tmp_path: Path) -> None:
    variant = tmp_path / "watched.toml"
    save(variant, VARIANT.format(parent="baseline"))
    errors = tmp_path / "err"
    process = watching(variant, None, errors)
    try:
        read_until(process, table_end)
        time.sleep(0.5)  # waiting for a save now
        process.send_signal(signal.SIGINT)
        assert process.wait(PATIENCE) == 0
    finally:
        process.kill()
    assert "Traceback" not in errors.read_text()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--variant", "all"], "--watch needs one variant"),
        ([], "--watch needs one variant"),
        (["--variant", "baseline", "--format", "json"], "--format json"),
        (["--variant", "no-such-file.toml"], "no such file"),
        (["--variant", "baseline", "--sensitivity"], "not with --sensitivity"),
    ],
)
def test_watch_refuses_what_it_cannot_watch(args: list[str], fragment: str) -> None:
    assert_one_line_error(cli("check", *args, "--watch"), fragment)
