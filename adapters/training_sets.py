"""Training sets as JSON-lines files under the data directory, where the training worker
reads them; and the labelled files (the dev file, the frozen test file) they are built with."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from uuid import uuid4

from adapters.packaged import file_sha256
from application.personal_files import TRAINING_SET
from application.ports import PersonalFiles
from domain.errors import InvalidInputError


class TrainingSetFiles:
    """application.ports.TrainingSets: each set a file of its own in ``folder``, written
    where forgetting finds it."""

    def __init__(self, folder: Path, files: PersonalFiles) -> None:
        self.folder = folder
        self.files = files

    def keep(self, lines: Iterable[str]) -> tuple[str, str]:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{uuid4()}.jsonl"
        self.files.write(TRAINING_SET, str(path), lines)
        return str(path), file_sha256(path)

    def discard(self, where: str) -> None:
        Path(where).unlink(missing_ok=True)


def read_labelled(file: Path) -> dict[str, Any]:
    """A labelled file (tests/data/segmentation_*.json), or why it is not one."""
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except OSError as e:
        raise InvalidInputError(f"cannot read the labelled file {file}: {e.strerror}"
                                ) from None
    except ValueError as e:
        raise InvalidInputError(f"{file} is not JSON: {e}") from None
    if not isinstance(document, dict) or not isinstance(document.get("requests"), list):
        raise InvalidInputError(f"{file}: a labelled file is an object with a `requests` "
                                "list")
    return document
