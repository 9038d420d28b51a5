"""Whisper through faster-whisper (CTranslate2, int8 on the CPU), from a packaged model:
nothing is fetched from a hub at run time."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from adapters.packaged import ModelUnavailableError
from adapters.speech import Decoded
from adapters.speech_audio import Samples
from adapters.speech_models import resolve

BEAM = 5


class FasterWhisperDecoder:
    def __init__(self, display: str, path: Path, multilingual: bool, *, threads: int = 2
                 ) -> None:
        self.name = f"faster-whisper:{display}"
        self.multilingual = multilingual
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is local; never ask a hub
        from faster_whisper import WhisperModel

        self._model: Any = WhisperModel(str(path), device="cpu", compute_type="int8",
                                        cpu_threads=threads)

    @classmethod
    def named(cls, name: str, cache: Path, *, threads: int = 2) -> FasterWhisperDecoder:
        if importlib.util.find_spec("faster_whisper") is None:
            raise ModelUnavailableError(
                "faster-whisper is not installed: pip install 'altlas[speech]'")
        display, path, multilingual = resolve(name, cache)
        return cls(display, path, multilingual, threads=threads)

    def languages(self, samples: Samples) -> dict[str, float]:
        _, _, probabilities = self._model.detect_language(samples)
        return dict(probabilities)

    def decode(self, samples: Samples, language: str, prompt: str) -> Decoded:
        segments, _ = self._model.transcribe(
            samples, language=language, beam_size=BEAM, initial_prompt=prompt or None,
            vad_filter=False, without_timestamps=True, condition_on_previous_text=True)
        heard = list(segments)
        tokens = sum(len(s.tokens) for s in heard)
        if not tokens:
            return Decoded("", -10.0, 1.0)
        return Decoded(
            text="".join(s.text for s in heard).strip(),
            avg_logprob=sum(s.avg_logprob * len(s.tokens) for s in heard) / tokens,
            no_speech_prob=max(s.no_speech_prob for s in heard))
