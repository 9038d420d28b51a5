"""What a GGUF file says of itself, read by the format's own library (the `gguf` package of
llama.cpp): architecture, size, quantization, context, chat template and tokenizer.

A file someone names is untrusted input: its real path must lie under the models directory
(a symlink out of it is refused), a file that is not a GGUF is refused without quoting any
of its bytes, and the header is walked within bounds (adapters/gguf_bounds.py) before the
gguf package reads it.

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

from adapters.gguf_bounds import (
    INTEGERS,
    STRING,
    TYPE_NAMES,
    Header,
    MalformedHeaderError,
    walk,
)
from adapters.packaged import ModelUnavailableError, file_sha256
from application.ports import ModelFacts
from domain.errors import InvalidInputError, NotAllowedError

MAGIC = b"GGUF"


class NotAModelError(InvalidInputError):
    """The file is not a GGUF model altlas can describe: the message names the field or
    the byte where it went wrong."""


class NoModelFileError(NotAModelError):
    """No file at that path: nothing to describe (an HTTP client is told 404)."""


class OutsideModelsError(NotAModelError, NotAllowedError):
    """A path whose real location is not under the models directory: well-formed, and
    refused by a rule of this installation (HTTP 403) whether or not a file is there."""


class GgufFiles:
    """application.ports.ModelFiles: GGUF files under ``models`` read with the gguf
    package; the packaged models found as adapters/llm_local.py finds them."""

    def __init__(self, cache: Path, models: Path) -> None:
        self._cache = cache
        self._models = models

    def resolve(self, path: str) -> str:
        """The real path of ``path`` (relative ones under the models directory), refused
        before anything is read unless it lies under that directory: whether a file exists
        elsewhere is not told either."""
        root = self._models.resolve()
        where = (root / path).resolve()
        if not where.is_relative_to(root):
            raise OutsideModelsError(f"{path} is not in the models directory {root}: copy or "
                                     "move the .gguf file there (ALTLAS_MODELS_DIR)")
        return str(where)

    def describe(self, path: str) -> ModelFacts:
        return read_header(Path(self.resolve(path)), self._cache)

    def packaged(self) -> list[tuple[str, str, ModelFacts]]:
        from adapters.llm_local import MODELS, resolve

        found = []
        for name in MODELS:
            with contextlib.suppress(ModelUnavailableError):
                path = resolve(name, self._cache)[1]
                found.append((name, str(path), read_header(path, self._cache)))
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
    if first != MAGIC:  # its bytes are not quoted: it may be any file altlas can read
        raise NotAModelError(f"{path} is not a GGUF file: it does not start with 'GGUF'; "
                             "give the path of a .gguf model")
    try:
        header = walk(path)
    except MalformedHeaderError as e:
        raise NotAModelError(f"{path}: {e}") from None
    architecture = _typed(path, header, "general.architecture", (STRING,))
    if architecture is None:
        raise NotAModelError(f"{path}: its header has no general.architecture")
    context = _typed(path, header, f"{architecture}.context_length", INTEGERS)
    if context is None:
        raise NotAModelError(f"{path}: its header has no {architecture}.context_length")
    if context < 1:
        raise NotAModelError(f"{path}: {architecture}.context_length is {context}; a model "
                             "has a context of at least 1 token")
    file_type = _typed(path, header, "general.file_type", INTEGERS)
    texts = {key: _typed(path, header, key, (STRING,)) for key in (
        "tokenizer.chat_template", "tokenizer.ggml.model", "tokenizer.ggml.pre",
        "general.name")}
    tokens = header.arrays.get("tokenizer.ggml.tokens")
    if tokens is not None and tokens[0] != STRING:
        raise NotAModelError(f"{path}: tokenizer.ggml.tokens is an array of "
                             f"{TYPE_NAMES.get(tokens[0], tokens[0])}, not of strings")
    if "tokenizer.ggml.tokens" in header.values:
        raise NotAModelError(f"{path}: tokenizer.ggml.tokens is a single value, not an "
                             "array of strings")
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
    return ModelFacts(
        sha256=file_sha256(path), size=size, architecture=architecture,
        parameters=sum(int(t.n_elements) for t in reader.tensors),
        quantization=quantization, context_length=int(context),
        chat_template=texts["tokenizer.chat_template"],
        tokenizer={"model": texts["tokenizer.ggml.model"], "pre": texts["tokenizer.ggml.pre"],
                   "vocabulary": tokens[1] if tokens is not None else 0},
        title=texts["general.name"])


def _typed(path: Path, header: Header, key: str, kinds: tuple[int, ...] | frozenset[int]
           ) -> Any:
    """The value of ``key`` when the header has it with one of ``kinds``; None when it has
    no such key; NotAModelError naming the key when its type is another."""
    kind = header.types.get(key)
    if kind is None:
        return None
    if kind not in kinds:
        wanted = "a string" if tuple(kinds) == (STRING,) else "an integer"
        raise NotAModelError(f"{path}: {key} is {_a(TYPE_NAMES.get(kind, str(kind)))}, not "
                             f"{wanted}")
    return header.values[key]


def _a(name: str) -> str:
    return f"an {name}" if name[0] in "aeio" else f"a {name}"  # a uint32, an int32


def _damaged(path: Path, size: int, error: Exception) -> NotAModelError:
    return NotAModelError(f"{path} is truncated or damaged: it ends at byte {size}, before "
                          f"what its header describes (the gguf reader: {error})")
