"""Leave-one-writer-out: what the heads over the customer's words add on a writer they have not seen.

    python benchmarks/writers.py [--extra DIR] [--corpus DIR]

For each writer folder of ``eval/extra`` (``dev*``), the reason and lead heads over the customer's words
(``models.reason_text``, ``models.lead_text``) are learnt from the corpus and the other writers, and the
left-out writer's calls are scored by the bundled model with them and without them (its shared reason
head, point head and lead rules as they are). Prints the mean over writers of reasons macro-F1, micro-F1
and primary accuracy and of lead (any) F1. The bundled shared head and cue lists were written while
reading these writers' errors, so the "without" column is optimistic; the difference is the point.
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

import numpy as np

from callscope.types import Conversation
from models.features import customer_words
from models.lead_text import fit_lead_text
from models.reason_text import fit_reason_text
from models.store import DEFAULT_MODEL, load_model
from nlp.leads import find_lead
from nlp.reasons import find_reasons
from nlp.text import CallText, call_text

ROOT = Path(__file__).resolve().parent.parent


def _load(folder: Path) -> list[tuple[CallText, dict]]:
    calls = []
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        calls.append((call_text(Conversation.from_dict(data)), data["labels"]))
    return calls


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def _scores(calls: list[tuple[CallText, dict]], scorer) -> tuple[float, float, float, float]:
    """Reasons macro-F1 (codes in labels or findings), micro-F1, primary accuracy; lead (any) F1."""
    per: dict[str, list[int]] = {}
    primary = 0
    lead = [0, 0, 0]
    for call, labels in calls:
        gold, found = labels["reasons"], [r.code for r in find_reasons(call, scorer)]
        primary += found[:1] == gold[:1]
        for code in set(gold) | set(found):
            counts = per.setdefault(code, [0, 0, 0])
            counts[0 if code in gold and code in found else 1 if code in found else 2] += 1
        said = labels["lead"]["intent"] != "none"
        heard = find_lead(call, heard=scorer.lead_probability).intent != "none"
        if said or heard:
            lead[0 if said and heard else 1 if heard else 2] += 1
    totals = np.sum(list(per.values()), axis=0)
    return (float(np.mean([_f1(*c) for c in per.values()])), _f1(*totals), primary / len(calls), _f1(*lead))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra", type=Path, default=ROOT / "eval" / "extra")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "calls")
    args = parser.parse_args()
    model = load_model(DEFAULT_MODEL)
    without = copy.copy(model)
    without.reason_text = without.lead_text = None
    writers = {folder.name: _load(folder) for folder in sorted(args.extra.glob("dev*")) if folder.is_dir()}
    corpus = _load(args.corpus)
    rows = {"without": [], "with": []}
    for name, calls in writers.items():
        train = corpus + [c for other, more in writers.items() if other != name for c in more]
        texts, labels = [c for c, _ in train], [lab for _, lab in train]
        vectorizer, x = customer_words(texts)
        weights = [1.0] * len(train)
        scorer = copy.copy(model)
        scorer.reason_text = fit_reason_text(vectorizer, x, labels, model.taxonomy, weights)
        scorer.lead_text = fit_lead_text(vectorizer, x, texts, labels, weights)
        rows["without"].append(_scores(calls, without))
        rows["with"].append(_scores(calls, scorer))
        print(f"{name:6} without {np.round(rows['without'][-1], 3)}  with {np.round(rows['with'][-1], 3)}", flush=True)
    print(f"{len(writers)} writers left out in turn; mean of reasons macro-F1, micro-F1, primary accuracy, lead (any) F1:")
    for kind, values in rows.items():
        mean = np.mean(values, axis=0)
        print(f"  {kind:8} heads over the customer's words: " + " / ".join(f"{v:.3f}" for v in mean))


if __name__ == "__main__":
    main()
