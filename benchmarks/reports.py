"""Reports benchmark: seconds for `callscope report all` over N generated analyses (target: 1,000 in 5 s).

The analyses are real ones: the labelled corpus calls run through the bundled ``Analyzer``
(findings, QA, outcome, complaint risk), then copied N times over 30 days, 25 agents, 4 queues
and N/2 customers (so leads merge and do-not-disturb rules fire) with fresh call ids. Each report
is built and written (JSON, CSV, XLSX, HTML) as the CLI does. The baseline, measured in the same
run, is reading the N analysis files, which every report run must do anyway; the ratio says what
the reports themselves cost on top.

Usage: python benchmarks/reports.py [--calls N] [--corpus DIR] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.analysis import Analyzer
from api.reports import report_builders, write_report
from callscope.types import Conversation
from models.insights.calls import load_calls
from models.risk import load_risk
from models.store import DEFAULT_MODEL


def seed_analyses(corpus: Path) -> list[dict]:
    """The corpus calls analysed by the bundled model (labels stripped, as a site's calls have none)."""
    analyzer = Analyzer.load()
    out = []
    for path in sorted(corpus.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        data.pop("labels", None)
        out.append(analyzer.analyze(Conversation.from_dict(data)))
    return out


def generated(seeds: list[dict], n: int, rng: random.Random) -> list[dict]:
    """``n`` analyses copied from ``seeds`` with new ids, days, agents, queues and customers."""
    start = datetime.fromisoformat("2026-10-01T08:00:00+08:00")
    calls = []
    for i in range(n):
        call = json.loads(json.dumps(seeds[i % len(seeds)]))
        call["call_id"] = f"gen-{i:05d}"
        when = start + timedelta(days=rng.randrange(30), seconds=rng.randrange(10 * 3600))
        call["started_at"] = when.isoformat()
        call["agent_id"] = f"A{rng.randrange(25):03d}"
        call["queue"] = rng.choice(["账务", "业务办理", "故障报修", "外呼营销"])
        call["customer_id"] = f"C{rng.randrange(max(1, n // 2)):06d}"
        calls.append(call)
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "calls")
    parser.add_argument("--keep", type=Path, help="write the generated analyses and reports here")
    args = parser.parse_args()
    corpus = args.corpus if args.corpus.is_dir() else ROOT / "demo" / "calls"
    seeds = seed_analyses(corpus)
    calls = generated(seeds, args.calls, random.Random(7))
    work = args.keep or Path(tempfile.mkdtemp(prefix="callscope-reports-"))
    folder = work / "analyses"
    folder.mkdir(parents=True, exist_ok=True)
    for call in calls:
        (folder / f"{call['call_id']}.analysis.json").write_text(json.dumps(call, ensure_ascii=False), encoding="utf-8")

    t0 = time.perf_counter()
    records, problems = load_calls(folder)
    load_s = time.perf_counter() - t0
    assert not problems and len(records) == args.calls
    options = {"risk_model": load_risk(DEFAULT_MODEL)}
    timings = {}
    t_all = time.perf_counter()
    for name, build in report_builders().items():
        t = time.perf_counter()
        write_report(build(records, None, options), work / "reports")
        timings[name] = time.perf_counter() - t
    reports_s = time.perf_counter() - t_all
    total = load_s + reports_s
    print(f"{args.calls} generated analyses from {len(seeds)} analysed corpus calls; files in {work}")
    print(f"baseline: reading the analyses        {load_s:6.2f} s")
    for name, seconds in timings.items():
        print(f"  {name:<12} build + write          {seconds:6.2f} s")
    print(f"report all (read + build + write)     {total:6.2f} s   target <= 5 s: {'met' if total <= 5 else 'NOT met'}")
    print(f"ratio to reading alone                {total / load_s:6.1f} x")
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "api", "report", "all", "--calls", str(folder), "--out", str(work / "cli")],
                   check=True, capture_output=True, cwd=ROOT)
    cli_s = time.perf_counter() - t
    print(f"`callscope report all` as a command   {cli_s:6.2f} s   (with Python start-up and imports) "
          f"target <= 5 s: {'met' if cli_s <= 5 else 'NOT met'}")


if __name__ == "__main__":
    main()
