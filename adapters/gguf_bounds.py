"""A GGUF header walked within bounds before the gguf package reads it.

The gguf package's reader believes the header: an array said to hold 2^40 elements is
walked element by element past the end of the file (tens of GB resident for a 192-byte
file), and nesting is followed as deep as it goes. This walk reads the same layout over a
memory map, allocates nothing per element, and refuses — naming the field — any count,
length or depth past the limits below or past the end of the file, so that what reaches the
reader is a header whose size the file itself bounds.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domain.errors import InvalidInputError

MAX_HEADER_BYTES = 128 * 1024 * 1024  # a 256k-token vocabulary with its merges fits
MAX_ARRAY_ITEMS = 4 * 1024 * 1024
MAX_STRING_BYTES = 16 * 1024 * 1024  # tokenizer.huggingface.json, in files that carry it
MAX_KEY_BYTES = 256
MAX_NESTING = 3  # an array of arrays of arrays; llama.cpp writes one level
MAX_FIELDS = 65_536
MAX_TENSORS = 1_000_000
MAX_DIMS = 4  # GGML_MAX_DIMS

STRING, ARRAY = 8, 9
SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q",
           12: "d"}
INTEGERS = frozenset({0, 1, 2, 3, 4, 5, 10, 11})
TYPE_NAMES = {0: "uint8", 1: "int8", 2: "uint16", 3: "int16", 4: "uint32", 5: "int32",
              6: "float32", 7: "bool", 8: "string", 9: "array", 10: "uint64", 11: "int64",
              12: "float64"}


class MalformedHeaderError(InvalidInputError):
    """A GGUF header that says more than its file holds or than altlas reads: the message
    names the field."""


@dataclass
class Header:
    """The header's scalar and string values by key, every field's type, and for arrays
    their item type and length."""

    values: dict[str, Any] = field(default_factory=dict)
    types: dict[str, int] = field(default_factory=dict)
    arrays: dict[str, tuple[int, int]] = field(default_factory=dict)


def walk(path: Path) -> Header:
    """The header of the GGUF file at ``path`` (its magic checked by the caller), walked
    within the bounds above; MalformedHeaderError naming the field otherwise."""
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return _Walk(data).header()


class _Walk:
    def __init__(self, data: mmap.mmap) -> None:
        self.data = data
        self.end = min(len(data), MAX_HEADER_BYTES)
        self.offset = 4
        self.order = "<"

    def header(self) -> Header:
        version = self._unpack("I", "the version")
        if version & 0xFFFF == 0:  # written on a machine of the other byte order
            self.order = ">"
            version = struct.unpack(">I", struct.pack("<I", version))[0]
        if version not in (2, 3):
            raise MalformedHeaderError(f"GGUF version {version}: altlas reads versions 2 "
                                       "and 3")
        tensors = self._count("the tensor count", MAX_TENSORS)
        fields = self._count("the key-value count", MAX_FIELDS)
        found = Header()
        for index in range(fields):
            key = self._string(f"key #{index}", MAX_KEY_BYTES).decode("utf-8", "replace")
            name = _shown(key, index)
            kind = self._unpack("I", f"{name}'s type")
            found.types[key] = kind
            if kind == ARRAY:
                found.arrays[key] = self._array(name, 1)
            else:
                value = self._value(kind, name)
                if value is not None:
                    found.values[key] = value
        for index in range(tensors):
            self._tensor(index)
        return found

    def _array(self, name: str, depth: int) -> tuple[int, int]:
        if depth > MAX_NESTING:
            raise MalformedHeaderError(f"{name}: arrays nested more than {MAX_NESTING} deep")
        kind = self._unpack("I", f"{name}'s item type")
        count = self._count(f"{name}'s length", MAX_ARRAY_ITEMS)
        fixed = SCALARS.get(kind)
        if fixed is not None:
            self._skip(struct.calcsize(fixed) * count, f"{name}'s {count} items")
        elif kind == STRING:
            for i in range(count):
                self._string(f"{name}[{i}]", MAX_STRING_BYTES, keep=False)
        elif kind == ARRAY:
            for _ in range(count):
                self._array(name, depth + 1)
        else:
            raise MalformedHeaderError(f"{name}: item type {kind} is not a GGUF type")
        return kind, count

    def _value(self, kind: int, name: str) -> Any:
        if kind == STRING:
            return self._string(name, MAX_STRING_BYTES).decode("utf-8", "replace")
        fixed = SCALARS.get(kind)
        if fixed is None:
            raise MalformedHeaderError(f"{name}: type {kind} is not a GGUF type")
        return self._unpack(fixed, name)

    def _tensor(self, index: int) -> None:
        name = f"tensor #{index}"
        self._string(f"{name}'s name", MAX_KEY_BYTES, keep=False)
        dims = self._unpack("I", f"{name}'s dimension count")
        if dims > MAX_DIMS:
            raise MalformedHeaderError(f"{name}: {dims} dimensions; GGUF tensors have at most "
                                       f"{MAX_DIMS}")
        self._skip(8 * dims + 4 + 8, f"{name}'s shape, type and offset")

    def _string(self, name: str, limit: int, keep: bool = True) -> bytes:
        length = self._count(f"{name}'s length", limit)
        start = self.offset
        self._skip(length, f"{name}'s {length} bytes")
        return self.data[start:self.offset] if keep else b""

    def _count(self, name: str, limit: int) -> int:
        count: int = self._unpack("Q", name)
        if count > limit:
            raise MalformedHeaderError(f"{name} is {count}; altlas reads at most {limit}")
        return count

    def _unpack(self, fmt: str, name: str) -> Any:
        size = struct.calcsize(fmt)
        self._skip(size, name)
        return struct.unpack_from(self.order + fmt, self.data, self.offset - size)[0]

    def _skip(self, size: int, name: str) -> None:
        if self.offset + size > self.end:
            if self.end == len(self.data):
                raise MalformedHeaderError(
                    f"{name} would end at byte {self.offset + size}, past the end of the file "
                    f"({self.end} bytes): it is truncated or damaged")
            raise MalformedHeaderError(f"{name} would end at byte {self.offset + size}, past "
                                       f"the {MAX_HEADER_BYTES} bytes a header may take")
        self.offset += size


def _shown(key: str, index: int) -> str:
    """A key as an error may quote it: printable ASCII of modest length, else its index."""
    if key.isascii() and key.isprintable() and 0 < len(key) <= 64:
        return key
    return f"key #{index}"
