"""README's "The first hour", run as written: every block marked `<!-- journey -->`, in order,
in one shell, from an empty home and data dir, with the policy `altlas init` writes.

The one liberty taken: the README's port 8080 becomes a free one, so a busy port on the
machine running the tests cannot fail it.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
JOURNEY = re.compile(r"<!-- journey -->\n```sh\n(.*?)```", re.S)

pytestmark = pytest.mark.long(240)


def journeys() -> list[str]:
    return JOURNEY.findall(README.read_text(encoding="utf-8"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_first_hour_has_journeys_from_setup_to_audit() -> None:
    blocks = journeys()
    assert len(blocks) >= 4
    assert blocks[0].count("altlas init") == 1
    assert any("altlas audit verify" in block for block in blocks)


def test_every_journey_of_the_readme_runs_as_written(tmp_path: Path) -> None:
    script = "set -euo pipefail\n" + "\n".join(journeys()).replace("8080", str(free_port()))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALTLAS_")}
    env.update(HOME=str(tmp_path), PATH=f"{Path(sys.executable).parent}:{env['PATH']}",
               XDG_DATA_HOME=str(tmp_path / "share"),
               # the models joined once already, as on the reader's machine
               ALTLAS_MODEL_CACHE=str(Path(platformdirs.user_cache_dir("altlas")) / "models"))
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600, start_new_session=True)
    told = done.stdout + done.stderr
    assert done.returncode == 0, told
    assert "Traceback" not in told
    assert (tmp_path / "altlas-init.json").stat().st_mode & 0o077 == 0
    assert "ok" in told  # policy check
    assert "refused: ada asked for it" in told  # the requester's own vote
    assert re.search(r"succeeded.*maintenance|maintenance.*succeeded", told, re.S), told
    assert "DiskFull" in told or "web-1" in told
    assert "forget" in told
