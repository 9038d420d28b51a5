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


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist each worker logs to a file of its own (scripts/test.sh checks them all
    for leaked secrets): one shared file would be truncated by every worker that starts."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and config.option.log_file:
        path = Path(config.option.log_file)
        config.option.log_file = str(path.with_name(f"{path.stem}-{worker}{path.suffix}"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The modules marked `long` go first, longest first (a stable sort keeps every other
    order): with xdist handing out one module at a time, a long one picked up last would
    finish alone."""
    def seconds(item: pytest.Item) -> int:
        mark = item.get_closest_marker("long")
        return mark.args[0] if mark else 0

    items.sort(key=seconds, reverse=True)


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
