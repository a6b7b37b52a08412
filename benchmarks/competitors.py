"""Competitor-mention benchmark on the labelled corpus: precision, recall, F1 and dimension accuracy.

A hit is a predicted mention with the same call, turn and brand as a labelled one; dimension
accuracy is counted on hits. Also prints the false positives and misses with their turn text, and
the time ``find_competitors`` takes per call (after the pipeline is built; text preparation by
``nlp.text.call_text`` is timed apart).

With ``--asr DIR`` the same calls are also scored on our own transcripts of their audio (one file per
call_id, turns cut differently, with start/end times): each ASR turn is mapped to the labelled turn
of the same role it overlaps most in time (``models.evaluate.realign``), then mentions are scored
against the gold labels as above, so gold-text and ASR-text figures can be compared.

Usage: python benchmarks/competitors.py [--calls DIR] [--asr DIR] [--patterns FILE] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from callscope.types import CompetitorMention, Conversation
from models.evaluate import align_turns, realign
from nlp.competitors import find_competitors
from nlp.text import CallText, call_text

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

    def add(self, call_id: str, found: list[CompetitorMention], labels: list[dict],
            said: Callable[[int], str]) -> None:
        """Count one call: a hit is the same turn and brand; ``said(turn)`` is the text shown in rows."""
        got = {(m.turn, m.brand): m for m in found}
        gold = {(g["turn"], g["brand"]): g["dimension"] for g in labels}
        for key, mention in got.items():
            where = f"{call_id} t{key[0]} {key[1]} ({mention.mention})"
            if key not in gold:
                self.fp += 1
                self.false_pos.append(f"{where} {mention.dimension}: {said(key[0])}")
                continue
            self.tp += 1
            if mention.dimension == gold[key]:
                self.same_dim += 1
            else:
                self.wrong_dim.append(f"{where}: {mention.dimension} != {gold[key]}")
        for key, dim in gold.items():
            if key not in got:
                self.fn += 1
                self.misses.append(f"{call_id} t{key[0]} {key[1]} {dim}: {said(key[0])}")

    def figures(self) -> tuple[float, float, float]:
        """Precision, recall and F1."""
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1

    def report(self, rows: bool = True) -> list[str]:
        """Precision, recall, F1 and dimension accuracy, then the rows."""
        precision, recall, f1 = self.figures()
        lines = [f"labelled mentions {self.tp + self.fn}, predicted {self.tp + self.fp}",
                 f"precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}",
                 (f"dimension accuracy on hits {self.same_dim / self.tp if self.tp else 0.0:.3f} "
                  f"({self.same_dim}/{self.tp})")]
        for title, items in (("false positives", self.false_pos), ("misses", self.misses),
                             ("wrong dimension", self.wrong_dim)):
            lines += ["", f"{title}: {len(items)}"] + (["  " + row for row in items] if rows else [])
        return lines


def _times(turns) -> list[dict]:
    """Role and times of turns, as ``models.evaluate`` aligns them."""
    return [{"role": t.role, "start": t.start, "end": t.end} for t in turns]


def realigned(found: list[CompetitorMention], asr: CallText, gold: Conversation) -> list[CompetitorMention]:
    """Mentions found on an ASR transcript, renumbered to the labelled turns they overlap in time."""
    analysis = {"turns": _times(asr.turns), "competitors": [{"turn": m.turn, "brand": m.brand} for m in found]}
    moved = realign(analysis, _times(gold.turns))["competitors"]
    return [replace(m, turn=row["turn"]) for m, row in zip(found, moved, strict=True)]


def score_asr(calls: list[tuple[Conversation, list[dict]]], folder: Path,
              patterns: Path | None) -> tuple[Score, list[CallText], float]:
    """Score the mentions found on the ASR transcripts in ``folder`` against the gold labels, with the
    CPU milliseconds per call of this first pass; rows show the labelled turn's text and, after '|',
    what ASR heard in the turns aligned to it."""
    score, texts, cpu = Score(), [], 0.0
    for conv, labels in calls:
        path = folder / f"{conv.call_id}.json"
        if not path.exists():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        data.setdefault("industry", conv.extra.get("industry"))
        asr = call_text(Conversation.from_dict(data))
        texts.append(asr)
        heard: dict[int, list[str]] = defaultdict(list)
        for mine, theirs in align_turns(_times(asr.turns), _times(conv.turns)).items():
            heard[theirs].append(asr.turns[mine].text)
        gold = call_text(conv)
        t0 = time.process_time()
        found = find_competitors(asr, patterns=patterns)
        cpu += time.process_time() - t0
        score.add(conv.call_id, realigned(found, asr, conv), labels,
                  lambda i, g=gold, h=heard: f"{g.turns[i].text} | {' / '.join(h.get(i, []))}")
    return score, texts, cpu / max(len(texts), 1) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=Path, default=SHARED / "corpus" / "calls")
    parser.add_argument("--asr", type=Path, default=None, help="folder of ASR transcripts, by call_id")
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
        score.add(conv.call_id, find_competitors(text, patterns=args.patterns), labels,
                  lambda i, t=text: t.turns[i].text)
    warm_ms = _ms_per_call(texts, args.patterns, args.repeat)
    turns = sum(len(t.turns) for t in texts) / len(texts)

    print(f"calls {len(calls)}")
    print(f"find_competitors, CPU time per call (mean {turns:.1f} turns): first pass {cold_ms:.2f} ms, "
          f"repeated {warm_ms:.2f} ms; pipeline build {build_s:.2f} s; call_text {prep_ms:.2f} ms per call")
    print("\n".join(["== gold (written) transcripts =="] + score.report()))
    if args.asr is not None:
        asr_score, asr_texts, asr_cold = score_asr(calls, args.asr, args.patterns)
        asr_turns = sum(len(t.turns) for t in asr_texts) / max(len(asr_texts), 1)
        asr_ms = _ms_per_call(asr_texts, args.patterns, args.repeat)
        print(f"\n== ASR transcripts ({args.asr}, {len(asr_texts)} calls, turns aligned by time) ==")
        print(f"find_competitors, CPU time per ASR call (mean {asr_turns:.1f} turns): first pass "
              f"{asr_cold:.2f} ms, repeated {asr_ms:.2f} ms")
        print("\n".join(asr_score.report()))
        gp, gr, gf = score.figures()
        ap, ar, af = asr_score.figures()
        print(f"\nsummary  gold P {gp:.3f} R {gr:.3f} F1 {gf:.3f}  |  ASR P {ap:.3f} R {ar:.3f} F1 {af:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
