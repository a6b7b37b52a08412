"""Quality-inspection benchmark: per-code precision / recall / F1 of the default rule books on the
labelled corpus, and the time a 100-rule book takes over one call.

Each call is prepared as the analysis does it (``call_text`` + ``call_findings`` with the bundled
model, labels never visible), checked with the book ``select_rulebook`` picks for its direction
and industry, and the codes of the fired rules are compared with ``labels.qa_violations``.
Macro-F1 is over the text-visible codes (everything but long_silence and interruption, which
need acoustics the corpus labels do not cover). ``--misses`` prints false positives and misses
with the evidence. ``--incremental`` also replays each call turn by turn through ``RuleRunner``
and checks the final result equals ``check_call``.

The timing builds a 100-rule book by repeating the rules of the default books (fresh ids), and
reports the median milliseconds of ``check_call`` over each corpus call (findings precomputed).

Usage: python benchmarks/qa_rules.py [--calls DIR] [--books DIR] [--misses] [--incremental] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from callscope.types import Conversation
from qa_rules import RuleRunner, call_view, check_call, load_rulebook, select_rulebook
from qa_rules.loader import RULEBOOK_DIR
from qa_rules.view import CallView

SHARED = ROOT.parent / "shared"
ACOUSTIC = {"long_silence", "interruption"}


def prepared(folder: Path) -> list[tuple[CallView, set[str]]]:
    """Every labelled call as a ``CallView`` (bundled model findings) with its violation labels."""
    from api.analysis import Analyzer
    from nlp.findings import call_findings
    from nlp.text import call_text

    analyzer = Analyzer.load()
    out = []
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        conversation = Conversation.from_dict(data)
        call = call_text(conversation)
        findings = call_findings(call, analyzer.scorer, with_pii=False)
        out.append((call_view(call, findings, conversation.acoustics), set(data["labels"].get("qa_violations", []))))
    return out


def scores(calls: list[tuple[CallView, set[str]]], books: list, show: bool) -> dict[str, tuple[int, int, int]]:
    """(tp, fp, fn) per code."""
    counts: dict[str, Counter] = {}
    for view, gold in calls:
        book = select_rulebook(books, view.meta)
        result = check_call(book, view)
        found = result.codes
        for code in found | gold:
            c = counts.setdefault(code, Counter())
            c["tp" if code in found and code in gold else "fp" if code in found else "fn"] += 1
        if show and found != gold:
            print(f"{view.call_id} [{book.name}] gold={sorted(gold)} found={sorted(found)}")
            for v in result.violations:
                if v.rule.code not in gold:
                    print(f"   FP {v.rule.id}: turn {v.main.turn if v.main else None} {v.main.text if v.main else ''}")
    return {code: (c["tp"], c["fp"], c["fn"]) for code, c in sorted(counts.items())}


def report(table: dict[str, tuple[int, int, int]]) -> float:
    """Print P/R/F1 per code; return the macro-F1 over text-visible codes."""
    f1s = []
    print(f"{'code':22} {'tp':>3} {'fp':>3} {'fn':>3}  {'P':>5} {'R':>5} {'F1':>5}")
    for code, (tp, fp, fn) in table.items():
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        if code not in ACOUSTIC:
            f1s.append(f1)
        print(f"{code:22} {tp:3} {fp:3} {fn:3}  {p:5.2f} {r:5.2f} {f1:5.2f}" + ("  (acoustic)" if code in ACOUSTIC else ""))
    macro = statistics.mean(f1s) if f1s else 0.0
    print(f"macro-F1 (text-visible codes): {macro:.3f}")
    return macro


def incremental_equal(calls: list[tuple[CallView, set[str]]], books: list) -> int:
    """Calls where replaying turn by turn gives a different result than ``check_call`` (0 expected)."""
    bad = 0
    for view, _ in calls:
        book = select_rulebook(books, view.meta)
        runner = RuleRunner(book, view.meta, call_id=view.call_id)
        for turn in view.all_turns:
            upto = {**view.findings, "script_points": [p for p in view.findings.get("script_points", [])
                                                       if p["turn"] <= turn.index]}
            runner.add_turn(turn, upto if turn.index < len(view.all_turns) - 1 else view.findings)
        bad += runner.result().to_dict(with_evidence=True) != check_call(book, view).to_dict(with_evidence=True)
    return bad


def hundred_rule_book(folder: Path, target: Path) -> Path:
    """A rule book of 100 rules made by repeating the default books' rules under fresh ids."""
    docs = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.yaml"))]
    conditions = {k: v for doc in docs for k, v in doc.get("conditions", {}).items()}
    pool = [rule for doc in docs for rule in doc["rules"]]
    rules = []
    for i in range(100):
        rule = dict(pool[i % len(pool)])
        rule["id"] = f"{rule['id']}_{i}"
        rule.pop("dimension", None)
        rule.pop("scope", None) if "direction" in rule.get("scope", {}) else None
        rules.append(rule)
    target.write_text(yaml.safe_dump({"name": "bench100", "conditions": conditions,
                                      "rules": rules}, allow_unicode=True), encoding="utf-8")
    return target


def timing(calls: list[tuple[CallView, set[str]]], folder: Path, repeat: int) -> float:
    """Median ms of ``check_call`` with a 100-rule book over one call."""
    with tempfile.TemporaryDirectory() as tmp:
        book = load_rulebook(hundred_rule_book(folder, Path(tmp) / "bench100.yaml"))
    times = []
    for view, _ in calls:
        for _ in range(repeat):
            started = time.perf_counter()
            check_call(book, view)
            times.append((time.perf_counter() - started) * 1000)
    median = statistics.median(times)
    print(f"100-rule book ({len(book.rules)} rules): median {median:.2f} ms, "
          f"p95 {sorted(times)[int(0.95 * len(times))]:.2f} ms per call over {len(calls)} calls x {repeat}")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=Path, default=SHARED / "corpus" / "calls")
    parser.add_argument("--books", type=Path, default=RULEBOOK_DIR)
    parser.add_argument("--misses", action="store_true")
    parser.add_argument("--incremental", action="store_true")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    books = [load_rulebook(p) for p in sorted(args.books.glob("*.yaml"))]
    calls = prepared(args.calls)
    report(scores(calls, books, args.misses))
    if args.incremental:
        print(f"incremental != batch on {incremental_equal(calls, books)} of {len(calls)} calls")
    timing(calls, args.books, args.repeat)


if __name__ == "__main__":
    main()
