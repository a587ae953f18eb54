"""``nudger serve`` run for real by its entry point, for tests over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str) -> httpx.Response:
    deadline = time.monotonic() + 60
    while True:
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@contextmanager
def serving(data_dir: Path, env: dict[str, str], *args: str) -> Iterator[list[bytes]]:
    """``nudger serve *args`` running; the list receives everything it printed once it
    has stopped."""
    nudger = Path(sys.executable).with_name("nudger")
    server = subprocess.Popen(
        [str(nudger), "serve", *args],
        env={**os.environ, "NUDGER_DATA_DIR": str(data_dir), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    printed: list[bytes] = []
    try:
        yield printed
    finally:
        server.terminate()
        printed.append(server.communicate(timeout=30)[0])
