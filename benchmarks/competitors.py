"""Competitor-mention benchmark on the labelled corpus: precision, recall, F1 and dimension accuracy.

A hit is a predicted mention with the same call, turn and brand as a labelled one; dimension
accuracy is counted on hits. Also prints the false positives and misses with their turn text, and
the time ``find_competitors`` takes per call (after the pipeline is built; text preparation by
``nlp.text.call_text`` is timed apart).

Usage: python benchmarks/competitors.py [--calls DIR] [--patterns FILE] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from callscope.types import Conversation  # noqa: E402
from nlp.competitors import find_competitors  # noqa: E402
from nlp.text import CallText, call_text  # noqa: E402

SHARED = ROOT.parent / "shared"


def load_calls(folder: Path) -> list[tuple[Conversation, list[dict]]]:
    """Every labelled call in ``folder`` with its competitor labels."""
    calls = []
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        calls.append((Conversation.from_dict(data), data.get("labels", {}).get("competitors", [])))
    return calls


def _ms_per_call(texts: list, patterns: Path | None, repeat: int) -> float:
    """Process CPU milliseconds per call of ``find_competitors`` (less disturbed by other load)."""
    t0 = time.process_time()
    for _ in range(repeat):
        for text in texts:
            find_competitors(text, patterns=patterns)
    return (time.process_time() - t0) / (repeat * len(texts)) * 1000


@dataclass
class Score:
    """Hit counts and the rows behind them."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    same_dim: int = 0
    false_pos: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    wrong_dim: list[str] = field(default_factory=list)

    def add(self, call_id: str, text: CallText, found: list, labels: list[dict]) -> None:
        """Count one call: a hit is the same turn and brand."""
        got = {(m.turn, m.brand): m for m in found}
        gold = {(g["turn"], g["brand"]): g["dimension"] for g in labels}
        for key, mention in got.items():
            where = f"{call_id} t{key[0]} {key[1]} ({mention.mention})"
            if key not in gold:
                self.fp += 1
                self.false_pos.append(f"{where} {mention.dimension}: {text.turns[key[0]].text}")
                continue
            self.tp += 1
            if mention.dimension == gold[key]:
                self.same_dim += 1
            else:
                self.wrong_dim.append(f"{where}: {mention.dimension} != {gold[key]}")
        for key, dim in gold.items():
            if key not in got:
                self.fn += 1
                self.misses.append(f"{call_id} t{key[0]} {key[1]} {dim}: {text.turns[key[0]].text}")

    def report(self) -> list[str]:
        """Precision, recall, F1 and dimension accuracy, then the rows."""
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        lines = [f"labelled mentions {self.tp + self.fn}, predicted {self.tp + self.fp}",
                 f"precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}",
                 f"dimension accuracy on hits {self.same_dim / self.tp if self.tp else 0.0:.3f} "
                 f"({self.same_dim}/{self.tp})"]
        for title, rows in (("false positives", self.false_pos), ("misses", self.misses),
                            ("wrong dimension", self.wrong_dim)):
            lines += ["", f"{title}: {len(rows)}"] + ["  " + row for row in rows]
        return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=Path, default=SHARED / "corpus" / "calls")
    parser.add_argument("--patterns", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=5, help="timing passes over the corpus")
    args = parser.parse_args(argv)

    calls = load_calls(args.calls)
    t0 = time.perf_counter()
    texts = [call_text(conv) for conv, _ in calls]
    prep_ms = (time.perf_counter() - t0) / len(texts) * 1000
    t0 = time.perf_counter()
    find_competitors(texts[0], patterns=args.patterns)     # builds the pipeline, loads lazy imports
    build_s = time.perf_counter() - t0
    cold_ms = _ms_per_call(texts[1:], args.patterns, 1)     # first time these texts are seen

    score = Score()
    for (conv, labels), text in zip(calls, texts, strict=True):
        score.add(conv.call_id, text, find_competitors(text, patterns=args.patterns), labels)
    warm_ms = _ms_per_call(texts, args.patterns, args.repeat)
    turns = sum(len(t.turns) for t in texts) / len(texts)

    print(f"calls {len(calls)}")
    print(f"find_competitors, CPU time per call (mean {turns:.1f} turns): first pass {cold_ms:.2f} ms, "
          f"repeated {warm_ms:.2f} ms; pipeline build {build_s:.2f} s; call_text {prep_ms:.2f} ms per call")
    print("\n".join(score.report()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
