"""A fuzzing campaign across workers: two ``smi-spec fuzz`` processes share one Redis example
database (Hypothesis's RedisExampleDatabase), and the second replays what the first found.

The Redis server is a real one, started by the test on a loopback port and stopped by it
(tests/redis_server.py). The Redis client is an optional dependency (the ``redis`` extra):
without it, ``fuzz --database redis://...`` says how to install it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest

from tests.conftest import assert_one_line_error, cli_json
from tests.redis_server import redis_server
from tests.test_fuzz import CAMPAIGN, assert_second_replays_first

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    with redis_server(tmp_path) as url:
        yield url


def test_two_workers_share_failures_through_redis(redis_url: str) -> None:
    import redis

    first = cli_json(*CAMPAIGN, "--database", redis_url)
    assert redis.Redis.from_url(redis_url).dbsize() > 0  # the first worker saved its failures
    second = cli_json(*CAMPAIGN, "--database", redis_url)
    assert_second_replays_first(first, second)


def test_the_redis_client_is_an_extra_not_a_dependency() -> None:
    """``pip install -e .`` leaves redis out: only ``smi-spec[redis]`` brings it."""
    with (ROOT / "pyproject.toml").open("rb") as project:
        table = tomllib.load(project)["project"]
    names = [re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0].lower() for r in table["dependencies"]]
    assert "redis" not in names
    assert table["optional-dependencies"]["redis"] == ["redis>=4.5"]
    installed = metadata.requires("smi-spec") or []
    for requirement in (r for r in installed if re.match(r"redis\b(?!lite)", r)):
        assert 'extra == "redis"' in requirement or 'extra == "test"' in requirement


def test_without_the_redis_client_fuzz_says_how_to_install_it() -> None:
    hide_redis = (
        "import sys; sys.modules['redis'] = None; "
        "from smi_spec.cli import main; "
        "sys.argv = ['smi-spec', 'fuzz', '--database', 'redis://:secret@127.0.0.1:1/0']; "
        "main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", hide_redis], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert_one_line_error(result, "pip install 'smi-spec[redis]'", "--database")
    assert "secret" not in result.stderr
