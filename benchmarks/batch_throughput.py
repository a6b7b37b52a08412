"""Batch throughput of `callscope analyze` on recordings: audio hours analysed per wall-clock hour.

The full path (decode, VAD, Whisper, analysis, the analysis file written) on N corpus recordings,
run in the same process one configuration after the other:
- the local engine (in this process), Whisper on 1 thread, and on all cores (today's default);
- the Ray engine with 1 and with 2 workers, Whisper on 1 thread per worker (one worker per core).
Models are loaded before timing starts (in every Ray worker too), so the figures are the steady
state of a long batch; Ray's own start-up is left out and printed separately. The 2-vs-1 worker
ratio is the scale-out figure: 2.0 would be perfect; on a 2-core machine the driver, the Ray
daemons and anything else running share the same cores, so expect less.

Usage: python benchmarks/batch_throughput.py [--calls 6] [--address HOST:PORT] [--workers 1,2]
       [--no-local]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.analysis import Analyzer, analyze_paths
from api.jobs.ray_engine import RayExecutor, analysis_settings, analyze_paths_ray, warm_worker
from speech.lexicon import load_lexicon
from speech.model import ModelSpec, load_whisper, resolve_model
from speech.transcribe import AsrOptions, Transcriber

CORPUS = ROOT.parent / "shared" / "corpus" / "calls"


def pick_calls(folder: Path, n: int) -> list[Path]:
    """``n`` recordings spread evenly over the corpus (its call types are in name order)."""
    calls = sorted(folder.glob("*.mp3"))
    if n < len(calls):
        step = len(calls) / n
        calls = [calls[int(i * step)] for i in range(n)]
    return calls


def audio_seconds(out: Path) -> float:
    """Recording seconds behind the analyses written in ``out``."""
    return sum(json.loads(p.read_text(encoding="utf-8")).get("duration_s") or 0.0
               for p in out.glob("*.analysis.json"))


def run_local(calls: list[Path], out: Path, threads: int) -> dict:
    """The in-process engine, models loaded first."""
    analyzer = Analyzer.load()
    transcriber = Transcriber(ModelSpec(resolve_model(None), cpu_threads=threads), AsrOptions(), load_lexicon(None))
    load_whisper(transcriber.model)
    report = analyze_paths(calls, analyzer, out, transcriber_factory=lambda: transcriber)
    return {"wall_s": report.seconds, "audio_s": audio_seconds(out), "failed": report.failed}


def run_ray(calls: list[Path], out: Path, workers: int, address: str | None) -> dict:
    """The Ray engine with ``workers`` actors (a local Ray of that many CPUs unless ``address``)."""
    started = time.perf_counter()
    executor = RayExecutor(address, workers)
    try:
        settings = analysis_settings(threads=1)
        pids = executor.each_worker(warm_worker, settings)
        ready_s = time.perf_counter() - started
        report = analyze_paths_ray(calls, settings, out, executor)
    finally:
        executor.shutdown()
    return {"wall_s": report.seconds, "audio_s": report.audio_s, "failed": report.failed, "ready_s": ready_s,
            "processes": len(set(pids))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=6, help="How many corpus recordings (default 6).")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--address", help="Ray cluster host:port (default: a local Ray per configuration).")
    parser.add_argument("--workers", default="1,2", help="Ray worker counts to measure (default 1,2).")
    parser.add_argument("--no-local", action="store_true", help="Leave out the in-process baseline.")
    args = parser.parse_args()

    calls = pick_calls(args.corpus, args.calls)
    if not calls:
        sys.exit(f"no recordings in {args.corpus}")
    print(f"{len(calls)} recordings from {args.corpus}; {os.cpu_count()} cores; "
          f"load average at start {os.getloadavg()[0]:.1f}")
    runs: list[tuple[str, dict]] = []
    with tempfile.TemporaryDirectory(prefix="callscope-throughput-") as tmp:
        configs = [] if args.no_local else [("local, Whisper 1 thread", "local", 1),
                                            ("local, Whisper all cores", "local", 0)]
        configs += [(f"ray, {w} worker{'s' if w > 1 else ''} x 1 thread", "ray", w)
                    for w in (int(x) for x in args.workers.split(","))]
        for n, (label, engine, value) in enumerate(configs):
            out = Path(tmp) / f"run{n}"
            result = run_local(calls, out, value) if engine == "local" else run_ray(calls, out, value, args.address)
            result["workers"] = value
            runs.append((label, result))
            rate = result["audio_s"] / result["wall_s"] if result["wall_s"] else 0.0
            extra = (f"  (Ray ready + models loaded in {result['ready_s']:.1f} s, {result['processes']} worker "
                     f"processes)" if "ready_s" in result else "")
            print(f"{label:<32} audio {result['audio_s']:7.1f} s  wall {result['wall_s']:7.1f} s  "
                  f"{rate:5.2f} audio h / h  failed {len(result['failed'])}{extra}", flush=True)
            for path, reason in result["failed"]:
                print(f"    FAILED {path.name}: {reason}")
    rates = {label: r["audio_s"] / r["wall_s"] for label, r in runs if r["wall_s"]}
    ray_rates = {r["workers"]: rates[label] for label, r in runs if label.startswith("ray")}
    if 1 in ray_rates and 2 in ray_rates:
        print(f"2 vs 1 Ray workers: {ray_rates[2] / ray_rates[1]:.2f}x the throughput")
    local_one = rates.get("local, Whisper 1 thread")
    if local_one and 1 in ray_rates:
        print(f"1 Ray worker vs local engine (both 1 thread): {ray_rates[1] / local_one:.2f}x")
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
