"""Homophone correction benchmark: CER per role before and after, on transcripts already made.

Reads ``<call_id>.json`` transcripts (as written by ``callscope transcribe``; take them with
``--no-homophones`` so that "before" is really uncorrected), applies ``speech.homophones`` to every
turn and scores both versions against the labelled corpus. Prints CER per role, the number of
turns changed (better / worse by edit distance against the reference) and the correction time.

Usage: python benchmarks/homophones.py --transcripts DIR [--corpus ../shared/corpus/calls]
       [--change-cost 1.5] [--bigram-margin 1.0] [--tone-cost 2.0] [--word-cost 2.0] [--show]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from rapidfuzz.distance import Levenshtein

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from speech.homophones import HomophoneSettings, load_corrector
from speech.lexicon import load_lexicon
from speech.textnorm import comparable_text

ROLES = ("agent", "customer")


def load_pairs(transcripts: Path, corpus: Path) -> list[tuple[str, str, str, list[str]]]:
    """(call_id, role, comparable reference text, hypothesis turn texts) for every call and role."""
    pairs = []
    for path in sorted(transcripts.glob("*.json")):
        reference = corpus / path.name
        if not reference.exists():
            continue
        ref_turns = json.loads(reference.read_text(encoding="utf-8"))["turns"]
        hyp_turns = json.loads(path.read_text(encoding="utf-8"))["turns"]
        for role in ROLES:
            ref = comparable_text("".join(t["text"] for t in ref_turns if t["role"] == role))
            pairs.append((path.stem, role, ref, [t["text"] for t in hyp_turns if t["role"] == role]))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transcripts", type=Path, required=True, help="folder of <call_id>.json transcripts")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "calls")
    parser.add_argument("--change-cost", type=float, default=HomophoneSettings().change_cost)
    parser.add_argument("--bigram-margin", type=float, default=HomophoneSettings().bigram_margin)
    parser.add_argument("--tone-cost", type=float, default=HomophoneSettings().tone_cost)
    parser.add_argument("--word-cost", type=float, default=HomophoneSettings().word_cost)
    parser.add_argument("--show", action="store_true", help="print every changed turn that got worse")
    args = parser.parse_args()

    pairs = load_pairs(args.transcripts, args.corpus)
    if not pairs:
        sys.exit(f"no transcripts in {args.transcripts} with a reference in {args.corpus}")
    started = time.perf_counter()
    settings = HomophoneSettings(args.change_cost, args.bigram_margin, args.tone_cost, args.word_cost)
    corrector = load_corrector(tuple(load_lexicon().words()), settings)
    load_s = time.perf_counter() - started

    edits = {r: [0, 0, 0] for r in ROLES}  # before, after, reference chars
    better = worse = changed = 0
    correct_s = 0.0
    for call_id, role, ref, texts in pairs:
        started = time.perf_counter()
        fixed = [corrector.correct(t) for t in texts]
        correct_s += time.perf_counter() - started
        before = Levenshtein.distance(ref, comparable_text("".join(texts)))
        edits[role][0] += before
        edits[role][1] += Levenshtein.distance(ref, comparable_text("".join(fixed)))
        edits[role][2] += len(ref)
        for i, (old, new) in enumerate(zip(texts, fixed)):
            if old == new:
                continue
            changed += 1
            delta = Levenshtein.distance(ref, comparable_text("".join([*texts[:i], new, *texts[i + 1 :]]))) - before
            better += delta < 0
            worse += delta > 0
            if args.show and delta > 0:
                print(f"  {call_id} {role} +{delta}: {old} -> {new}")
    calls = len({p[0] for p in pairs})
    print(f"{calls} calls from {args.transcripts}; change_cost {args.change_cost}, "
          f"bigram_margin {args.bigram_margin}, tone_cost {args.tone_cost}, word_cost {args.word_cost}")
    for role in ROLES:
        before, after, chars = edits[role]
        print(f"  {role:8s} CER {before / chars:.2%} -> {after / chars:.2%}  ({chars} reference chars)")
    print(f"  turns changed {changed}: {better} better, {worse} worse, {changed - better - worse} same")
    print(f"  load {load_s:.2f} s, correction of all turns {correct_s:.2f} s")


if __name__ == "__main__":
    main()
