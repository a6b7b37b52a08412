"""Voice of the customer (溯源客户心声): why customers call, how that changed, and what suddenly rose.

For a period of days: call reasons ranked by volume and share (every reason of a call, and the
primary reason alone), the same broken down by industry / queue / agent, the change against the
previous period, and reasons that are new or spike above their recent baseline (a Poisson test
on daily counts, explained in words on each row). Thresholds live in ``settings.yaml`` (voice).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

from models.insights.calls import CallRecord, calls_between
from models.insights.report import Chart, Report, Table
from models.insights.settings import section_settings
from nlp.taxonomy import Taxonomy, load_taxonomy

UNKNOWN = "(未知)"
BREAKDOWNS = (("industry", "industry"), ("queue", "queue"), ("agent", "agent_id"))


def build_voice(calls: list[CallRecord], *, period: tuple[date, date] | None = None,
                previous: tuple[date, date] | None = None, settings: dict[str, Any] | None = None,
                taxonomy: Taxonomy | None = None) -> Report:
    """The "voice" report: reason ranking, breakdowns, change against the previous period and spikes.
    ``period`` defaults to the last ``period_days`` days ending at the latest call day; ``previous``
    to the same number of days just before it."""
    conf = section_settings("voice", settings)
    names = reason_names(taxonomy)
    dated = [c for c in calls if c.day is not None]
    report = Report(name="voice", title="溯源客户心声 voice of the customer")
    if not dated:
        report.summary = {"calls": 0, "undated_calls": len(calls)}
        report.notes.append("No call has a start time (started_at): nothing to report.")
        return report
    first, last = period or default_period(dated, conf["period_days"])
    days = (last - first).days + 1
    prev_first, prev_last = previous or (first - timedelta(days=days), first - timedelta(days=1))
    now, before = calls_between(dated, first, last), calls_between(dated, prev_first, prev_last)
    base_first, base_last = baseline_window(dated, first, conf["baseline_days"])

    ranking = ranking_rows(now, before, names)
    spikes = spike_rows(dated, first, last, conf, names)
    trend_first = base_first or first
    daily = daily_rows(calls_between(dated, trend_first, last), names)
    report.tables = [
        Table("ranking", ["rank", "code", "reason", "calls", "share", "primary_calls", "primary_share",
                          "previous_calls", "previous_share", "change", "change_pct", "share_change"], ranking),
        Table("breakdown", ["dimension", "value", "value_calls", "code", "reason", "calls", "primary_calls",
                            "share"], breakdown_rows(now, names)),
        Table("spikes", ["code", "reason", "kind", "kind_zh", "calls", "baseline_calls", "baseline_days",
                         "baseline_daily_mean", "expected", "ratio", "p_value", "why"], spikes),
        Table("daily", ["day", "code", "reason", "calls"], daily),
    ]
    top = [r["code"] for r in ranking if r["calls"] > 0][: conf["trend_reasons"]]
    report.charts = [ranking_chart(ranking[: conf["ranking_chart_reasons"]]),
                     trend_chart(daily, top, trend_first, last, (first, last), names)]
    report.summary = {
        "period": [first.isoformat(), last.isoformat()], "period_days": days,
        "previous": [prev_first.isoformat(), prev_last.isoformat()],
        "baseline": [base_first.isoformat(), base_last.isoformat()] if base_first else None,
        "calls": len(now), "previous_calls": len(before),
        "calls_without_reason": sum(1 for c in now if not c.reasons),
        "undated_calls": len(calls) - len(dated),
        "top_reason": ranking[0]["code"] if ranking and ranking[0]["calls"] else None,
        "spikes": [r["code"] for r in spikes if r["kind"] == "spike"],
        "new": [r["code"] for r in spikes if r["kind"] == "new"],
    }
    report.notes = [
        ("calls counts every reason of a call (a call about two matters counts for both, so shares can add up "
         "to more than 100%); primary_calls counts the primary reason only. share = calls / calls in the period; "
         "in breakdown, / calls of that industry, queue or agent in the period."),
        (f"Previous period {prev_first} to {prev_last}; change = this period - previous, "
         "change_pct = change / previous (empty when previous is 0)."),
        (f"Spikes: the baseline is the {conf['baseline_days']} days before the period (only days from the first "
         "day with data); expected = baseline calls per day x period days. A reason spikes when the one-sided "
         f"Poisson p of its count is below {conf['spike_p_value']}, the count is at least "
         f"{conf['spike_min_ratio']} x expected and at least {conf['spike_min_count']} calls. A reason never seen "
         "in the baseline is new."),
    ]
    if base_first is None:
        report.notes.append("No calls before the period: no baseline, so no spikes or new reasons were judged.")
    return report


def reason_names(taxonomy: Taxonomy | None = None) -> dict[str, str]:
    """Chinese name of every reason code in the taxonomy (default: the bundled one)."""
    tax = taxonomy or load_taxonomy(None)
    return {code: entry.name or code for code, entry in tax.reasons.items()}


def default_period(calls: list[CallRecord], days: int) -> tuple[date, date]:
    """The ``days`` calendar days ending at the latest call day."""
    last = max(c.day for c in calls if c.day is not None)
    return last - timedelta(days=max(days, 1) - 1), last


def baseline_window(calls: list[CallRecord], first: date, days: int) -> tuple[date | None, date]:
    """The baseline days before ``first``, cut to the first day with data (start None: no data)."""
    end = first - timedelta(days=1)
    data_first = min(c.day for c in calls if c.day is not None)
    start = max(first - timedelta(days=days), data_first)
    return (start if start <= end else None), end


def reason_counts(calls: list[CallRecord]) -> tuple[Counter[str], Counter[str]]:
    """Calls per reason counting every reason of a call, and calls per primary reason."""
    every: Counter[str] = Counter()
    primary: Counter[str] = Counter()
    for call in calls:
        every.update({r["code"] for r in call.reasons})
        if call.primary_reason:
            primary[call.primary_reason] += 1
    return every, primary


def ranking_rows(now: list[CallRecord], before: list[CallRecord], names: dict[str, str]) -> list[dict[str, Any]]:
    """One row per reason seen now or in the previous period, most calls first, with the change."""
    every, primary = reason_counts(now)
    prev, _ = reason_counts(before)
    codes = sorted(set(every) | set(prev), key=lambda c: (-every[c], -primary[c], -prev[c], c))
    rows = []
    for rank, code in enumerate(codes, start=1):
        share, prev_share = _share(every[code], len(now)), _share(prev[code], len(before))
        change = every[code] - prev[code]
        rows.append({
            "rank": rank, "code": code, "reason": names.get(code, code),
            "calls": every[code], "share": share,
            "primary_calls": primary[code], "primary_share": _share(primary[code], len(now)),
            "previous_calls": prev[code], "previous_share": prev_share, "change": change,
            "change_pct": round(change / prev[code], 4) if prev[code] else None,
            "share_change": round(share - prev_share, 4),
        })
    return rows


def breakdown_rows(calls: list[CallRecord], names: dict[str, str]) -> list[dict[str, Any]]:
    """Reasons within each industry / queue / agent (long table); a dimension no call has is left out."""
    rows = []
    for dimension, attribute in BREAKDOWNS:
        groups: dict[str, list[CallRecord]] = defaultdict(list)
        for call in calls:
            groups[getattr(call, attribute) or UNKNOWN].append(call)
        if set(groups) <= {UNKNOWN}:
            continue
        for value in sorted(groups, key=lambda v: (-len(groups[v]), v)):
            group = groups[value]
            every, primary = reason_counts(group)
            for code in sorted(every, key=lambda c: (-every[c], -primary[c], c)):
                rows.append({"dimension": dimension, "value": value, "value_calls": len(group),
                             "code": code, "reason": names.get(code, code), "calls": every[code],
                             "primary_calls": primary[code], "share": _share(every[code], len(group))})
    return rows


def spike_rows(calls: list[CallRecord], first: date, last: date, conf: dict[str, Any],
               names: dict[str, str]) -> list[dict[str, Any]]:
    """Reasons of the period that are new (never in the baseline) or far above their baseline rate."""
    base_first, base_last = baseline_window(calls, first, conf["baseline_days"])
    if base_first is None:
        return []
    period_days = (last - first).days + 1
    base_days = (base_last - base_first).days + 1
    now, _ = reason_counts(calls_between(calls, first, last))
    base, _ = reason_counts(calls_between(calls, base_first, base_last))
    rows = []
    for code in sorted(now, key=lambda c: (-now[c], c)):
        count, mean = now[code], base[code] / base_days
        expected = mean * period_days
        row = {"code": code, "reason": names.get(code, code), "calls": count, "baseline_calls": base[code],
               "baseline_days": base_days, "baseline_daily_mean": round(mean, 4), "expected": round(expected, 4)}
        if base[code] == 0:
            if count >= conf["new_min_count"]:
                rows.append(row | {"kind": "new", "kind_zh": "新出现", "ratio": None, "p_value": None,
                                   "why": f"本期 {period_days} 天 {count} 通；之前 {base_days} 天（{base_first} 至 "
                                          f"{base_last}）从未出现。"})
            continue
        ratio, p_value = count / expected, poisson_upper_tail(count, expected)
        if p_value < conf["spike_p_value"] and ratio >= conf["spike_min_ratio"] and count >= conf["spike_min_count"]:
            rows.append(row | {
                "kind": "spike", "kind_zh": "突增", "ratio": round(ratio, 2), "p_value": float(f"{p_value:.3g}"),
                "why": f"本期 {period_days} 天 {count} 通；之前 {base_days} 天共 {base[code]} 通（日均 {mean:.2f}），"
                       f"按此预期 {expected:.1f} 通，实际为预期的 {ratio:.1f} 倍；若只是日常波动，出现这么多的"
                       f"概率 p = {p_value:.2g}（泊松单侧），低于 {conf['spike_p_value']}。",
            })
    return rows


def poisson_upper_tail(count: int, mean: float) -> float:
    """P(X >= count) for X ~ Poisson(mean): how likely a count this high is by chance."""
    if count <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    if count <= mean:  # the tail is large: one minus the short lower sum loses nothing
        term = lower = math.exp(-mean)
        for k in range(1, count):
            term *= mean / k
            lower += term
        return max(0.0, 1.0 - lower)
    term = math.exp(count * math.log(mean) - mean - math.lgamma(count + 1))  # summed upward: terms shrink
    total, k = 0.0, count
    while term > total * 1e-17:
        total += term
        k += 1
        term *= mean / k
    return min(1.0, total)


def daily_rows(calls: list[CallRecord], names: dict[str, str]) -> list[dict[str, Any]]:
    """Calls per day and reason (every reason of a call), days in order; zero days are left out."""
    counts: Counter[tuple[date, str]] = Counter()
    for call in calls:
        for code in {r["code"] for r in call.reasons}:
            counts[(call.day, code)] += 1
    return [{"day": day.isoformat(), "code": code, "reason": names.get(code, code), "calls": n}
            for (day, code), n in sorted(counts.items())]


def ranking_chart(rows: list[dict[str, Any]]) -> Chart:
    """Horizontal bars: calls per reason this period and the previous one, most calls on top."""
    labels = [_label(r["reason"], r["code"]) for r in rows]
    return Chart("来电原因排行（本期 vs 上期）", {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"data": ["本期", "本期（主原因）", "上期"], "top": 0},
        "grid": {"left": 10, "right": 30, "top": 40, "bottom": 40, "containLabel": True},
        "xAxis": {"type": "value", "name": "通话数", "nameLocation": "middle", "nameGap": 26, "minInterval": 1},
        "yAxis": {"type": "category", "data": labels, "inverse": True},
        "series": [
            {"name": "本期", "type": "bar", "data": [r["calls"] for r in rows]},
            {"name": "本期（主原因）", "type": "bar", "data": [r["primary_calls"] for r in rows]},
            {"name": "上期", "type": "bar", "data": [r["previous_calls"] for r in rows]},
        ],
    }, height=max(260, 90 + 42 * len(rows)))


def trend_chart(daily: list[dict[str, Any]], codes: list[str], first: date, last: date,
                period: tuple[date, date], names: dict[str, str]) -> Chart:
    """Lines of daily calls per reason from the baseline start to the period end, the period shaded."""
    days = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    counts = {(r["day"], r["code"]): r["calls"] for r in daily}
    series: list[dict[str, Any]] = [
        {"name": _label(names.get(code, code), code), "type": "line", "showSymbol": len(days) <= 40,
         "data": [counts.get((day, code), 0) for day in days]}
        for code in codes
    ]
    if series:
        series[0]["markArea"] = {"silent": True, "itemStyle": {"color": "rgba(255, 173, 177, 0.18)"},
                                 "data": [[{"name": "本期", "xAxis": period[0].isoformat()},
                                           {"xAxis": period[1].isoformat()}]]}
    return Chart(f"每日来电原因趋势（前 {len(codes)} 个原因，阴影为本期）", {
        "tooltip": {"trigger": "axis"},
        "legend": {"type": "scroll", "top": 0},
        "grid": {"left": 10, "right": 30, "top": 70, "bottom": 20, "containLabel": True},
        "xAxis": {"type": "category", "data": days, "axisLabel": {"rotate": 45}},
        "yAxis": {"type": "value", "name": "通话数", "minInterval": 1},
        "series": series,
    }, height=460)


def _label(name: str, code: str) -> str:
    return name if name == code else f"{name} ({code})"


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0
