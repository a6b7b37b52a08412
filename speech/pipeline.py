"""Recording in, ``Conversation`` out: decode, find who spoke when, transcribe, measure.

Stereo recordings carry one party per channel (channel 0 agent, channel 1 customer unless told
otherwise), so roles come from the channel. Mono recordings (and "stereo" files whose two channels
are the same signal) are split into two speakers by ``speech.diarize`` and the agent is told from
what each says. The transcript records which method labelled the roles.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from callscope.types import Conversation, Turn
from speech import diarize
from speech.audio import Audio, load_audio
from speech.features import FeatureOptions, agitation, measure
from speech.segments import Region, drop_crosstalk, group_turns
from speech.transcribe import DecodedTurn, Transcriber
from speech.vad import VadOptions, speech_regions


@dataclass(frozen=True, slots=True)
class PipelineOptions:
    """How a recording becomes turns; every field is recorded in the output for provenance."""

    channel_roles: tuple[str, str] = ("agent", "customer")
    vad: VadOptions = field(default_factory=VadOptions)
    features: FeatureOptions = field(default_factory=FeatureOptions)
    max_gap_s: float = 2.0


def transcribe_recording(
    path: str | Path, transcriber: Transcriber, options: PipelineOptions | None = None
) -> Conversation:
    """Transcribe one recording; raises ``speech.audio.AudioError`` for an unusable file."""
    started = time.perf_counter()
    audio = load_audio(path)
    conversation = transcribe_audio(audio, Path(path).stem, transcriber, options)
    conversation.transcription = {
        "source": Path(path).name,
        **(conversation.transcription or {}),
        "seconds": round(time.perf_counter() - started, 2),
    }
    return conversation


def transcribe_audio(
    audio: Audio, call_id: str, transcriber: Transcriber, options: PipelineOptions | None = None
) -> Conversation:
    """Transcribe decoded audio (for callers that hold samples, such as benchmarks)."""
    options = options or PipelineOptions()
    if _is_true_stereo(audio):
        regions, roles, method, channels = _stereo_regions(audio, options)
        decoded = transcriber.decode(group_turns(regions, max_gap=options.max_gap_s), channels)
        vad = options.vad
    else:
        channels = [audio.mono()]
        regions, decoded, roles, method = _mono_turns(channels[0], transcriber, options)
        vad = diarize.DIARIZATION_VAD  # what actually cut the mono speech, for the record
    turns = [_turn(d, roles) for d in decoded]
    agitation(turns, channels, {role: min(spk, len(channels) - 1) for spk, role in roles.items()})
    return Conversation(
        call_id=call_id,
        turns=turns,
        duration_s=audio.duration,
        acoustics=measure(regions, roles, turns, options.features),
        transcription={
            "codec": audio.codec,
            "source_rate": audio.source_rate,
            "channels": len(audio.channels),
            "roles_method": method,
            "model": str(transcriber.model.path),
            "asr": transcriber.options.to_dict(),
            **transcriber.provenance(),
            "vad": vad.to_dict(),
        },
    )


def _is_true_stereo(audio: Audio) -> bool:
    """Two channels that differ: one party each. A duplicated mono signal does not count."""
    if len(audio.channels) < 2:
        return False
    left, right = audio.channels[0], audio.channels[1]
    return float(np.mean(np.abs(left - right))) > 0.05 * float(np.mean(np.abs(left)) + 1e-9)


def _stereo_regions(audio: Audio, options: PipelineOptions):
    """Speech regions of each channel, crosstalk removed; roles by channel."""
    channels = audio.channels[:2]
    regions = [
        Region(ch, s, e) for ch, samples in enumerate(channels) for s, e in speech_regions(samples, options.vad)
    ]
    regions = drop_crosstalk(regions, channels)
    roles = {0: options.channel_roles[0], 1: options.channel_roles[1]}
    return regions, roles, "stereo-channel", channels


def _mono_turns(samples: np.ndarray, transcriber: Transcriber, options: PipelineOptions):
    """Cluster two voices, transcribe, then name the agent from what each voice says."""
    regions = diarize.split_speakers(samples, speech_regions(samples, diarize.DIARIZATION_VAD))
    slots = group_turns(regions, max_gap=options.max_gap_s)
    decoded = transcriber.decode(slots, [samples, samples])  # both speakers read the one signal
    texts: dict[int, str] = {}
    for d in decoded:
        texts[d.slot.speaker] = texts.get(d.slot.speaker, "") + d.text
    first = slots[0].speaker if slots else 0
    agent, evidence = diarize.agent_speaker(texts, first)
    roles = {agent: "agent", 1 - agent: "customer"}
    return regions, decoded, roles, f"mono-voice-clustering+{evidence}"


def _turn(decoded: DecodedTurn, roles: dict[int, str]) -> Turn:
    return Turn(
        role=roles[decoded.slot.speaker],  # type: ignore[arg-type]
        text=decoded.text,
        start=decoded.slot.start,
        end=decoded.slot.end,
        confidence=round(decoded.confidence, 3),
    )
