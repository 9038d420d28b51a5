"""A peft adapter written as GGUF in llama.cpp's LoRA layout: llama.cpp applies it to the
quantised model and moves the next-token scores the way transformers with peft does.

The two do not agree exactly — llama.cpp runs the Q4_1 weights on quantised activations,
transformers the dequantised weights in float32, and a random adapter's push is large enough
to be nonlinear — so the checks are correlations of the score shifts: the adapter as written
against the reference, and the query rows in llama.cpp's order against the same rows left as
transformers holds them (which must lose almost all agreement)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.long(90)  # seconds, about

pytest.importorskip("peft", reason="the train extra is not installed")
pytest.importorskip("llama_cpp", reason="the llm extra is not installed")
CACHE = Path(tempfile.gettempdir()) / "altlas-test-models"
TEXT = "Plan: check the disk on web-1 and then restart nginx"


def shifts(tmp: Path, targets: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How a random adapter on ``targets`` moves the last token's scores: in transformers
    with peft, in llama.cpp with the adapter as written, and with its q/k rows unpermuted."""
    import torch
    from llama_cpp import Llama
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    import adapters.lora_gguf as lora_gguf
    from adapters.llm_local import resolve

    path = resolve("smollm2", CACHE)[1]
    tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    base = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name,
                                                dtype=torch.float32)
    ids = tokenizer(TEXT, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        before = base(input_ids=ids).logits[0, -1].numpy()
    model = get_peft_model(base, LoraConfig(r=8, lora_alpha=32, task_type="CAUSAL_LM",
                                            target_modules=targets))
    torch.manual_seed(1)
    for name, weights in model.named_parameters():
        if "lora_B" in name:  # peft starts B at zero: an adapter that changes something
            weights.data.normal_(0, 0.02)
    with torch.no_grad():
        after = model(input_ids=ids).logits[0, -1].numpy()
    model.save_pretrained(str(tmp / "adapter"))
    c = base.config
    shape = ("llama", c.num_attention_heads, c.num_key_value_heads, c.num_hidden_layers)
    written = lora_gguf.to_gguf(tmp / "adapter", tmp / "adapter.gguf", *shape)
    kept = dict(lora_gguf.PERMUTED)
    lora_gguf.PERMUTED.clear()
    try:
        unpermuted = lora_gguf.to_gguf(tmp / "adapter", tmp / "plain.gguf", *shape)
    finally:
        lora_gguf.PERMUTED.update(kept)

    def scores(**lora: Any) -> np.ndarray:
        llama = Llama(model_path=str(path), n_ctx=256, logits_all=True, verbose=False,
                      seed=0, **lora)
        tokens = llama.tokenize(TEXT.encode(), add_bos=False)
        assert tokens == ids[0].tolist()  # the same text, the same tokens
        llama.eval(tokens)
        return np.array(llama.scores[len(tokens) - 1])

    plain = scores()
    return (after - before, scores(lora_path=str(written)) - plain,
            scores(lora_path=str(unpermuted)) - plain)


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def test_llama_cpp_applies_the_adapter_as_transformers_and_peft_do(tmp_path: Path) -> None:
    reference, applied, _ = shifts(tmp_path, ["q_proj", "k_proj", "v_proj", "o_proj"])
    assert np.linalg.norm(applied) > 1.0  # llama.cpp took the adapter
    assert agreement(reference, applied) > 0.6


def test_query_rows_are_written_in_llama_cpp_s_order(tmp_path: Path) -> None:
    reference, applied, unpermuted = shifts(tmp_path, ["q_proj"])
    assert agreement(reference, applied) > 0.3
    assert agreement(reference, applied) - agreement(reference, unpermuted) > 0.2
