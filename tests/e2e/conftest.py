"""Running the `altlas` command as a user does: a separate process, its own data dir."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ALTLAS_")}
    return {**clean, "ALTLAS_DATA_DIR": str(tmp_path / "data")}


def run_altlas(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "altlas", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def imports(env: dict[str, str], *args: str) -> tuple[str, set[str]]:
    """What the command printed, and the modules it imported (python -X importtime)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "altlas", *args],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout, {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
                         if line.startswith("import time:") and "|" in line}


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]
