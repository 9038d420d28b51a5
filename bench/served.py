"""`altlas serve` in a process of its own, for the benchmarks that talk to it over HTTP."""

from __future__ import annotations

import functools
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(env: dict[str, str], cpus: set[int] | None = None
           ) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The server's base URL once /healthz answers, and its process (on ``cpus`` only, every
    thread of it, if given); stopped on exit."""
    port = free_port()
    pin = None if cpus is None else functools.partial(os.sched_setaffinity, 0, cpus)
    proc = subprocess.Popen([sys.executable, "-m", "altlas", "serve", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=pin)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("altlas serve did not start") from None
                time.sleep(0.2)
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)
