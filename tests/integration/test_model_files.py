"""Finding packaged model files: split models are assembled once per cache and checked
against the pinned sha256, which is remembered until the file changes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from adapters import llm_local, packaged
from adapters.llm_local import PackagedModel, resolve
from adapters.packaged import ModelUnavailableError

PARTS = (b"GGUF" + b"a" * 1000, b"b" * 2000)


@pytest.fixture
def split_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PackagedModel:
    """A model split over two installed packages, as the Qwen packaging ships it."""
    site = tmp_path / "site"
    for number, content in enumerate(PARTS, start=1):
        package = site / f"altlas_test_model_part{number}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"part{number}.bin").write_bytes(content)
    monkeypatch.syspath_prepend(str(site))
    model = PackagedModel("Test model", "altlas_test_model_part{part}",
                          ("data/part1.bin", "data/part2.bin"),
                          hashlib.sha256(b"".join(PARTS)).hexdigest(), "pip install test-model")
    monkeypatch.setitem(llm_local.MODELS, "test-model", model)
    return model


def test_split_model_is_assembled_once_and_shared(split_model: PackagedModel,
                                                  tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    name, path = resolve("test-model", cache)
    assert name == "Test model" and path.read_bytes() == b"".join(PARTS)
    first = path.stat().st_mtime_ns
    assert resolve("test-model", cache)[1] == path and path.stat().st_mtime_ns == first
    assert [p.name for p in cache.iterdir() if p.suffix == ".gguf"] == ["test-model.gguf"]
    assert not list(cache.glob("*.partial"))


def test_a_verified_file_is_not_hashed_again(split_model: PackagedModel, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    resolve("test-model", cache)
    hashed: list[Path] = []
    monkeypatch.setattr(packaged, "file_sha256", lambda p: hashed.append(p) or "x")
    resolve("test-model", cache)
    assert hashed == []


def test_a_changed_model_file_is_refused(split_model: PackagedModel, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _, path = resolve("test-model", cache)
    path.write_bytes(b"GGUF" + b"z" * 2999)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    with pytest.raises(ModelUnavailableError, match="not the pinned"):
        resolve("test-model", cache)


def test_a_cache_that_cannot_be_written_says_where_and_what_to_do(
        split_model: PackagedModel, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    with pytest.raises(ModelUnavailableError, match="ALTLAS_MODEL_CACHE"):
        resolve("test-model", blocked)


def test_a_missing_part_names_the_install_command(split_model: PackagedModel,
                                                  tmp_path: Path) -> None:
    (tmp_path / "site" / "altlas_test_model_part2" / "data" / "part2.bin").unlink()
    with pytest.raises(ModelUnavailableError, match="pip install test-model"):
        resolve("test-model", tmp_path / "cache")
