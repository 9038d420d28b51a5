from __future__ import annotations

import jsonschema
import pytest

from application.atlas import FORMATS, document_schema


@pytest.mark.parametrize(("when", "refused"), [
    ("2026-11-30T12:00:00Z", False), ("2026-11-30T12:00:00.123456+00:00", False),
    ("", True), ("yesterday", True), ("2026-11-30", True), ("2026-13-30T12:00:00Z", True),
])
def test_an_atlas_document_time_must_be_rfc_3339_as_its_schema_says(
    when: str, refused: bool
) -> None:
    document = {"atlas": 1, "source": "elsewhere", "exported_at": when, "patterns": []}
    validator = jsonschema.Draft202012Validator(document_schema(), format_checker=FORMATS)
    paths = [e.json_path for e in validator.iter_errors(document)]
    assert ("$.exported_at" in paths) is refused
