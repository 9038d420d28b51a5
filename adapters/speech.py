"""One Transcriber for every speech engine: the clip is decoded, checked and padded, its
language placed, the decoder primed with the inventory's names, a recited prompt heard
again without it, and the names normalised; each engine only detects and decodes."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from adapters.speech_audio import RATE, Samples, decode, holds_speech, padded
from application.errors import AudioRefusedError
from application.ports import Hearing
from application.voice import initial_prompt, normalise_names, plain_words, recites_prompt, tidy

if TYPE_CHECKING:
    from altlas.settings import Settings

NOTHING_HEARD = "I could not hear a request in the clip: say it again, closer to the microphone"
UNCLEAR = "I could not hear the request clearly: say it again, or type it"
# A clip placed in its language with less probability than this may have been "heard" from
# the prompt: a transcript made only of the prompt's words is then heard again without it.
# A clip placed well keeps its prompted hearing (the prompt is what gets the names right).
PLACED = 0.5


@dataclass(frozen=True)
class Decoded:
    text: str
    avg_logprob: float
    no_speech_prob: float


class Decoder(Protocol):
    """What an engine adds: its model's language guess and its beam-search transcript."""

    name: str
    multilingual: bool

    def languages(self, samples: Samples) -> dict[str, float]:
        """Each language code's probability for the clip."""

    def decode(self, samples: Samples, language: str, prompt: str) -> Decoded:
        """The transcript with beam search of 5, primed with ``prompt`` ("" for none)."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 10_000_000
    max_seconds: float = 60.0
    languages: tuple[str, ...] = ("en", "tr")
    min_language_probability: float = 0.2

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(settings.speech_max_bytes, settings.speech_max_seconds,
                   tuple(settings.speech_languages.split(",")),
                   settings.speech_min_language_probability)


class Hearer:
    """A ``Transcriber`` over one engine's decoder; one clip at a time per loaded model."""

    def __init__(self, decoder: Decoder, limits: Limits) -> None:
        self.decoder = decoder
        self._limits = limits
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.decoder.name

    def transcribe(self, audio: bytes, *, names: Sequence[str] = (),
                   language: str | None = None) -> Hearing:
        started = time.perf_counter()
        samples = decode(audio, max_bytes=self._limits.max_bytes,
                         max_seconds=self._limits.max_seconds)
        if not holds_speech(samples):
            raise AudioRefusedError(NOTHING_HEARD, "no_speech")
        clip = padded(samples)
        with self._lock:
            language, probability = self._language(clip, language)
            prompt = initial_prompt(names, language)
            heard = self.decoder.decode(clip, language, prompt)
            if probability < PLACED and recites_prompt(heard.text, prompt):
                again = self.decoder.decode(clip, language, "")
                if plain_words(tidy(normalise_names(again.text, names))) != plain_words(
                        tidy(normalise_names(heard.text, names))):
                    raise AudioRefusedError(UNCLEAR, "no_speech")
        text = tidy(normalise_names(heard.text, names))
        if not plain_words(text):
            raise AudioRefusedError(NOTHING_HEARD, "no_speech")
        return Hearing(text=text, language=language, language_probability=probability,
                       avg_logprob=heard.avg_logprob, no_speech_prob=heard.no_speech_prob,
                       duration_s=samples.size / RATE, model=self.name,
                       seconds=time.perf_counter() - started)

    def _language(self, clip: Samples, forced: str | None) -> tuple[str, float]:
        """The likeliest allowed language, or a refusal when none is likely enough."""
        if forced is not None:
            return forced, 1.0
        if not self.decoder.multilingual:
            return "en", 1.0
        probabilities = self.decoder.languages(clip)
        best = max(self._limits.languages, key=lambda code: probabilities.get(code, 0.0))
        probability = probabilities.get(best, 0.0)
        if probability < self._limits.min_language_probability:
            allowed = " or ".join(self._limits.languages)
            raise AudioRefusedError(
                f"I could not tell which language the clip is in: say it in {allowed}",
                "unknown_language")
        return best, probability


def transcriber_from(settings: Settings) -> Hearer:
    """The engine and model the settings name, loaded once; ``ModelUnavailableError`` says
    what to install when it is missing."""
    decoder: Decoder
    if settings.speech_engine == "whisper.cpp":
        from adapters.speech_whisper_cpp import WhisperCppDecoder

        decoder = WhisperCppDecoder.named(settings.speech_model, settings.model_cache,
                                          threads=settings.speech_threads,
                                          ggml_type=settings.speech_ggml_type)
    else:
        from adapters.speech_faster_whisper import FasterWhisperDecoder

        decoder = FasterWhisperDecoder.named(settings.speech_model, settings.model_cache,
                                             threads=settings.speech_threads)
    return Hearer(decoder, Limits.of(settings))
