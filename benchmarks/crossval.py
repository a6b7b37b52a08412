"""Cross-validated accuracy over several shuffles of the folds: mean, spread and the worst shuffle.

    python benchmarks/crossval.py [--corpus DIR] [--transcripts DIR] [--extra DIR]... [--shuffles N] [--codes]

`callscope train` reports one 5-fold split. On 60 calls with reason codes of one to five calls each,
one call moving between folds moves a code's F1 by up to 0.5, so a single split can flatter or
wrong a change; this repeats the cross-validation with N different shuffles (seeds 0..N-1) and
prints each task's mean, standard deviation and minimum. With ``--transcripts`` (our own
transcripts of the recordings, as for `callscope train`) it also reports figures on them; with
``--extra`` those labelled calls join every training fold and are never scored.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from models.corpus import load_corpus, load_transcripts
from models.crossval import cross_validate
from nlp.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parent.parent
FIGURES = {
    "reasons macro-F1": lambda m: m["reasons"]["macro_f1"],
    "reasons micro-F1": lambda m: m["reasons"]["micro"]["f1"],
    "primary accuracy": lambda m: m["reasons"]["primary_accuracy"],
    "script points macro-F1": lambda m: m["script_points"]["macro_f1"],
    "script points micro-F1": lambda m: m["script_points"]["micro"]["f1"],
    "competitor F1": lambda m: m["competitors"]["micro"]["f1"],
    "lead (any) F1": lambda m: m["lead"]["any"]["f1"],
}
VIEWS = {"trained_cv": "written transcripts", "trained_cv_own_transcripts": "our transcripts of the recordings",
         "untrained": "untrained cues, written transcripts"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "calls")
    parser.add_argument("--transcripts", type=Path, default=None)
    parser.add_argument("--extra", type=Path, action="append", default=[],
                        help="more labelled calls for training only (as callscope train --extra); repeatable")
    parser.add_argument("--taxonomy", type=Path, default=None)
    parser.add_argument("--shuffles", type=int, default=5)
    parser.add_argument("--codes", action="store_true", help="also print per-code F1 means")
    args = parser.parse_args()

    taxonomy = load_taxonomy(args.taxonomy)
    corpus = load_corpus(args.corpus, taxonomy)
    extra = [call for folder in args.extra for call in load_corpus(folder, taxonomy)]
    heard = load_transcripts(args.transcripts) if args.transcripts else {}
    runs: dict[str, list[dict]] = {}
    for seed in range(args.shuffles):
        metrics = cross_validate(corpus, taxonomy, seed=seed, transcripts=heard or None, extra=extra)
        for view in VIEWS:
            if view in metrics:
                runs.setdefault(view, []).append(metrics[view])
        print(f"shuffle {seed}: reasons macro-F1 {metrics['trained_cv']['reasons']['macro_f1']:.3f}, "
              f"script points macro-F1 {metrics['trained_cv']['script_points']['macro_f1']:.3f}", flush=True)
    print(f"\n{len(corpus)} calls, 5-fold cross-validation repeated over {args.shuffles} shuffles: "
          "mean / standard deviation / worst shuffle")
    for view, label in VIEWS.items():
        if view not in runs:
            continue
        print(f"{label}:")
        for name, figure in FIGURES.items():
            values = [figure(m) for m in runs[view]]
            spread = statistics.pstdev(values) if len(values) > 1 else 0.0
            print(f"  {name:24s} {statistics.mean(values):.3f} / {spread:.3f} / {min(values):.3f}")
        if args.codes:
            for task in ("reasons", "script_points"):
                codes = runs[view][0][task]["per_code"]
                for code in codes:
                    values = [m[task]["per_code"].get(code, {}).get("f1", 0.0) for m in runs[view]]
                    print(f"    {task} {code:24s} F1 {statistics.mean(values):.3f}")


if __name__ == "__main__":
    main()
