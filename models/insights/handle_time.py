"""Handle time per reason (各原因处理时长): the seconds each reason owns, and agents against their peers.

A reason's seconds are those of its own turns (``reasons[].seconds``), not the whole call, so a
call that handles two matters counts its time once, split between them. Per reason: count,
median, P90 and mean. Per agent and reason: the agent's median against the other agents' calls
on that reason, labelled 高效 / 普通 / 低效 by ratio thresholds in ``settings.yaml``
(handle_time), with evidence: speech rate, dead air inside the reason's turns, repeated turns.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from statistics import mean
from typing import Any

from rapidfuzz import fuzz

from models.insights.calls import CallRecord
from models.insights.report import Chart, Report, Table
from models.insights.settings import section_settings
from models.insights.stats import quantile
from nlp.taxonomy import Taxonomy, load_taxonomy

LABELS = {"efficient": "高效", "normal": "普通", "slow": "低效", "insufficient": "样本不足"}
LABEL_COLOURS = {"efficient": "#3ba272", "normal": "#91a7c4", "slow": "#ee6666"}
MIN_DEAD_AIR_DIFF_S = 1.0   # dead-air gaps under a second per call read as 相近 whatever the ratio
MIN_REPEAT_DIFF = 0.2       # and so do repeat-rate gaps under 0.2 per call
_NOT_WORD = re.compile(r"[\W_]+")
_QUESTION = re.compile(r"[?？]|[吗呢嘛][\W_]*$")


@dataclass(slots=True)
class ReasonTime:
    """The part of one call that one reason owns, with the evidence measured on it."""

    call_id: str
    agent_id: str | None
    code: str
    seconds: float
    speech_rate: float | None   # the agent's characters per minute over the call
    dead_air_s: float           # silence inside the reason's stretches of turns
    repeats: int                # customer turns repeating an earlier one, agent questions asked again


def build_handle_time(calls: list[CallRecord], *, settings: dict[str, Any] | None = None,
                      taxonomy: Taxonomy | None = None) -> Report:
    """The "handle_time" report: seconds per reason (median, P90, mean) and each agent against peers."""
    conf = section_settings("handle_time", settings)
    if conf["efficient_ratio"] >= conf["slow_ratio"]:
        raise ValueError(f"handle_time settings: efficient_ratio ({conf['efficient_ratio']}) must be below "
                         f"slow_ratio ({conf['slow_ratio']})")
    tax = taxonomy or load_taxonomy(None)
    names = {code: entry.name or code for code, entry in tax.reasons.items()}
    times, untimed = reason_times(calls, conf)
    reasons = reason_rows(times, names)
    agents = agent_rows(times, conf, names)
    report = Report(name="handle_time", title="各原因处理时长与坐席对比 handle time per reason")
    report.tables = [
        Table("reasons", ["code", "reason", "calls", "agents", "median_s", "p90_s", "mean_s", "total_s"], reasons),
        Table("agents", ["agent_id", "code", "reason", "calls", "median_s", "peer_calls", "peer_median_s", "ratio",
                         "label_zh", "label", "speech_rate_cpm", "peer_speech_rate_cpm", "dead_air_s",
                         "peer_dead_air_s", "repeats", "peer_repeats", "evidence"], agents),
    ]
    report.charts = [reasons_chart(reasons[: conf["chart_reasons"]]), agents_chart(agents, conf)]
    report.summary = {
        "calls": len(calls), "reason_segments": len(times), "untimed_segments": untimed,
        "reasons": len(reasons), "agents": len({t.agent_id for t in times if t.agent_id}),
        "labels": dict(Counter(row["label"] for row in agents)),
    }
    report.notes = [
        ("Handle time is the seconds each reason's own turns take (reasons[].seconds), not whole call "
         "durations: averaging whole calls charges a two-matter call's full length to both reasons and lets a few "
         "very long calls move the mean, so per-reason seconds with median and P90 say what each matter costs."),
        "median / P90: linear-interpolated quantiles (numpy's default, stats.quantile); untimed reasons are left out.",
        ("Agents: ratio = the agent's median seconds on a reason / the median of the other agents' calls on it; "
         f"<= {conf['efficient_ratio']} 高效 (efficient), >= {conf['slow_ratio']} 低效 (slow), else 普通 (normal); "
         f"样本不足 (insufficient) when the agent has fewer than {conf['min_calls']} calls or the others fewer "
         f"than {conf['min_peer_calls']}."),
        ("Evidence: speech rate = the agent's characters per minute over the call (median); dead air = seconds of "
         "silence inside the time the reason's consecutive turns span (mean per call); repeats = the reason's "
         f"customer turns at rapidfuzz ratio >= {conf['repeat_similarity']} to an earlier customer turn, plus agent "
         f"questions asked again (mean per call; turns under {conf['repeat_min_chars']} characters never count)."),
    ]
    return report


def reason_times(calls: list[CallRecord], conf: dict[str, Any]) -> tuple[list[ReasonTime], int]:
    """Every timed reason of every call with its evidence, and how many reasons had no seconds."""
    times: list[ReasonTime] = []
    untimed = 0
    for call in calls:
        acoustics = call.data.get("acoustics") or {}
        rate = (acoustics.get("speech_rate_cpm") or {}).get("agent") or None
        owned: dict[str, list[int]] = defaultdict(list)
        seconds: Counter[str] = Counter()
        for reason in call.reasons:
            if not reason.get("seconds") or reason["seconds"] <= 0:
                untimed += 1
                continue
            seconds[reason["code"]] += reason["seconds"]
            owned[reason["code"]].extend(reason.get("turns") or [])
        for code, total in seconds.items():
            turns = sorted(set(owned[code]))
            times.append(ReasonTime(call.call_id, call.agent_id, code, total, rate,
                                    dead_air_seconds(call, turns), repeated_turns(call, turns, conf)))
    return times, untimed


def dead_air_seconds(call: CallRecord, turn_indexes: list[int]) -> float:
    """Seconds of ``acoustics.silences`` inside the time the reason's consecutive turns span."""
    silences = (call.data.get("acoustics") or {}).get("silences") or []
    total = 0.0
    for start, end in _spans(call.turns, turn_indexes):
        for silence in silences:
            total += max(0.0, min(end, silence["end"]) - max(start, silence["start"]))
    return round(total, 3)


def repeated_turns(call: CallRecord, turn_indexes: list[int], conf: dict[str, Any]) -> int:
    """The reason's customer turns that repeat an earlier customer turn, plus agent questions asked
    again (rapidfuzz ratio at or above ``repeat_similarity``; short turns never count)."""
    turns = call.turns
    repeats = 0
    for index in turn_indexes:
        if not 0 <= index < len(turns):
            continue
        turn = turns[index]
        role, text = turn.get("role"), _plain(turn.get("text", ""))
        if len(text) < conf["repeat_min_chars"]:
            continue
        if role == "agent" and not _QUESTION.search(turn.get("text", "")):
            continue
        earlier = [_plain(t.get("text", "")) for t in turns[:index] if t.get("role") == role
                   and (role != "agent" or _QUESTION.search(t.get("text", "")))]
        if any(fuzz.ratio(text, e) >= conf["repeat_similarity"] for e in earlier):
            repeats += 1
    return repeats


def reason_rows(times: list[ReasonTime], names: dict[str, str]) -> list[dict[str, Any]]:
    """Per reason: calls, agents, median / P90 / mean / total seconds; most total time first."""
    by_code: dict[str, list[ReasonTime]] = defaultdict(list)
    for t in times:
        by_code[t.code].append(t)
    rows = []
    for code, group in by_code.items():
        seconds = [t.seconds for t in group]
        rows.append({"code": code, "reason": names.get(code, code), "calls": len(group),
                     "agents": len({t.agent_id for t in group if t.agent_id}),
                     "median_s": _round(quantile(seconds, 0.5)), "p90_s": _round(quantile(seconds, 0.9)),
                     "mean_s": _round(mean(seconds)), "total_s": _round(sum(seconds))})
    return sorted(rows, key=lambda r: (-r["total_s"], r["code"]))


def agent_rows(times: list[ReasonTime], conf: dict[str, Any], names: dict[str, str]) -> list[dict[str, Any]]:
    """Per agent and reason: median seconds against the other agents' calls on it, label and evidence."""
    by_code: dict[str, list[ReasonTime]] = defaultdict(list)
    for t in times:
        by_code[t.code].append(t)
    rows = []
    for code, group in sorted(by_code.items()):
        for agent in sorted({t.agent_id for t in group if t.agent_id}):
            own = [t for t in group if t.agent_id == agent]
            peers = [t for t in group if t.agent_id != agent]
            rows.append(_agent_row(agent, code, names.get(code, code), own, peers, conf))
    order = {"slow": 0, "efficient": 1, "normal": 2, "insufficient": 3}
    return sorted(rows, key=lambda r: (order[r["label"]], -(r["ratio"] or 0), r["agent_id"], r["code"]))


def label_for(ratio: float | None, calls: int, peer_calls: int, conf: dict[str, Any]) -> str:
    """efficient / normal / slow by the ratio thresholds; insufficient when either side has too few calls."""
    if ratio is None or calls < conf["min_calls"] or peer_calls < conf["min_peer_calls"]:
        return "insufficient"
    if ratio <= conf["efficient_ratio"]:
        return "efficient"
    if ratio >= conf["slow_ratio"]:
        return "slow"
    return "normal"


def reasons_chart(rows: list[dict[str, Any]]) -> Chart:
    """Horizontal bars of median and P90 seconds per reason (most total time on top)."""
    return Chart("各原因处理时长（秒）：中位数与 P90", {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"data": ["中位数", "P90"], "top": 0},
        "grid": {"left": 10, "right": 30, "top": 40, "bottom": 40, "containLabel": True},
        "xAxis": {"type": "value", "name": "秒", "nameLocation": "middle", "nameGap": 26},
        "yAxis": {"type": "category", "inverse": True, "data": [_label(r["reason"], r["code"]) for r in rows]},
        "series": [{"name": "中位数", "type": "bar", "data": [r["median_s"] for r in rows]},
                   {"name": "P90", "type": "bar", "data": [r["p90_s"] for r in rows]}],
    }, height=max(260, 90 + 40 * len(rows)))


def agents_chart(rows: list[dict[str, Any]], conf: dict[str, Any]) -> Chart:
    """Horizontal bars of agent median / peers' median for the most extreme labelled agent-reasons,
    coloured by label, with the 1.0 and threshold lines."""
    labelled = [r for r in rows if r["label"] != "insufficient"]
    shown = sorted(labelled, key=lambda r: -abs(math.log(r["ratio"]) if r["ratio"] else 0))[: conf["chart_agents"]]
    shown.sort(key=lambda r: -r["ratio"])
    lines = [{"xAxis": 1.0, "name": "同组"}, {"xAxis": conf["efficient_ratio"], "name": "高效线"},
             {"xAxis": conf["slow_ratio"], "name": "低效线"}]
    title = (f"坐席 vs 同原因其他坐席：中位时长倍数（虚线：高效线 {conf['efficient_ratio']} / 同组 1.0 / "
             f"低效线 {conf['slow_ratio']}）")
    return Chart(title, {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {"left": 10, "right": 40, "top": 40, "bottom": 40, "containLabel": True},
        "xAxis": {"type": "value", "name": "坐席中位时长 ÷ 其他坐席中位时长", "nameLocation": "middle", "nameGap": 26},
        "yAxis": {"type": "category", "inverse": True,
                  "data": [f"{r['agent_id']} / {_label(r['reason'], r['code'])}" for r in shown]},
        "series": [{"name": "中位时长倍数", "type": "bar",
                    "data": [{"value": r["ratio"], "itemStyle": {"color": LABEL_COLOURS[r["label"]]}} for r in shown],
                    "label": {"show": True, "position": "right"},
                    "markLine": {"symbol": "none", "lineStyle": {"type": "dashed"}, "data": lines,  # start: top (inverse y)
                                 "label": {"show": False}}}],
    }, height=max(260, 80 + 32 * len(shown)))


def _agent_row(agent: str, code: str, name: str, own: list[ReasonTime], peers: list[ReasonTime],
               conf: dict[str, Any]) -> dict[str, Any]:
    median_s = quantile([t.seconds for t in own], 0.5)
    peer_median = quantile([t.seconds for t in peers], 0.5)
    ratio = round(median_s / peer_median, 2) if median_s is not None and peer_median else None
    label = label_for(ratio, len(own), len(peers), conf)
    row = {
        "agent_id": agent, "code": code, "reason": name, "calls": len(own), "median_s": _round(median_s),
        "peer_calls": len(peers), "peer_median_s": _round(peer_median), "ratio": ratio,
        "label_zh": LABELS[label], "label": label,
        "speech_rate_cpm": _round(quantile([t.speech_rate for t in own if t.speech_rate], 0.5)),
        "peer_speech_rate_cpm": _round(quantile([t.speech_rate for t in peers if t.speech_rate], 0.5)),
        "dead_air_s": _round(mean(t.dead_air_s for t in own)),
        "peer_dead_air_s": _round(mean(t.dead_air_s for t in peers)) if peers else None,
        "repeats": _round(mean(t.repeats for t in own)),
        "peer_repeats": _round(mean(t.repeats for t in peers)) if peers else None,
    }
    row["evidence"] = _evidence(row, conf)
    return row


def _evidence(row: dict[str, Any], conf: dict[str, Any]) -> str:
    """One sentence: the medians and ratio, then speech rate, dead air and repeats against peers."""
    head = f"「{row['reason']}」{row['calls']} 通，中位 {_num(row['median_s'])} 秒"
    if row["label"] == "insufficient":
        return (f"{head}；其他坐席 {row['peer_calls']} 通：样本不足（坐席需 ≥ {conf['min_calls']} 通、"
                f"其他坐席需 ≥ {conf['min_peer_calls']} 通），不作判断。")
    tol = conf["evidence_tolerance"]
    rate = _compare(row["speech_rate_cpm"], row["peer_speech_rate_cpm"], tol, 0.0, ("较慢", "较快"))
    dead = _compare(row["dead_air_s"], row["peer_dead_air_s"], tol, MIN_DEAD_AIR_DIFF_S, ("较少", "较多"))
    again = _compare(row["repeats"], row["peer_repeats"], tol, MIN_REPEAT_DIFF, ("较少", "较多"))
    parts = [
        f"{head}，其他坐席 {_num(row['peer_median_s'])} 秒（{row['ratio']:.2f} 倍，{row['peer_calls']} 通）",
        f"语速 {_num(row['speech_rate_cpm'])} vs {_num(row['peer_speech_rate_cpm'])} 字/分（{rate}）"
        if rate != "无数据" else "语速无数据",
        f"冷场 {_num(row['dead_air_s'])} vs {_num(row['peer_dead_air_s'])} 秒/通（{dead}）",
        f"重复 {_num(row['repeats'])} vs {_num(row['peer_repeats'])} 次/通（{again}）",
    ]
    expected = {"slow": ("较慢", "较多", "较多"), "efficient": ("较快", "较少", "较少")}.get(row["label"])
    if expected:
        found = [f"{what}{word}" for what, word, sign in zip(("语速", "冷场", "重复"), (rate, dead, again), expected,
                                                              strict=True) if word == sign]
        if found:
            parts.append("与同组相比" + "、".join(found))
    return "；".join(parts) + "。"


def _compare(value: float | None, peer: float | None, tolerance: float, floor: float,
             words: tuple[str, str]) -> str:
    """相近 / words[0] (lower than peers) / words[1] (higher); 无数据 when either side is missing."""
    if value is None or peer is None:
        return "无数据"
    diff = value - peer
    if abs(diff) <= floor or abs(diff) <= tolerance * max(abs(value), abs(peer)):
        return "相近"
    return words[0] if diff < 0 else words[1]


def _spans(turns: list[dict[str, Any]], indexes: list[int]) -> list[tuple[float, float]]:
    """(start, end) of each run of consecutive turn indexes, from the first turn's start to the last's end."""
    spans: list[tuple[float, float]] = []
    run: list[int] = []
    for index in indexes + [None]:
        if run and (index is None or index != run[-1] + 1):
            first, last = turns[run[0]], turns[run[-1]]
            if first.get("start") is not None and last.get("end") is not None:
                spans.append((first["start"], last["end"]))
            run = []
        if index is not None and 0 <= index < len(turns):
            run.append(index)
    return spans


def _plain(text: str) -> str:
    return _NOT_WORD.sub("", text)


def _label(name: str, code: str) -> str:
    return name if name == code else f"{name} ({code})"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
