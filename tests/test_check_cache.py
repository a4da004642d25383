"""``check``'s result cache (smi_spec/check_cache.py, issue 23): a hit prints what a miss
printed and exits the same way; a changed variant file, a file it extends, the code
version or the options is a miss; a corrupt entry is a miss; ``--no-cache`` writes
nothing; a cache directory that cannot be written leaves the check working.

Every test has its own cache directory (tests/conftest.py sets SMI_SPEC_CACHE_DIR).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smi_spec import check_cache, check_commands
from tests.conftest import cli, cli_process

#: The smallest bounds: a check of one variant in well under a second.
SMALL = ("--max-lost", "0")

CHILD = """\
id = "cache-child"
title = "A variant for the cache tests"
extends = "parent.toml"
sources = ["assumption"]
"""

PARENT = """\
id = "cache-parent"
title = "Its parent"
extends = "baseline"
sources = ["assumption"]

[cpl]
relisting_restores = {relisting}
"""


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Every check actually run (a miss), with its arguments; a hit runs none."""
    ran: list[dict[str, Any]] = []
    real = check_commands._run_check

    def counted(**arguments: Any) -> bool:
        ran.append(arguments)
        return real(**arguments)

    monkeypatch.setattr(check_commands, "_run_check", counted)
    yield ran


def entries() -> list[Path]:
    return sorted(check_cache.cache_dir().glob("*.json"))


def nothing_written() -> bool:
    where = check_cache.cache_dir()
    return not where.exists() or not any(where.iterdir())


def variant_pair(directory: Path, relisting: str = "true") -> Path:
    (directory / "parent.toml").write_text(PARENT.format(relisting=relisting))
    child = directory / "child.toml"
    child.write_text(CHILD)
    return child


def without_seconds(stdout: str) -> str:
    """The output less its elapsed-time figures (the table's seconds row, JSON's seconds)."""
    stdout = re.sub(r"│ seconds .*\n", "", stdout)
    return re.sub(r'"seconds": [0-9.]+', '"seconds": 0', stdout)


OPTIONS = st.fixed_dictionaries(
    {
        "format": st.sampled_from(["text", "json"]),
        "brief": st.booleans(),
        "traces": st.integers(1, 3),
        "coverage": st.booleans(),
        "property": st.lists(
            st.sampled_from(["suspended-gate", "firmware-recoverable", "join-recoverable"]),
            max_size=2,
            unique=True,
        ),
        "variant": st.sampled_from(["baseline", "mp178"]),
    }
)


def arguments(options: dict[str, Any]) -> list[str]:
    args = ["check", "--variant", options["variant"], *SMALL, "--format", options["format"]]
    args += ["--traces", str(options["traces"])]
    args += ["--brief"] * options["brief"] + ["--coverage"] * options["coverage"]
    for property_id in options["property"]:
        args += ["--property", property_id]
    return args


@settings(max_examples=6)
@given(options=OPTIONS)
def test_a_hit_prints_what_the_miss_printed_and_exits_the_same(
    options: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    os.environ[check_cache.CACHE_ENV] = str(tmp_path_factory.mktemp("cache"))
    args = arguments(options)
    miss = cli(*args)
    assert miss.returncode in (0, 1), miss.stderr
    assert len(entries()) == 1
    hit = cli(*args)
    assert (hit.stdout, hit.returncode, hit.stderr) == (miss.stdout, miss.returncode, miss.stderr)
    uncached = cli(*args, "--no-cache")
    assert uncached.returncode == miss.returncode
    assert without_seconds(uncached.stdout) == without_seconds(miss.stdout)
    if options["format"] == "json":
        json.loads(hit.stdout)


def test_the_second_identical_check_runs_nothing(runs: list[dict[str, Any]]) -> None:
    first = cli("check", "--variant", "mp105", *SMALL)
    second = cli("check", "--variant", "mp105", *SMALL)
    assert len(runs) == 1
    assert second.stdout == first.stdout and second.returncode == first.returncode


def test_another_option_is_another_entry(runs: list[dict[str, Any]]) -> None:
    cli("check", "--variant", "baseline", *SMALL)
    cli("check", "--variant", "baseline", *SMALL, "--traces", "2")
    cli("check", "--variant", "baseline", *SMALL, "--format", "json")
    assert len(runs) == 3 and len(entries()) == 3


def test_a_changed_variant_file_is_a_miss(tmp_path: Path, runs: list[dict[str, Any]]) -> None:
    child = variant_pair(tmp_path)
    first = cli("check", "--variant", str(child), *SMALL, "--brief")
    child.write_text(CHILD.replace("A variant", "The variant"))
    cli("check", "--variant", str(child), *SMALL, "--brief")
    assert len(runs) == 2
    assert "cache-child" in first.stdout


def test_a_changed_status_in_a_file_it_extends_is_a_miss(
    tmp_path: Path, runs: list[dict[str, Any]]
) -> None:
    child = variant_pair(tmp_path, relisting="true")
    restoring = cli("check", "--variant", str(child), *SMALL, "--format", "json")
    variant_pair(tmp_path, relisting="false")
    not_restoring = cli("check", "--variant", str(child), *SMALL, "--format", "json")
    assert len(runs) == 2
    assert restoring.stdout != not_restoring.stdout


def test_a_new_code_version_is_a_miss(
    monkeypatch: pytest.MonkeyPatch, runs: list[dict[str, Any]]
) -> None:
    cli("check", "--variant", "baseline", *SMALL)
    monkeypatch.setattr(check_cache, "code_version", lambda: "another version")
    cli("check", "--variant", "baseline", *SMALL)
    assert len(runs) == 2 and len(entries()) == 2


@pytest.mark.parametrize("garbage", [b"", b"{not json", b'{"key": 1}', b"\xff\xfe", b"[]"])
def test_a_corrupt_entry_is_a_miss(garbage: bytes, runs: list[dict[str, Any]]) -> None:
    first = cli("check", "--variant", "baseline", *SMALL, "--brief")
    (entry,) = entries()
    entry.write_bytes(garbage)
    again = cli("check", "--variant", "baseline", *SMALL, "--brief")
    assert len(runs) == 2
    assert without_seconds(again.stdout) == without_seconds(first.stdout)
    assert again.returncode == first.returncode
    assert check_cache.read_entry(entry.stem) is not None  # written afresh


def test_no_cache_neither_reads_nor_writes(runs: list[dict[str, Any]]) -> None:
    cli("check", "--variant", "baseline", *SMALL, "--no-cache")
    assert nothing_written()
    cli("check", "--variant", "baseline", *SMALL)
    cli("check", "--variant", "baseline", *SMALL, "--no-cache")
    assert len(runs) == 3 and len(entries()) == 1


def test_side_files_bypass_the_cache(tmp_path: Path, runs: list[dict[str, Any]]) -> None:
    for _ in range(2):
        cli("check", "--variant", "baseline", *SMALL, "--itf", str(tmp_path))
    assert len(runs) == 2 and not entries()


@pytest.mark.parametrize("place", ["a-file", "a-file/below"])
def test_a_cache_that_cannot_be_written_leaves_the_check_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, place: str
) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    monkeypatch.setenv(check_cache.CACHE_ENV, str(tmp_path / place))
    done = cli("check", "--variant", "baseline", *SMALL, "--brief")
    assert done.returncode in (0, 1), done.stderr
    assert "suspended-gate" in done.stdout and not done.stderr
    assert (tmp_path / "a-file").read_text() == "not a directory"
    assert list(tmp_path.iterdir()) == [tmp_path / "a-file"]


def test_bad_input_is_not_cached(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("id = [")
    for _ in range(2):
        result = cli("check", "--variant", str(bad))
        assert result.returncode == 2 and "not valid TOML" in result.stderr
    assert nothing_written()


def test_where_the_cache_lives(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv(check_cache.CACHE_ENV)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert check_cache.cache_dir() == tmp_path / ".cache" / "smi-spec"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert check_cache.cache_dir() == tmp_path / "xdg" / "smi-spec"
    monkeypatch.setenv(check_cache.CACHE_ENV, str(tmp_path / "mine"))
    assert check_cache.cache_dir() == tmp_path / "mine"


def test_the_files_of_an_extends_chain(tmp_path: Path) -> None:
    child = variant_pair(tmp_path)
    files = check_cache.variant_files(str(child))
    assert [f.name for f in files] == ["child.toml", "parent.toml", "baseline.toml"]
    assert len(check_cache.checked_files("all") or []) == 3


def test_a_process_prints_the_same_bytes_twice() -> None:
    first = cli_process("check", "--variant", "baseline", *SMALL)
    second = cli_process("check", "--variant", "baseline", *SMALL)
    assert len(entries()) == 1
    assert (second.stdout, second.returncode) == (first.stdout, first.returncode)
