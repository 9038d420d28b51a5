"""Whisper through whisper.cpp (pywhispercpp), from the same packaged model as
faster-whisper, converted once per machine into the model cache (adapters/whisper_ggml.py)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from typing import Any

from adapters.packaged import ModelUnavailableError
from adapters.speech import Decoded
from adapters.speech_audio import Samples
from adapters.speech_models import resolve
from adapters.whisper_ggml import ConversionError, convert

BEAM = 5


class WhisperCppDecoder:
    """whisper.cpp reports no no-speech probability through pywhispercpp: it is given as 0,
    and silence is refused before decoding by the voice detector either way."""

    def __init__(self, display: str, path: Path, multilingual: bool, *, threads: int = 2
                 ) -> None:
        from pywhispercpp.model import Model

        self.name = f"whisper.cpp:{display}"
        self.multilingual = multilingual
        self._threads = threads
        self._model: Any = Model(
            str(path), params_sampling_strategy=1, redirect_whispercpp_logs_to=None,
            n_threads=threads, print_progress=False, print_realtime=False,
            beam_search={"beam_size": BEAM, "patience": -1.0})

    @classmethod
    def named(cls, name: str, cache: Path, *, threads: int = 2, ggml_type: str = "f16"
              ) -> WhisperCppDecoder:
        if importlib.util.find_spec("pywhispercpp") is None:
            raise ModelUnavailableError(
                "pywhispercpp is not installed: pip install 'altlas[speech]'")
        display, source, multilingual = resolve(name, cache)
        target = cache / f"whisper-{display}-{ggml_type}.ggml"
        if not target.is_file():
            try:
                convert(source, target, ftype=ggml_type)
            except (ConversionError, KeyError) as e:
                raise ModelUnavailableError(f"cannot convert {source} for whisper.cpp: {e}"
                                            ) from None
            except OSError as e:
                raise ModelUnavailableError(
                    f"cannot write {target}: {e.strerror}; point ALTLAS_MODEL_CACHE at a "
                    "directory with 200 MB free") from None
        return cls(f"{display}-{ggml_type}", target, multilingual, threads=threads)

    def languages(self, samples: Samples) -> dict[str, float]:
        _, probabilities = self._model.auto_detect_language(samples, n_threads=self._threads)
        return {code: float(p) for code, p in probabilities.items()}

    def decode(self, samples: Samples, language: str, prompt: str) -> Decoded:
        segments = self._model.transcribe(samples, language=language, initial_prompt=prompt,
                                          extract_probability=True, no_context=True)
        text = " ".join(s.text for s in segments).strip()
        probabilities = [s.probability for s in segments if s.probability > 0]
        if not text or not probabilities:
            return Decoded("", -10.0, 1.0)
        # a segment's probability is its tokens' geometric mean: its log is their mean logprob
        mean = sum(math.log(p) for p in probabilities) / len(probabilities)
        return Decoded(text, mean, 0.0)
