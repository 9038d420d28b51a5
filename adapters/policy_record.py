"""Which policy files were last found valid, by the digest of their text, kept in the data
dir: a read that never looks at the policy (altlas/quick_reads.py) still refuses to start
beside a file that would stop every other command, without parsing it. Standard library
only; a file it has no record of is left to the policy loader."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

RECORD = "policy.valid"  # in the data dir: "SHA256  PATH" per line
KEEP = 16  # lines: the files (and their last versions) an installation's commands use


def _line(path: Path, text: str) -> str:
    return f"{hashlib.sha256(text.encode('utf-8')).hexdigest()}  {path.resolve()}"


def remember_valid(path: Path, text: str, data_dir: Path) -> None:
    """``text``, read from ``path``, is a valid policy. Best effort: a data dir that cannot
    be written only means the next read parses the policy."""
    line = _line(path, text)
    record = data_dir / RECORD
    try:
        lines = record.read_text(encoding="utf-8").splitlines() if record.is_file() else []
        if line in lines:
            return
        fresh = record.with_name(f"{RECORD}.{os.getpid()}")
        fresh.write_text("\n".join([*lines, line][-KEEP:]) + "\n", encoding="utf-8")
        fresh.replace(record)
    except OSError:
        return


def known_valid(path: Path, data_dir: Path) -> bool:
    """Whether the policy file at ``path`` holds, now, a text found valid before."""
    try:
        line = _line(path, path.read_text(encoding="utf-8"))
        return line in (data_dir / RECORD).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return False
