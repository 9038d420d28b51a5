"""A peft LoRA adapter as a GGUF file in llama.cpp's LoRA layout, written with the gguf
package, so llama.cpp (llama-cpp-python's ``lora_path``) applies it to the quantised model
the local segmenter already runs.

The layout is llama.cpp's own (its convert_lora_to_gguf.py): ``general.type`` adapter,
``adapter.type`` lora, ``adapter.lora.alpha``, and for every adapted weight its GGUF name with
``.lora_a`` (rank × inputs) and ``.lora_b`` (outputs × rank). Names come from the gguf
package's tensor map. llama.cpp stores a llama model's query and key weights with their rows
permuted for its rotary embedding (and transformers undoes that when it loads the GGUF), so
those ``lora_b`` are permuted the same way; a qwen2 model's are not.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

PERMUTED = {"llama": ("q_proj", "k_proj")}  # architectures whose q/k rows llama.cpp permutes


class AdapterFormatError(ValueError):
    """The adapter cannot be written for llama.cpp: the message says which part."""


def for_base(adapter: Path, out: Path, base: Path) -> Path:
    """Write ``adapter`` as ``out`` for the GGUF model at ``base``, its shape (architecture,
    attention heads, key/value heads, blocks) read from that model's header."""
    import gguf

    reader = gguf.GGUFReader(str(base))

    def value(key: str) -> Any:
        found = reader.get_field(key)
        if found is None:
            raise AdapterFormatError(f"{base.name} has no {key} in its header")
        return found.contents()

    arch = str(value(gguf.Keys.General.ARCHITECTURE))
    heads = int(value(gguf.Keys.Attention.HEAD_COUNT.format(arch=arch)))
    kv_field = reader.get_field(gguf.Keys.Attention.HEAD_COUNT_KV.format(arch=arch))
    kv_heads = heads if kv_field is None else int(kv_field.contents())
    blocks = int(value(gguf.Keys.LLM.BLOCK_COUNT.format(arch=arch)))
    return to_gguf(adapter, out, arch, heads, kv_heads, blocks)


def to_gguf(adapter: Path, out: Path, architecture: str, heads: int, kv_heads: int,
            blocks: int) -> Path:
    """Write ``adapter`` (peft's folder) as ``out``, whole or not at all."""
    import gguf
    import numpy as np
    from safetensors.numpy import load_file

    config = json.loads((adapter / "adapter_config.json").read_text())
    arch = next((a for a, n in gguf.MODEL_ARCH_NAMES.items() if n == architecture), None)
    if arch is None:
        raise AdapterFormatError(f"architecture {architecture!r} is unknown to the gguf library")
    names = gguf.get_tensor_name_map(arch, blocks)
    pairs: dict[str, dict[str, Any]] = {}
    for name, tensor in load_file(str(adapter / "adapter_model.safetensors")).items():
        side = "a" if ".lora_A." in name else "b" if ".lora_B." in name else None
        if side is None:
            raise AdapterFormatError(f"{name} is not a lora_A or lora_B weight")
        hf = name.replace("base_model.model.", "").replace(f".lora_{side.upper()}.weight",
                                                            ".weight")
        target = names.get_name(hf, try_suffixes=(".weight",))
        if target is None:
            raise AdapterFormatError(f"{hf} has no GGUF name for {architecture}")
        if side == "b" and any(f".{p}." in hf for p in PERMUTED.get(architecture, ())):
            tensor = _permute(tensor, heads if ".q_proj." in hf else kv_heads)
        pairs.setdefault(target, {})[side] = np.ascontiguousarray(tensor, dtype=np.float32)
    partial = out.with_name(f"{out.name}.partial-{os.getpid()}")
    writer = gguf.GGUFWriter(str(partial), architecture)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(config["lora_alpha"]))
    for target, pair in sorted(pairs.items()):
        if set(pair) != {"a", "b"}:
            raise AdapterFormatError(f"{target} has lora_{next(iter(pair))} alone")
        writer.add_tensor(f"{target}.lora_a", pair["a"])
        writer.add_tensor(f"{target}.lora_b", pair["b"])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    partial.replace(out)
    return out


def _permute(weights: Any, heads: int) -> Any:
    """llama.cpp's row order for a llama query or key projection (convert_hf_to_gguf's)."""
    rows = weights.shape[0]
    return (weights.reshape(heads, 2, rows // heads // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))
