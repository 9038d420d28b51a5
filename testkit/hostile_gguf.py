"""GGUF headers written to hurt a reader that believes them: each says more than its few
bytes hold (an array of 2^40 elements, nesting 2,000 deep, a string of 2^60 bytes) or gives a
field the wrong type. Shared by the security tests and bench/gguf_hostile.py; the key each
one names is the field a refusal must name."""

from __future__ import annotations

import struct
from collections.abc import Callable

UINT32, STRING, ARRAY, UINT64 = 4, 8, 9, 10


def text(value: str | bytes) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return struct.pack("<Q", len(raw)) + raw


def kv(key: str, kind: int, payload: bytes) -> bytes:
    return text(key) + struct.pack("<I", kind) + payload


def header(*fields: bytes, tensors: int = 0, tail: bytes = b"") -> bytes:
    return b"GGUF" + struct.pack("<IQQ", 3, tensors, len(fields)) + b"".join(fields) + tail


LLAMA = kv("general.architecture", STRING, text("llama"))
CONTEXT = kv("llama.context_length", UINT32, struct.pack("<I", 512))


def _nested(depth: int) -> bytes:
    return struct.pack("<I", ARRAY) + b"".join(
        struct.pack("<Q", 1) + struct.pack("<I", ARRAY) for _ in range(depth)) + struct.pack(
        "<Q", 0)


# name: (the file's bytes, the field its refusal names)
HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "array of 2^40 uint8": (lambda: header(LLAMA, kv("tokenizer.ggml.scores", ARRAY,
                                                     struct.pack("<IQ", 0, 2**40))),
                            "tokenizer.ggml.scores"),
    "array of 2^20 strings in 200 bytes": (
        lambda: header(LLAMA, kv("tokenizer.ggml.tokens", ARRAY,
                                 struct.pack("<IQ", STRING, 2**20))),
        "tokenizer.ggml.tokens[0]"),
    "2,000 nested arrays": (lambda: header(LLAMA, kv("general.tags", ARRAY, _nested(2000))),
                            "general.tags"),
    "string of 2^60 bytes": (lambda: header(kv("general.architecture", STRING,
                                               struct.pack("<Q", 2**60))),
                             "general.architecture"),
    "key of 2^32 bytes": (lambda: header(struct.pack("<Q", 2**32) + b"general"), "key #0"),
    "2^62 key-value pairs": (lambda: b"GGUF" + struct.pack("<IQQ", 3, 0, 2**62),
                             "the key-value count"),
    "2^50 tensors": (lambda: header(LLAMA, CONTEXT, tensors=2**50), "the tensor count"),
    "tensor of 2^31 dimensions": (lambda: header(LLAMA, CONTEXT, tensors=1, tail=text(
        "token_embd.weight") + struct.pack("<I", 2**31)), "tensor #0"),
    "string context_length": (lambda: header(LLAMA, kv("llama.context_length", STRING,
                                                       text("512"))),
                              "llama.context_length"),
    "numeric architecture": (lambda: header(kv("general.architecture", UINT32,
                                               struct.pack("<I", 7))),
                             "general.architecture"),
    "tokens as numbers": (lambda: header(LLAMA, CONTEXT, kv(
        "tokenizer.ggml.tokens", ARRAY, struct.pack("<IQ", UINT32, 1) + b"\0" * 4)),
        "tokenizer.ggml.tokens"),
    "version 7": (lambda: b"GGUF" + struct.pack("<IQQ", 7, 0, 0), "version 7"),
}
