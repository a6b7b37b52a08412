"""Decode a recording into 16 kHz float channels, whatever its container or codec.

PyAV (FFmpeg) reads wav (PCM, G.711 mu-law / A-law), mp3, m4a/AAC, ogg/Opus/Vorbis and flac at
any sample rate; we resample to the 16 kHz Whisper expects and keep the channels apart, because
in a stereo call recording each channel is one party.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
AUDIO_SUFFIXES = frozenset({".wav", ".mp3", ".m4a", ".ogg", ".oga", ".opus", ".flac", ".aac"})


class AudioError(ValueError):
    """A recording that cannot be used, with the file and the reason in the message."""

    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


@dataclass(slots=True)
class Audio:
    """Decoded audio: one float32 array per channel at ``SAMPLE_RATE``, plus what it came from."""

    channels: list[np.ndarray]
    source_rate: int
    codec: str

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.channels[0]) / SAMPLE_RATE if self.channels else 0.0

    def mono(self) -> np.ndarray:
        """All channels mixed down to one."""
        if len(self.channels) == 1:
            return self.channels[0]
        return np.mean(np.stack(self.channels), axis=0).astype(np.float32)


def load_audio(path: str | Path, *, min_seconds: float = 0.2) -> Audio:
    """Decode ``path``; raises ``AudioError`` for a missing, empty, corrupt or silent-length file."""
    import av

    path = Path(path)
    if not path.is_file():
        raise AudioError(path, "file not found")
    if path.stat().st_size == 0:
        raise AudioError(path, "file is empty (0 bytes)")
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError(path, "no audio stream in the file")
            stream = container.streams.audio[0]
            n_channels = stream.codec_context.channels or 1
            source_rate = stream.codec_context.sample_rate or 0
            codec = stream.codec_context.name
            samples = _decode_stream(container, stream, min(n_channels, 2))
    except AudioError:
        raise
    except Exception as exc:  # PyAV raises many error types for damaged input
        raise AudioError(path, f"cannot decode audio ({type(exc).__name__}: {exc})") from exc
    finally:
        gc.collect()  # PyAV resamplers hold native buffers until collected
    if samples.size == 0:
        raise AudioError(path, "no audio could be decoded (damaged or truncated file)")
    channels = [np.ascontiguousarray(samples[:, c]) for c in range(samples.shape[1])]
    audio = Audio(channels=channels, source_rate=source_rate, codec=codec)
    if audio.duration < min_seconds:
        raise AudioError(path, f"recording is only {audio.duration:.2f} s long")
    return audio


def _decode_stream(container, stream, n_channels: int) -> np.ndarray:
    """All frames resampled to 16 kHz s16, as a (samples, channels) float32 array."""
    import av

    layout = "stereo" if n_channels == 2 else "mono"
    resampler = av.audio.resampler.AudioResampler(format="s16", layout=layout, rate=SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    bad_frames = 0
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.error.InvalidDataError:
            bad_frames += 1
            if bad_frames > 50:
                raise
            continue
        for frame in frames:
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1, n_channels))
    for out in resampler.resample(None):
        chunks.append(out.to_ndarray().reshape(-1, n_channels))
    if not chunks:
        return np.zeros((0, n_channels), dtype=np.float32)
    return np.concatenate(chunks).astype(np.float32) / 32768.0
