"""The CTranslate2 -> whisper.cpp converter writes every tensor whisper.cpp loads, under its
name, with the fused attention projections split back in the right order."""

from __future__ import annotations

import numpy as np

from adapters.whisper_ggml import q8_0, tensors

STATE, MELS, VOCAB = 64, 8, 100


def _variables(rng: np.random.Generator) -> dict[str, np.ndarray]:
    def rand(*shape: int) -> np.ndarray:
        return rng.normal(size=shape).astype(np.float16)

    v: dict[str, np.ndarray] = {
        "encoder/conv1/weight": rand(STATE, MELS, 3), "encoder/conv1/bias": rand(STATE),
        "encoder/conv2/weight": rand(STATE, STATE, 3), "encoder/conv2/bias": rand(STATE),
        "encoder/position_encodings/encodings": rand(30, STATE),
        "encoder/layer_norm/gamma": rand(STATE), "encoder/layer_norm/beta": rand(STATE),
        "decoder/embeddings/weight": rand(VOCAB, STATE),
        "decoder/position_encodings/encodings": rand(16, STATE),
        "decoder/layer_norm/gamma": rand(STATE), "decoder/layer_norm/beta": rand(STATE),
    }
    for part, attentions in (("encoder", {"self_attention": 3}),
                             ("decoder", {"self_attention": 3, "attention": 0})):
        for i in range(2):
            layer = f"{part}/layer_{i}"
            for name, fused in attentions.items():
                a = f"{layer}/{name}"
                v[f"{a}/layer_norm/gamma"], v[f"{a}/layer_norm/beta"] = rand(STATE), rand(STATE)
                if fused:
                    v[f"{a}/linear_0/weight"] = rand(3 * STATE, STATE)
                    v[f"{a}/linear_0/bias"] = rand(3 * STATE)
                    v[f"{a}/linear_1/weight"], v[f"{a}/linear_1/bias"] = \
                        rand(STATE, STATE), rand(STATE)
                else:  # cross attention: query, then key and value fused
                    v[f"{a}/linear_0/weight"], v[f"{a}/linear_0/bias"] = \
                        rand(STATE, STATE), rand(STATE)
                    v[f"{a}/linear_1/weight"] = rand(2 * STATE, STATE)
                    v[f"{a}/linear_1/bias"] = rand(2 * STATE)
                    v[f"{a}/linear_2/weight"], v[f"{a}/linear_2/bias"] = \
                        rand(STATE, STATE), rand(STATE)
            v[f"{layer}/ffn/layer_norm/gamma"] = rand(STATE)
            v[f"{layer}/ffn/layer_norm/beta"] = rand(STATE)
            v[f"{layer}/ffn/linear_0/weight"] = rand(4 * STATE, STATE)
            v[f"{layer}/ffn/linear_0/bias"] = rand(4 * STATE)
            v[f"{layer}/ffn/linear_1/weight"] = rand(STATE, 4 * STATE)
            v[f"{layer}/ffn/linear_1/bias"] = rand(STATE)
    return v


def test_every_tensor_whisper_cpp_loads_is_written_once() -> None:
    names = [name for name, _ in tensors(_variables(np.random.default_rng(0)))]
    # whisper.cpp: 7 encoder and 4 decoder tensors, 15 per encoder and 24 per decoder layer
    assert len(names) == len(set(names)) == 7 + 4 + 15 * 2 + 24 * 2
    assert "decoder.blocks.1.cross_attn.key.weight" in names
    assert not any(name.endswith("key.bias") for name in names)  # Whisper's key has none


def test_fused_projections_are_split_into_query_key_and_value() -> None:
    v = _variables(np.random.default_rng(1))
    out = dict(tensors(v))
    fused = v["encoder/layer_1/self_attention/linear_0/weight"]
    assert np.array_equal(out["encoder.blocks.1.attn.query.weight"], fused[:STATE])
    assert np.array_equal(out["encoder.blocks.1.attn.key.weight"], fused[STATE:2 * STATE])
    assert np.array_equal(out["encoder.blocks.1.attn.value.weight"], fused[2 * STATE:])
    kv = v["decoder/layer_0/attention/linear_1/weight"]
    assert np.array_equal(out["decoder.blocks.0.cross_attn.value.weight"], kv[STATE:])
    assert out["encoder.conv1.bias"].shape == (STATE, 1)


def test_q8_0_keeps_each_value_within_half_a_step_of_its_block_scale() -> None:
    matrix = np.random.default_rng(2).normal(size=(4, 64)).astype(np.float32)
    packed = np.frombuffer(q8_0(matrix), dtype=[("d", "<f2"), ("qs", "i1", 32)])
    assert len(packed) == 8  # 34 bytes a block of 32
    restored = (packed["qs"].astype(np.float32) * packed["d"].astype(np.float32)[:, None])
    step = np.abs(matrix.reshape(-1, 32)).max(axis=1, keepdims=True) / 127
    assert np.all(np.abs(restored - matrix.reshape(-1, 32)) <= step * 0.51 + 1e-3)
