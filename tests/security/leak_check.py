"""After the whole test run: no log line of any test may hold one of the test secrets.

scripts/test.sh writes every log record of the run (DEBUG and up, altlas's and the libraries'
alike) to a file and runs this over it; the tests that start altlas as a process read their
stderr themselves (tests/security/test_secrets.py).

    python -m tests.security.leak_check FILE...
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.security.test_secrets import LEAK_MARKERS


def leaks(path: Path) -> tuple[int, list[str]]:
    """How many lines ``path`` has, and those that hold a secret, as `FILE:LINE: NAME`."""
    found, number = [], 0
    with path.open(encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            found += [f"{path}:{number}: {name}" for name, value in LEAK_MARKERS.items()
                      if value in line]
    return number, found


def main(paths: list[str]) -> int:
    lines, found = 0, []
    for p in paths:
        count, leaked = leaks(Path(p))
        lines += count
        found += leaked
    for leak in found[:50]:
        print(f"secret in the logs: {leak}", file=sys.stderr)
    print(f"leak check: {len(LEAK_MARKERS)} test secrets looked for in {lines} log lines: "
          f"{len(found)} found")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
