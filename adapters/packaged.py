"""Model files shipped as PyPI packages: found without importing the package (its __init__
may pull in what we do not need) and checked against a pinned sha256 before use."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import shutil
from collections.abc import Sequence
from pathlib import Path


class ModelUnavailableError(Exception):
    """The model or llama-cpp-python is not installed, or its file is not what we pinned."""


def package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)  # finds it without running its __init__
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path, sha256: str, cache: Path, *, pinned: str = "the pinned",
           remedy: str = "reinstall it") -> None:
    """Hash a model file once; after that a stamp of its path, size and mtime stands for the
    hash, so every start does not re-read hundreds of megabytes."""
    try:
        stat = path.stat()
    except OSError as e:
        raise ModelUnavailableError(f"{path}: {e.strerror}; {remedy}") from None
    seen = f"{path}\n{stat.st_size}\n{stat.st_mtime_ns}\n{sha256}\n"
    stamp = cache / f"{hashlib.sha256(str(path).encode()).hexdigest()[:16]}.verified"
    with contextlib.suppress(OSError):
        if stamp.read_text() == seen:
            return
    actual = file_sha256(path)
    if actual != sha256:
        raise ModelUnavailableError(
            f"{path} has sha256 {actual}, not {pinned} {sha256}; {remedy}")
    with contextlib.suppress(OSError):  # the stamp only saves time; without it, hash again
        cache.mkdir(parents=True, exist_ok=True)
        partial = stamp.with_name(f"{stamp.name}.{os.getpid()}")
        partial.write_text(seen)
        partial.replace(stamp)


def assemble(parts: Sequence[Path], path: Path, *, room: str) -> None:
    """Concatenate a split model (or copy one file) once per cache; a unique partial name
    lets processes that start together each write their own copy and the last rename win."""
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        partial.replace(path)
    except OSError as e:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise ModelUnavailableError(
            f"cannot assemble the model in {path.parent}: {e.strerror}; point "
            f"ALTLAS_MODEL_CACHE at a directory with {room} free") from None
