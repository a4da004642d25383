"""Shared test helpers: where ../shared is, and running the CLI in-process or as a process.

Hypothesis profiles: ``ci`` (loaded when CI is set) derandomises every property-based test
and keeps no example database, so a CI run is repeatable; ``dev`` (otherwise) keeps
Hypothesis's random search and database. ``HYPOTHESIS_PROFILE`` picks one by name. The
fuzzing tests pass a fixed seed under both (tests/test_fuzz.py).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SCENARIOS = ROOT / "docs" / "scenarios"


@pytest.fixture(autouse=True)
def _own_check_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test its own, empty ``check`` result cache (smi_spec/check_cache.py), also for
    the processes it starts (they inherit the environment): nothing is written to
    ~/.cache, and no test sees a result another test computed, perhaps with its model
    patched."""
    monkeypatch.setenv("SMI_SPEC_CACHE_DIR", str(tmp_path_factory.mktemp("check-cache")))


def needs_shared() -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not (SHARED / "reference").is_dir(),
        reason=f"../shared/reference is not beside this checkout ({SHARED}); "
        "the cross-check against the DCC's reference data needs it",
    )


def cli_process(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``smi-spec`` as a user would, in a separate process: for what only a process
    shows (the entry point, signals, the terminal); ``cli`` for everything else."""
    return subprocess.run(
        [sys.executable, "-m", "smi_spec", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``smi-spec ARGS`` in this process, as ``cli_process`` would in a new one: from the
    project root, output captured, the console 80 columns wide (what a process writing to
    a pipe sees), variant files read afresh and their warnings printed again. A process
    start costs about a quarter of a second, a hundred times over in this suite; this way
    the explorations of the built-in variants are also shared by the tests of a worker.
    A traceback is not caught: it fails the test, as one on stderr would."""
    from smi_spec import cli as command

    load_variant_cache_clear()
    out, err = io.StringIO(), io.StringIO()
    argv, width = sys.argv, command.console._width
    sys.argv, command.console.width = ["smi-spec", *args], 80
    try:
        with (
            contextlib.chdir(ROOT),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            command.main()
        code: int | str | None = 0
    except SystemExit as stopped:
        code = stopped.code
    finally:
        sys.argv, command.console._width = argv, width
    returncode = code if isinstance(code, int) else (0 if code is None else 1)
    if isinstance(code, str):  # sys.exit("message") prints the message, as a process would
        err.write(code + "\n")
    return subprocess.CompletedProcess(
        ["smi-spec", *args], returncode, out.getvalue(), err.getvalue()
    )


def load_variant_cache_clear() -> None:
    """What a new process would not remember: variant files already read and warned of."""
    from model import variant

    variant._load.cache_clear()
    variant._warned.clear()


def cli_json(*args: str) -> Any:
    result = cli(*args, "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Bad input: exit code 2, one line on stderr naming the problem, no traceback."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def fail_on_call(
    monkeypatch: pytest.MonkeyPatch, owner: object, name: str, n: int, error: OSError
) -> dict[str, int]:
    """Make ``owner.name`` raise ``error`` on its ``n``-th call (a full disk, an I/O error
    in the middle of a write) and work as before otherwise; the calls are counted in the
    returned ``{"n": ...}``."""
    real = getattr(owner, name)
    calls = {"n": 0}

    def failing(*args: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == n:
            raise error
        return real(*args)

    monkeypatch.setattr(owner, name, failing)
    return calls
