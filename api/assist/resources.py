"""What every assist session of a server process shares, loaded once: the Analyzer (taxonomy, model,
rule books in force) and the Whisper decoder with its decoding thread."""

from __future__ import annotations

import threading
from typing import Any

from api.assist.decoder import DecodeOptions, DecodeQueue, UtteranceDecoder
from api.config import ServiceConfig

_lock = threading.Lock()
_analyzers: dict[tuple, Any] = {}
_queues: dict[tuple, DecodeQueue] = {}


def analyzer_for(config: ServiceConfig):
    """The Analyzer for the configuration in force (rule books / taxonomy replaced through the API
    give a new one), loaded and warmed up once per process."""
    from api.analysis import Analyzer
    from api.storage.config_files import active_paths

    active = active_paths(config)
    key = (str(config.models), config.untrained, active.version)
    with _lock:
        if key not in _analyzers:
            analyzer = Analyzer.load(taxonomy=active.taxonomy, models=config.models, untrained=config.untrained,
                                     rulebooks=list(active.rulebooks) or None)
            _warm(analyzer)
            _analyzers.clear()  # an older configuration is no longer in force
            _analyzers[key] = analyzer
        return _analyzers[key]


def _warm(analyzer) -> None:
    """Run every finder once, so the first suggestions of the first session are not slow."""
    from callscope.types import Conversation, Turn

    analyzer.analyze(Conversation("warm-up", [Turn("agent", "您好，很高兴为您服务。"),
                                              Turn("customer", "我想问一下联通的套餐，话费多少钱？")],
                                  extra={"direction": "inbound", "industry": "telecom"}))


def decode_queue(config: ServiceConfig, options: DecodeOptions | None = None) -> DecodeQueue:
    """The process's decoding thread for the configured Whisper model (the model loads on first use)."""
    from speech.lexicon import load_lexicon
    from speech.model import ModelSpec, resolve_model
    from speech.transcribe import AsrOptions, Transcriber

    options = options or DecodeOptions()
    key = (str(config.whisper_model), options)
    with _lock:
        if key not in _queues:
            spec = ModelSpec(resolve_model(config.whisper_model))
            transcriber = Transcriber(spec, AsrOptions(beam_size=options.beam_size), load_lexicon())
            _queues[key] = DecodeQueue(UtteranceDecoder(transcriber, options))
        return _queues[key]
