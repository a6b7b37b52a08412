"""Sentiment benchmark on the real labelled review and conversation sets in ``shared/realdata``.

The sets are research-licensed, so they are used here for EVALUATION ONLY: nothing in
``nlp/patterns`` was fitted to them or taken from them.

For each set and method it prints: rows used, accuracy, the share of rows scored exactly 0
(neutral: no sentiment word found; counted as wrong), the accuracy on the other rows
("acc|scored"), and milliseconds per text (one text = one
turn) both as wall time and as CPU time of this process (the encoder uses 2 threads, so its CPU time
can exceed its wall time; on a shared machine wall time also counts waiting for other jobs).
Then it times ``call_sentiment`` (default method) on the labelled corpus calls, in CPU ms per call
and per 20 turns.
A row is right when the sign of ``score_text`` matches its label (positive > 0, negative < 0).
The conversation set has only positive/negative labels (no neutral rows), so all its rows count.
By default a fixed random sample of up to 2000 rows per set is used (``random.Random(0)``);
``--full`` uses every row. Speed is measured on the same texts, after one warm-up call.

Usage: python benchmarks/sentiment.py [--full] [--methods lexicon,embedding,hybrid] [--sets hotel,waimai]
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from callscope.types import Conversation
from nlp.sentiment import DEFAULT_METHOD, METHODS, call_sentiment, text_scores
from nlp.text import call_text

REALDATA = ROOT.parent / "shared" / "realdata"
CORPUS = ROOT.parent / "shared" / "corpus" / "calls"
# name -> (file, label column, text column, positive label)
SETS = {
    "hotel": ("chnsenticorp-htl-all/ChnSentiCorp_htl_all.csv", "label", "review", "1"),
    "waimai": ("waimai-10k/waimai_10k.csv", "label", "review", "1"),
    "shopping": ("online-shopping-10-cats/online_shopping_10_cats.csv", "label", "review", "1"),
    "conversation": ("chinese-conversation-sentiment/sentiment_XS_test.txt", "labels", "text", "positive"),
}


def load_set(name: str, limit: int | None = 2000, seed: int = 0) -> list[tuple[str, int]]:
    """``(text, label)`` rows of one set, label 1 = positive; a seeded sample of ``limit`` rows."""
    path, label_col, text_col, positive = SETS[name]
    with open(REALDATA / path, encoding="utf-8-sig", newline="") as handle:
        rows = [((r[text_col] or "").strip(), int(r[label_col] == positive)) for r in csv.DictReader(handle)]
    rows = [r for r in rows if r[0]]
    if limit is not None and len(rows) > limit:
        rows = random.Random(seed).sample(rows, limit)
    return rows


def run(rows: list[tuple[str, int]], method: str, done: dict[str, tuple]) -> tuple[list[float], float, float]:
    """Scores, wall seconds and CPU seconds of one method on the rows' texts.

    ``hybrid`` is the mean of ``lexicon`` and ``embedding``: when both were already run on these rows
    their scores are reused and their times added, instead of encoding every text a second time.
    """
    if method == "hybrid" and {"lexicon", "embedding"} <= set(done):
        (lex, lw, lc), (emb, ew, ec) = done["lexicon"], done["embedding"]
        return [(a + b) / 2 for a, b in zip(lex, emb)], lw + ew, lc + ec
    text_scores([rows[0][0]], method=method)            # warm-up: load lexicon or model
    start, cpu = time.perf_counter(), time.process_time()
    scores = text_scores([t for t, _ in rows], method=method)
    return scores, time.perf_counter() - start, time.process_time() - cpu


def evaluate(rows: list[tuple[str, int]], scores: list[float], wall: float, cpu: float) -> dict[str, float]:
    """Accuracy, neutral share and ms per text (wall and CPU) of one method on labelled rows."""
    right = sum(1 for s, (_, y) in zip(scores, rows) if (s > 0 and y == 1) or (s < 0 and y == 0))
    neutral = sum(1 for s in scores if s == 0)
    return {"accuracy": right / len(rows), "neutral": neutral / len(rows),
            "scored": right / max(1, len(rows) - neutral),
            "ms": 1000 * wall / len(rows), "cpu_ms": 1000 * cpu / len(rows)}


def call_cost() -> tuple[int, float, float]:
    """Corpus calls timed, mean CPU ms of ``call_sentiment`` per call and per 20 turns."""
    import json

    calls = [call_text(Conversation.from_dict(json.loads(p.read_text(encoding="utf-8"))))
             for p in sorted(CORPUS.glob("*.json"))]
    call_sentiment(calls[0])
    cpu = time.process_time()
    for call in calls:
        call_sentiment(call)
    cpu = time.process_time() - cpu
    turns = sum(len(c.turns) for c in calls)
    return len(calls), 1000 * cpu / len(calls), 1000 * cpu / turns * 20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="use every row, not a 2000-row sample")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--sets", default=",".join(SETS))
    args = parser.parse_args()
    if not REALDATA.is_dir():
        sys.stderr.write(f"no real data at {REALDATA}\n")
        return 2
    out = sys.stdout
    out.write(f"{'set':<14}{'method':<11}{'rows':>7}{'accuracy':>10}{'neutral':>9}{'acc|scored':>11}{'ms/turn':>9}"
              f"{'cpu ms':>9}\n")
    for name in args.sets.split(","):
        rows = load_set(name, None if args.full else 2000)
        done: dict[str, tuple] = {}
        for method in args.methods.split(","):
            done[method] = run(rows, method, done)
            r = evaluate(rows, *done[method])
            out.write(f"{name:<14}{method:<11}{len(rows):>7}{r['accuracy']:>10.3f}{r['neutral']:>9.3f}"
                      f"{r['scored']:>11.3f}{r['ms']:>9.3f}{r['cpu_ms']:>9.3f}\n")
            out.flush()
    if CORPUS.is_dir():
        n, per_call, per_20 = call_cost()
        out.write(f"call_sentiment ({DEFAULT_METHOD}) on {n} corpus calls: {per_call:.2f} CPU ms a call, "
                  f"{per_20:.2f} ms per 20 turns ({1000 / per_20:.0f} 20-turn calls/s per core)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
