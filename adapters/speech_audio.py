"""A voice clip's bytes as 16 kHz mono samples, through PyAV (FFmpeg's decoders: ogg/opus,
m4a, mp3, wav, webm), refused with the reason before any model sees it."""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt

from application.errors import AudioRefusedError

RATE = 16_000
PAD_TO_SECONDS = 3.0  # Whisper models invent words after a short clip's last one

Samples = npt.NDArray[np.float32]


def decode(audio: bytes, *, max_bytes: int, max_seconds: float) -> Samples:
    """The clip's samples. Over ``max_bytes`` it is refused unread; over ``max_seconds`` as
    soon as decoding passes it (a container's own duration may be missing or a lie, and a
    few kilobytes of Opus can hold hours of silence)."""
    if len(audio) > max_bytes:
        raise AudioRefusedError(
            f"the clip is {len(audio) / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit: "
            "send a shorter one", "too_large")
    import av

    limit = int(max_seconds * RATE)
    pieces: list[npt.NDArray[np.generic]] = []
    heard = 0
    try:
        with av.open(io.BytesIO(audio), mode="r", metadata_errors="ignore") as container:
            resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
            for frame in container.decode(audio=0):
                for piece in resampler.resample(frame):
                    pieces.append(piece.to_ndarray().reshape(-1))
                    heard += pieces[-1].size
                if heard > limit:
                    raise AudioRefusedError(
                        f"the clip is over the {max_seconds:g} s limit: say the request in "
                        "a shorter one", "too_long")
    except (av.FFmpegError, IndexError, ValueError, EOFError):
        raise AudioRefusedError("this file is not audio altlas can read: "
                                "send ogg, opus, m4a, mp3, wav or webm", "not_audio") from None
    if not heard:
        raise AudioRefusedError("the file holds no audio: send a voice clip", "not_audio")
    return np.concatenate(pieces).astype(np.float32) / 32768.0


def padded(samples: Samples) -> Samples:
    """A short clip with silence after it, up to PAD_TO_SECONDS."""
    short = int(PAD_TO_SECONDS * RATE) - samples.size
    if short <= 0:
        return samples
    return np.concatenate([samples, np.zeros(short, dtype=np.float32)])


def holds_speech(samples: Samples) -> bool:
    """Whether Silero's voice activity detector (shipped in faster-whisper) finds any speech:
    silence and plain noise are refused before the decoder can invent words for them."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    return bool(get_speech_timestamps(samples, VadOptions(min_speech_duration_ms=200)))
