"""Transcription benchmark on the shared stereo recordings: accuracy, mono role labelling, speed.

Prints, for Callscope's pipeline and, in the same run, for plain ``WhisperModel.transcribe`` on
each channel with default settings (the baseline):
- character error rate per role (simplified characters, numbers as digits, no punctuation);
- speed as audio seconds per wall second of the whole batch (audio decoding included), and the ratio
  pipeline / baseline; the pipeline shares the calls among worker processes as ``callscope
  transcribe`` does (``--workers``; ``--workers 1`` is one process with every thread);
- for the same calls downmixed to mono: CER and the share of speech time labelled with the right
  role (speaker separation + agent/customer naming);
- CER on the real read-speech samples in ``shared/realdata/mandarin-speech-samples``.

Usage: python benchmarks/asr.py [--calls DIR] [--limit N] [--no-baseline] [--no-mono] [--threads 2]
       [--workers 0] [--beam-size 5] [--compute-type int8] [--save DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from speech.audio import Audio, load_audio
from speech.batch import in_workers, sidecar_metadata, worker_plan, write_json
from speech.cer import ErrorCount
from speech.lexicon import load_lexicon
from speech.model import ModelSpec, load_whisper, resolve_model
from speech.pipeline import transcribe_audio
from speech.transcribe import WARP, AsrOptions, Transcriber

SHARED = ROOT.parent / "shared"
ROLES = ("agent", "customer")


def pick_calls(folder: Path, limit: int | None) -> list[Path]:
    """Recordings with labels beside them; ``limit`` takes an even spread across call types."""
    calls = sorted(p for p in folder.glob("*.mp3") if p.with_suffix(".json").exists())
    if limit and limit < len(calls):
        step = len(calls) / limit
        calls = [calls[int(i * step)] for i in range(limit)]
    return calls


def role_text(turns, role: str) -> str:
    """All of one role's words in time order."""
    return "".join(t["text"] if isinstance(t, dict) else t.text for t in turns
                   if (t["role"] if isinstance(t, dict) else t.role) == role)


def role_accuracy(reference: list[dict], turns, step: float = 0.01) -> tuple[float, float]:
    """(correct, total) seconds of single-speaker reference speech given the right role."""
    end = max(t["end"] for t in reference) + 1.0
    n = int(end / step) + 1
    ref = np.zeros((2, n), dtype=bool)
    hyp = np.full(n, -1)
    for t in reference:
        ref[ROLES.index(t["role"]), int(t["start"] / step) : int(t["end"] / step)] = True
    for t in turns:
        hyp[int(t.start / step) : int(t.end / step)] = ROLES.index(t.role)
    single = ref.sum(axis=0) == 1
    truth = np.argmax(ref, axis=0)
    return float(np.sum(single & (hyp == truth)) * step), float(np.sum(single) * step)


def transcribed(calls, transcriber, mono: bool, workers: int) -> Iterator[tuple[Path, object, float]]:
    """(recording, conversation, audio seconds) for each call as it is done, by ``workers`` processes
    (each with a copy of ``transcriber``, as ``callscope transcribe`` shares a batch) or, with one, here."""
    if workers <= 1:
        for path in calls:
            yield _transcribe(path, transcriber, mono)
        return
    for _, result in in_workers(_transcribe_task, calls, workers, (transcriber, mono)):
        if isinstance(result, BaseException):
            raise result
        yield result


def _transcribe_task(path: Path, state: tuple[Transcriber, bool]):
    return _transcribe(path, *state)


def _transcribe(path: Path, transcriber: Transcriber, mono: bool):
    audio = load_audio(path)
    if mono:
        audio = Audio([audio.mono()], audio.source_rate, audio.codec)
    return path, transcribe_audio(audio, path.stem, transcriber), audio.duration


def run_pipeline(calls, transcriber, mono: bool, workers: int = 1, save: Path | None = None) -> dict:
    """CER per role, speed and (mono) role accuracy of Callscope's pipeline; ``save``: also write
    each transcript there with the call's metadata, as ``callscope transcribe`` does."""
    errors = {r: ErrorCount() for r in ROLES}
    audio_s = correct = total = 0.0
    methods: dict[str, int] = {}
    started = time.perf_counter()
    for path, conversation, seconds in transcribed(calls, transcriber, mono, workers):
        reference = json.loads(path.with_suffix(".json").read_text())["turns"]
        audio_s += seconds
        if save is not None:
            conversation.extra.update(sidecar_metadata(path))
            write_json(save / f"{path.stem}.json", conversation.to_dict())
        for role in ROLES:
            errors[role].add(role_text(reference, role), role_text(conversation.turns, role))
        method = (conversation.transcription or {}).get("roles_method", "?")
        methods[method] = methods.get(method, 0) + 1
        if mono:
            c, t = role_accuracy(reference, conversation.turns)
            correct, total = correct + c, total + t
        print(f"  {path.stem}: " + ", ".join(f"{r} {errors[r].cer:.3f}" for r in ROLES), file=sys.stderr)
    wall = time.perf_counter() - started
    result = {
        "cer": {r: round(errors[r].cer, 4) for r in ROLES},
        "cer_all": round(sum(e.edits for e in errors.values()) / sum(e.ref_chars for e in errors.values()), 4),
        "audio_s": round(audio_s, 1),
        "wall_s": round(wall, 1),
        "speed_x": round(audio_s / wall, 2),
        "workers": workers,
        "roles_method": methods,
    }
    if mono:
        result["role_time_accuracy"] = round(correct / total, 4) if total else None
    return result


def run_baseline(calls, spec: ModelSpec) -> dict:
    """Plain ``WhisperModel.transcribe(channel, language='zh')`` with default settings per channel."""
    model = load_whisper(spec)
    errors = {r: ErrorCount() for r in ROLES}
    audio_s = wall = 0.0
    for path in calls:
        reference = json.loads(path.with_suffix(".json").read_text())["turns"]
        audio = load_audio(path)
        started = time.perf_counter()
        texts = {}
        for role, samples in zip(ROLES, audio.channels):
            segments, _ = model.transcribe(samples, language="zh")
            texts[role] = "".join(s.text for s in segments)
        wall += time.perf_counter() - started
        audio_s += audio.duration
        for role in ROLES:
            errors[role].add(role_text(reference, role), texts[role])
    return {
        "cer": {r: round(errors[r].cer, 4) for r in ROLES},
        "cer_all": round(sum(e.edits for e in errors.values()) / sum(e.ref_chars for e in errors.values()), 4),
        "audio_s": round(audio_s, 1),
        "wall_s": round(wall, 1),
        "speed_x": round(audio_s / wall, 2),
    }


def real_samples(transcriber: Transcriber) -> dict:
    """CER on real read Mandarin (Common Voice, AISHELL-1): a smoke test, not a call benchmark."""
    base = SHARED / "realdata" / "mandarin-speech-samples"
    pairs = []
    with open(base / "commonvoice-zh-cn" / "dev.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            pairs.append((base / "commonvoice-zh-cn" / "wav" / Path(row["audio_path"]).name, row["label"]))
    for line in (base / "aishell1-S0724" / "trans.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            utt, text = line.split(maxsplit=1)
            pairs.append((base / "aishell1-S0724" / "wav" / f"{utt}.wav", text))
    errors = ErrorCount()
    for wav, text in pairs:
        if not wav.exists():
            continue
        conversation = transcribe_audio(load_audio(wav), wav.stem, transcriber)
        errors.add(text, "".join(t.text for t in conversation.turns))
    return {"utterances": len(pairs), "cer": round(errors.cer, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=Path, default=SHARED / "corpus" / "calls")
    parser.add_argument("--limit", type=int, default=None, help="use N calls spread over the set")
    parser.add_argument("--threads", type=int, default=2, help="threads in all (shared by the workers)")
    parser.add_argument("--workers", type=int, default=0,
                        help="pipeline processes, as `callscope transcribe --workers` (0: one per thread, at most 4)")
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--compute-type", default="int8", help="CTranslate2 compute type (int8, float32...)")
    parser.add_argument("--prompt-chars", type=int, default=0, help="lexicon prompt length (0: none)")
    parser.add_argument("--warp", action="store_true", help="retry unsure windows at a vocal-tract warp")
    parser.add_argument("--warp-below", type=float, default=AsrOptions().warp_below_logprob,
                        help="retry windows whose average log-probability is below this")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--no-mono", action="store_true")
    parser.add_argument("--no-real", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--save", type=Path, help="also write the stereo transcripts to this folder")
    args = parser.parse_args()

    calls = pick_calls(args.calls, args.limit)
    workers, per_worker = worker_plan(len(calls), args.threads, args.workers)
    spec = ModelSpec(resolve_model(), compute_type=args.compute_type, cpu_threads=args.threads)
    transcriber = Transcriber(
        replace(spec, cpu_threads=per_worker), AsrOptions(beam_size=args.beam_size, prompt_chars=args.prompt_chars,
                         warps=(WARP,) if args.warp else (), warp_below_logprob=args.warp_below),
        load_lexicon(),
    )
    if workers == 1:
        load_whisper(transcriber.model)  # load once, outside every timing (workers load theirs inside it)
    report: dict = {"calls": len(calls), "model": str(spec.path), "threads": args.threads, "workers": workers,
                    "asr": transcriber.options.to_dict()}
    print(f"{len(calls)} calls from {args.calls}", file=sys.stderr)
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
    report["pipeline_stereo"] = run_pipeline(calls, transcriber, mono=False, workers=workers, save=args.save)
    if not args.no_baseline:
        report["baseline_stereo"] = run_baseline(calls, spec)
        report["speedup_vs_baseline"] = round(
            report["pipeline_stereo"]["speed_x"] / report["baseline_stereo"]["speed_x"], 2
        )
    if not args.no_mono:
        report["pipeline_mono"] = run_pipeline(calls, transcriber, mono=True, workers=workers)
    if not args.no_real:
        report["real_read_speech"] = real_samples(Transcriber(spec, transcriber.options, transcriber.lexicon))
    text = json.dumps(report, ensure_ascii=False, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
