"""Write test recordings in real codecs with PyAV (FFmpeg), from the rendered test fixtures."""

from __future__ import annotations

import wave
from pathlib import Path

import av
import numpy as np

# suffix -> (container format, codec, sample format) as contact-centre recorders store calls
FORMATS = {
    "wav-pcm16": (".wav", "pcm_s16le", "s16"),
    "wav-g711-ulaw": (".wav", "pcm_mulaw", "s16"),
    "wav-g711-alaw": (".wav", "pcm_alaw", "s16"),
    "mp3": (".mp3", "libmp3lame", "s16p"),
    "m4a-aac": (".m4a", "aac", "fltp"),
    "ogg-opus": (".ogg", "libopus", "s16"),
    "flac": (".flac", "flac", "s16"),
}


def read_pcm(path: Path) -> tuple[np.ndarray, int]:
    """(samples x channels float32, rate) of a 16-bit PCM wav fixture."""
    with wave.open(str(path)) as w:
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        return (raw.reshape(-1, w.getnchannels()).astype(np.float32) / 32768.0), w.getframerate()


def resample(samples: np.ndarray, rate: int, new_rate: int) -> np.ndarray:
    """Linear-interpolation resampling (good enough to make an 8 kHz test file)."""
    if rate == new_rate:
        return samples
    n = int(len(samples) * new_rate / rate)
    t_old = np.arange(len(samples)) / rate
    t_new = np.arange(n) / new_rate
    return np.stack([np.interp(t_new, t_old, samples[:, c]) for c in range(samples.shape[1])], axis=1)


def write_audio(samples: np.ndarray, rate: int, path: Path, fmt: str) -> Path:
    """Encode (samples x channels) float audio into ``path`` with the codec named by ``fmt``."""
    suffix, codec, sample_format = FORMATS[fmt]
    path = path.with_suffix(suffix)
    channels = samples.shape[1]
    layout = "stereo" if channels == 2 else "mono"
    pcm = np.clip(samples * 32767, -32768, 32767).astype(np.int16)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=48000 if codec == "libopus" else rate, layout=layout)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout=layout)
        frame.sample_rate = rate
        resampler = av.AudioResampler(format=sample_format, layout=layout, rate=stream.codec_context.sample_rate)
        for piece in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(piece):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path
