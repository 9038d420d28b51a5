"""Voice clips synthesised on this machine (espeak-ng and Flite, Debian packages installed by
scripts/services.sh), clean, fast or with noise mixed in, for the tests and bench/voice.py."""

from __future__ import annotations

import io
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

SYNTHS = ("flite", "espeak-ng")
VARIANTS = ("clean", "fast", "noisy")
NOISE_SNR_DB = 10.0


def _synthesise(text: str, synth: str, language: str, variant: str, voice: str | None
                ) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "clip.wav"
        if synth == "flite":
            # slt is the clearest of Flite's voices; Flite speaks English only
            command = ["flite", "-voice", "slt", "-t", text, "-o", str(out)]
            if variant == "fast":
                command[1:1] = ["--setf", "duration_stretch=0.75"]
        else:
            rate = {"fast": "220", "slow": "120"}.get(variant, "160")
            command = ["espeak-ng", "-v", voice or ("tr" if language == "tr" else "en-us"),
                       "-s", rate, "-w", str(out), text]
        subprocess.run(command, check=True, capture_output=True, timeout=60)
        return out.read_bytes()


def _with_noise(clip: bytes, seed: int) -> bytes:
    """White noise at NOISE_SNR_DB under the speech, as a street or a fan would add."""
    with wave.open(io.BytesIO(clip)) as w:
        params = w.getparams()
        samples = np.frombuffer(w.readframes(params.nframes), dtype=np.int16).astype(float)
    power = float(np.mean(samples ** 2)) or 1.0
    noise = np.random.default_rng(seed).normal(0, (power / 10 ** (NOISE_SNR_DB / 10)) ** 0.5,
                                               samples.size)
    mixed = np.clip(samples + noise, -32768, 32767).astype(np.int16)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setparams(params)
        w.writeframes(mixed.tobytes())
    return out.getvalue()


def say(text: str, *, synth: str = "flite", language: str = "en", variant: str = "clean",
        voice: str | None = None, seed: int = 0) -> bytes:
    """A WAV clip of ``text`` said by ``synth`` (clean, fast, slow or noisy); ``voice`` is one
    of espeak-ng's (``tr+f3``)."""
    clip = _synthesise(text, synth, language, variant, voice)
    return _with_noise(clip, seed) if variant == "noisy" else clip


def silence(seconds: float, *, noise: float = 0.0, rate: int = 16_000) -> bytes:
    """A clip with no speech: quiet, or white noise of ``noise`` (its RMS, 0..1)."""
    samples = np.random.default_rng(1).normal(0, noise * 32767, int(seconds * rate))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.clip(samples, -32768, 32767).astype(np.int16).tobytes())
    return out.getvalue()


def as_ogg_opus(clip: bytes) -> bytes:
    """The clip re-encoded as Ogg Opus, the container of Slack's and Discord's voice
    messages."""
    import av

    out = io.BytesIO()
    with av.open(io.BytesIO(clip)) as src, av.open(out, "w", format="ogg") as dst:
        stream = dst.add_stream("libopus", rate=48_000)
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48_000)
        for frame in src.decode(audio=0):
            for piece in resampler.resample(frame):
                for packet in stream.encode(piece):
                    dst.mux(packet)
        for packet in stream.encode(None):
            dst.mux(packet)
    return out.getvalue()
