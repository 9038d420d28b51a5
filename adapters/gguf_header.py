"""What a GGUF file says of itself, read by the format's own library (the `gguf` package of
llama.cpp): architecture, size, quantization, context, chat template and tokenizer.

Reading a header parses the whole vocabulary (seconds for a 150k-token model), so what was
read is kept in the model cache under the file's path, size and modification time, like the
sha256 stamps of adapters/packaged.py: a restart does not read it again.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

from adapters.packaged import ModelUnavailableError, file_sha256
from application.ports import ModelFacts
from domain.errors import InvalidInputError

MAGIC = b"GGUF"


class NotAModelError(InvalidInputError):
    """The file is not a GGUF model altlas can describe: the message names the field or
    the byte where it went wrong."""


class NoModelFileError(NotAModelError):
    """No file at that path: nothing to describe (an HTTP client is told 404)."""


class GgufFiles:
    """application.ports.ModelFiles: GGUF files read with the gguf package; the packaged
    models found as adapters/llm_local.py finds them."""

    def __init__(self, cache: Path) -> None:
        self._cache = cache

    def describe(self, path: str) -> ModelFacts:
        return read_header(Path(path), self._cache)

    def packaged(self) -> list[tuple[str, str]]:
        from adapters.llm_local import MODELS, resolve

        found = []
        for name in MODELS:
            with contextlib.suppress(ModelUnavailableError):
                found.append((name, str(resolve(name, self._cache)[1])))
        return found


def read_header(path: Path, cache: Path | None = None) -> ModelFacts:
    """The header of the GGUF file at ``path``; NotAModelError when it is none."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise NoModelFileError(f"{path}: no such file on the altlas host") from None
    except OSError as e:
        if e.errno in (errno.ENAMETOOLONG, errno.ENOTDIR):  # no file can be there
            raise NoModelFileError(f"{str(path)[:200]}: no such file on the altlas host "
                                   f"({e.strerror})") from None
        raise NotAModelError(f"{path}: {e.strerror or e}") from None
    if not path.is_file():
        raise NoModelFileError(f"{path} is not a file: give the .gguf file's path")
    stamp = _stamp(path, stat, cache)
    if stamp is not None:
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
            kept = json.loads(stamp.read_text())
            if kept.pop("seen") == [str(path), stat.st_size, stat.st_mtime_ns]:
                return ModelFacts(**kept)
    header = _read(path, stat.st_size)
    if stamp is not None:
        with contextlib.suppress(OSError):  # only saves time next start
            stamp.parent.mkdir(parents=True, exist_ok=True)
            partial = stamp.with_name(f"{stamp.name}.{os.getpid()}")
            partial.write_text(json.dumps(
                {"seen": [str(path), stat.st_size, stat.st_mtime_ns], **asdict(header)}))
            partial.replace(stamp)
    return header


def _stamp(path: Path, stat: os.stat_result, cache: Path | None) -> Path | None:
    if cache is None:
        return None
    return cache / f"{hashlib.sha256(str(path).encode()).hexdigest()[:16]}.header.json"


def _read(path: Path, size: int) -> ModelFacts:
    from gguf import GGUFReader, LlamaFileType

    if size == 0:
        raise NotAModelError(f"{path} is empty: a GGUF file starts with the bytes 'GGUF'")
    with path.open("rb") as f:
        first = f.read(4)
    if first != MAGIC:
        raise NotAModelError(f"{path} is not a GGUF file: bytes 0-3 are {first!r}, not "
                             f"{MAGIC!r}")
    try:
        reader = GGUFReader(str(path))
    except ValueError as e:
        unknown = re.search(r"(\d+)\)? is not a valid GGMLQuantizationType", str(e))
        if unknown:
            raise NotAModelError(f"{path}: a tensor's quantization type {unknown[1]} is "
                                 "unknown to the gguf library; convert the model with a "
                                 "llama.cpp of the same age as altlas's gguf") from None
        raise _damaged(path, size, e) from None
    except (IndexError, OverflowError, MemoryError) as e:
        raise _damaged(path, size, e) from None
    fields = reader.fields

    def value(key: str, required: bool = True) -> Any:
        field = fields.get(key)
        if field is None:
            if required:
                raise NotAModelError(f"{path}: its header has no {key}")
            return None
        return field.contents()

    architecture = str(value("general.architecture"))
    context = value(f"{architecture}.context_length")
    file_type = value("general.file_type", required=False)
    if file_type is None:  # older files: the most common quantized tensor type
        kinds = Counter(t.tensor_type.name for t in reader.tensors
                        if t.tensor_type.name not in ("F32", "F16", "BF16"))
        quantization = kinds.most_common(1)[0][0] if kinds else "F16"
    else:
        try:
            quantization = LlamaFileType(int(file_type)).name.removeprefix("MOSTLY_")
        except ValueError:
            raise NotAModelError(f"{path}: general.file_type {file_type} is not a "
                                 "quantization the gguf library knows") from None
    tokens = fields.get("tokenizer.ggml.tokens")
    return ModelFacts(
        sha256=file_sha256(path), size=size, architecture=architecture,
        parameters=sum(int(t.n_elements) for t in reader.tensors),
        quantization=quantization, context_length=int(context),
        chat_template=value("tokenizer.chat_template", required=False),
        tokenizer={"model": value("tokenizer.ggml.model", required=False),
                   "pre": value("tokenizer.ggml.pre", required=False),
                   "vocabulary": len(tokens.data) if tokens is not None else 0},
        title=value("general.name", required=False))


def _damaged(path: Path, size: int, error: Exception) -> NotAModelError:
    return NotAModelError(f"{path} is truncated or damaged: it ends at byte {size}, before "
                          f"what its header describes (the gguf reader: {error})")
