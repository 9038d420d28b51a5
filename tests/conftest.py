"""What every kind of test may use: altlas on the embedded default, and the real sshd and
Prometheus of scripts/services.sh."""

from __future__ import annotations

import os
import socket
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    """altlas on the embedded default (SQLite in a fresh data dir) with the rule segmenter;
    modules that need other settings define their own."""
    system = bootstrap(Settings(data_dir=tmp_path, database_url=None, views_database_url=None,
                                segmenter="rules"))
    yield system
    system.close()


@dataclass(frozen=True)
class SSHPeer:
    user: str
    port: int
    known_hosts: Path
    client_key: Path


@pytest.fixture(scope="session")
def ssh_peer() -> SSHPeer:
    """The real sshd of scripts/services.sh, on loopback."""
    spec = os.environ.get("ALTLAS_TEST_SSH", "altlas-test@127.0.0.1:52222")
    where = Path(os.environ.get("ALTLAS_TEST_SSH_DIR", "/var/tmp/altlas-services/ssh"))
    user, _, address = spec.partition("@")
    port = int(address.rpartition(":")[2])
    try:
        socket.create_connection(("127.0.0.1", port), timeout=3).close()
    except OSError as e:
        pytest.fail(f"the test sshd is not reachable on 127.0.0.1:{port}: {e}\n"
                    "Start it with: scripts/services.sh up", pytrace=False)
    return SSHPeer(user, port, where / "known_hosts", where / "client_key")


@pytest.fixture(scope="session")
def prometheus_url() -> str:
    url = os.environ.get("ALTLAS_TEST_PROMETHEUS", "http://127.0.0.1:59090")
    try:
        urllib.request.urlopen(f"{url}/-/ready", timeout=3).close()
    except OSError as e:
        pytest.fail(f"Prometheus is not reachable at {url}: {e}\n"
                    "Start it with: scripts/services.sh up", pytrace=False)
    return url
