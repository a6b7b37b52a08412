"""Telesales script map (话术地图): which script points, in which order, go with a won or a lost call.

For outbound calls: each call's script points in turn order (consecutive repeats collapsed), the
success rate and lift of every point and every transition between points, the order winning calls
typically follow, the agent sentences that come with success or failure at each point, and a
Sankey flow per side. Arithmetic only; ``api/reports.py`` writes the files.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from models.insights.calls import CallRecord
from models.insights.report import Chart, Report, Table
from models.insights.stats import lift, quantile, wilson_interval
from nlp.taxonomy import Taxonomy, load_taxonomy
from nlp.text import words

START, END = "START", "END"
SUCCESS, FAILURE = "success", "failure"
PHRASINGS_PER_SIDE = 3
MIN_SENTENCE_CHARS = 4          # shorter sentences (好的。/ 嗯。) are only used when nothing longer exists
PRIOR = 0.5                     # uniform Dirichlet prior (pseudo-count per word) of the log-odds
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;…])")
_MEANINGFUL = re.compile(r"[\u4e00-\u9fff0-9A-Za-z]")
_SIDE_NAMES = {SUCCESS: "成交", FAILURE: "拒绝"}
_PALETTE = ["#5470c6", "#91cc75", "#fac858", "#73c0de", "#fc8452", "#9a60b4", "#ea7ccc", "#3ba272",
            "#d4a017", "#4b8bbe", "#c23531", "#2f4554", "#61a0a8", "#bda29a"]


@dataclass(slots=True)
class _Call:
    """One outbound call as the map sees it: its side (success / failure / None) and point sequence."""

    record: CallRecord
    side: str | None
    sequence: list[str]


def point_sequence(call: CallRecord) -> list[str]:
    """The call's script points in turn order with consecutive repeats of a point collapsed to one."""
    sequence: list[str] = []
    for found in call.script_points:
        if not sequence or sequence[-1] != found["point"]:
            sequence.append(found["point"])
    return sequence


def call_transitions(sequence: list[str]) -> set[tuple[str, str]]:
    """Distinct (from, to) steps of a sequence, including START -> first point and last point -> END."""
    steps = [START, *sequence, END]
    return set(pairwise(steps))


def build_script_map(calls: list[CallRecord], *, taxonomy: Taxonomy | None = None, max_steps: int = 8,
                     success: tuple[str, ...] = ("success",), failure: tuple[str, ...] = ("refused",)) -> Report:
    """The script-map report over the outbound calls among ``calls``: points, transitions, typical
    winning order, phrasings and a success / failure Sankey. Outcomes in neither label set are undecided."""
    success, failure = _labels(success), _labels(failure)
    overlap = set(success) & set(failure)
    if overlap:
        raise ValueError(f"outcome label(s) {', '.join(sorted(overlap))} are both success and failure")
    if max_steps < 1:
        raise ValueError(f"max_steps must be at least 1, got {max_steps}")
    taxonomy = taxonomy or load_taxonomy(None)
    names = {START: "开始", END: "结束", **{code: item.name or code for code, item in taxonomy.script_points.items()}}
    outbound = [_Call(c, _side(c.outcome, success, failure), point_sequence(c))
                for c in calls if c.direction == "outbound"]
    decided = [c for c in outbound if c.side is not None]
    wins = sum(c.side == SUCCESS for c in decided)
    base = wins / len(decided) if decided else None
    undecided = Counter(c.record.outcome or "unknown" for c in outbound if c.side is None)

    points = _point_rows(outbound, base, names)
    order = _typical_order([c for c in decided if c.side == SUCCESS], names)
    summary = {
        "outbound_calls": len(outbound),
        "successes": wins,
        "failures": len(decided) - wins,
        "undecided": sum(undecided.values()),
        "undecided_by_outcome": dict(sorted(undecided.items())),
        "base_rate": _round(base),
        "success_labels": list(success),
        "failure_labels": list(failure),
        "winning_order": [row["point"] for row in order if row["share"] >= 0.5],
    }
    return Report(
        name="script_map",
        title="外呼话术地图",
        summary=summary,
        tables=[
            Table("points", ["point", "name", "calls_with", "successes", "failures", "success_rate",
                             "ci_low", "ci_high", "lift"], points),
            Table("transitions", ["from", "to", "from_name", "to_name", "success_calls", "failure_calls",
                                  "success_rate", "ci_low", "ci_high", "lift"],
                  _transition_rows(outbound, base, names)),
            Table("typical_order", ["rank", "point", "name", "median_position", "share"], order),
            Table("phrasings", ["point", "name", "side", "sentence", "call_id", "turn", "score", "words"],
                  _all_phrasings(points, decided, names)),
            Table("sequences", ["call_id", "agent_id", "outcome", "side", "steps", "sequence"],
                  [{"call_id": c.record.call_id, "agent_id": c.record.agent_id, "outcome": c.record.outcome,
                    "side": c.side or "undecided", "steps": len(c.sequence), "sequence": " > ".join(c.sequence)}
                   for c in outbound]),
        ],
        charts=[
            *(_sankey(side, [c for c in decided if c.side == side], names, max_steps) for side in (SUCCESS, FAILURE)),
            _rate_chart(points, base),
        ],
        notes=_notes(success, failure, max_steps),
        xlsx=True,
    )


def _labels(labels: str | tuple[str, ...]) -> tuple[str, ...]:
    """Outcome labels as a tuple (one label given as a plain string must not match by substring)."""
    return (labels,) if isinstance(labels, str) else tuple(labels)


def _side(outcome: str | None, success: tuple[str, ...], failure: tuple[str, ...]) -> str | None:
    """success / failure for a decided outcome label, None for anything else (callback, unknown)."""
    if outcome in success:
        return SUCCESS
    if outcome in failure:
        return FAILURE
    return None


def _rate_columns(wins: int, losses: int, base: float | None) -> dict[str, Any]:
    """success_rate, its Wilson interval and lift over the base rate, for wins out of wins + losses."""
    n = wins + losses
    if n == 0:
        return {"success_rate": None, "ci_low": None, "ci_high": None, "lift": None}
    rate = wins / n
    low, high = wilson_interval(wins, n)
    return {"success_rate": _round(rate), "ci_low": _round(low), "ci_high": _round(high),
            "lift": _round(lift(rate, base)) if base is not None else None}


def _point_rows(outbound: list[_Call], base: float | None, names: dict[str, str]) -> list[dict[str, Any]]:
    """One row per script point seen in an outbound call, counting each decided call once."""
    wins: Counter[str] = Counter()
    losses: Counter[str] = Counter()
    seen: set[str] = set()
    for call in outbound:
        present = set(call.sequence)
        seen |= present
        if call.side == SUCCESS:
            wins.update(present)
        elif call.side == FAILURE:
            losses.update(present)
    rows = [{"point": p, "name": names.get(p, p), "calls_with": wins[p] + losses[p], "successes": wins[p],
             "failures": losses[p], **_rate_columns(wins[p], losses[p], base)} for p in seen]
    return sorted(rows, key=lambda r: (-r["calls_with"], r["point"]))


def _transition_rows(outbound: list[_Call], base: float | None, names: dict[str, str]) -> list[dict[str, Any]]:
    """One row per (from, to) step seen in an outbound call, counting each decided call once."""
    wins: Counter[tuple[str, str]] = Counter()
    losses: Counter[tuple[str, str]] = Counter()
    seen: set[tuple[str, str]] = set()
    for call in outbound:
        steps = call_transitions(call.sequence)
        seen |= steps
        if call.side == SUCCESS:
            wins.update(steps)
        elif call.side == FAILURE:
            losses.update(steps)
    rows = [{"from": a, "to": b, "from_name": names.get(a, a), "to_name": names.get(b, b),
             "success_calls": wins[a, b], "failure_calls": losses[a, b], **_rate_columns(wins[a, b], losses[a, b], base)}
            for a, b in seen]
    return sorted(rows, key=lambda r: (-(r["success_calls"] + r["failure_calls"]), r["from"], r["to"]))


def _typical_order(winners: list[_Call], names: dict[str, str]) -> list[dict[str, Any]]:
    """Points of winning calls ranked by median position (1 = first point of the call) of their
    first occurrence; ties go to the point more winning calls have."""
    positions: dict[str, list[int]] = defaultdict(list)
    for call in winners:
        first: dict[str, int] = {}
        for index, point in enumerate(call.sequence, start=1):
            first.setdefault(point, index)
        for point, index in first.items():
            positions[point].append(index)
    ranked = sorted(positions, key=lambda p: (quantile(positions[p], 0.5), -len(positions[p]), p))
    return [{"rank": rank, "point": p, "name": names.get(p, p), "median_position": quantile(positions[p], 0.5),
             "share": _round(len(positions[p]) / len(winners))} for rank, p in enumerate(ranked, start=1)]


@dataclass(slots=True)
class _Sentence:
    """One candidate phrasing: a sentence of an agent turn labelled with the point."""

    call_id: str
    turn: int
    text: str
    words: set[str]


def _all_phrasings(points: list[dict[str, Any]], decided: list[_Call], names: dict[str, str]) -> list[dict[str, Any]]:
    """The phrasings rows of every point, in the order of ``points``. Each call's agent sentences are
    cut into words once (a sentence said in many calls, once in all): jieba is the slow part."""
    tokens: dict[str, set[str]] = {}

    def tokens_of(text: str) -> set[str]:  # shared by the sentences of a text: read, never changed
        found = tokens.get(text)
        if found is None:  # a set built as before: its order (and float sums over it) stay the same
            found = tokens[text] = {w for w in words(text) if _MEANINGFUL.search(w)}
        return found

    by_call = [_sentences_by_point(call.record, tokens_of) for call in decided]
    return [row for p in points for row in _phrasings(p["point"], decided, names, by_call)]


def _phrasings(point: str, decided: list[_Call], names: dict[str, str],
               by_call: list[dict[str, list[_Sentence]]]) -> list[dict[str, Any]]:
    """Up to ``PHRASINGS_PER_SIDE`` agent sentences per side for one point, the ones whose words
    lean most to that side (mean smoothed log-odds z-score), one per call, no text twice.
    ``by_call``: each decided call's sentences by point (``_sentences_by_point``)."""
    sentences: dict[str, list[_Sentence]] = {SUCCESS: [], FAILURE: []}
    calls_using: dict[str, Counter[str]] = {SUCCESS: Counter(), FAILURE: Counter()}
    for call, points in zip(decided, by_call, strict=True):
        found = points.get(point, [])
        sentences[call.side].extend(found)
        calls_using[call.side].update(set().union(*(s.words for s in found)) if found else set())
    z = _log_odds_z(calls_using[SUCCESS], calls_using[FAILURE])
    rows = []
    for side, sign in ((SUCCESS, 1.0), (FAILURE, -1.0)):
        scored = [(sign * sum(z[w] for w in s.words) / len(s.words), s) for s in sentences[side]]
        scored.sort(key=lambda item: (_is_short(item[1].text), -item[0], item[1].call_id, item[1].turn))
        used_calls: set[str] = set()
        used_texts: set[str] = set()
        for score, s in scored:
            key = "".join(_MEANINGFUL.findall(s.text))
            if s.call_id in used_calls or key in used_texts:
                continue
            used_calls.add(s.call_id)
            used_texts.add(key)
            leaning = sorted(s.words, key=lambda w: (-sign * z[w], w))[:3]
            rows.append({"point": point, "name": names.get(point, point), "side": side, "sentence": s.text,
                         "call_id": s.call_id, "turn": s.turn, "score": _round(score), "words": leaning})
            if len(used_calls) == PHRASINGS_PER_SIDE:
                break
    return rows


def _sentences_by_point(call: CallRecord, tokens_of) -> dict[str, list[_Sentence]]:
    """Sentences of the agent turns of ``call`` by the point labelling the turn, in label order, each
    with its word set (``tokens_of(text)``)."""
    turns = call.turns
    found: dict[str, list[_Sentence]] = {}
    for label in call.script_points:
        index = label["turn"]
        if not 0 <= index < len(turns) or turns[index].get("role") != "agent":
            continue
        for text in _sentences(turns[index].get("text") or ""):
            tokens = tokens_of(text)
            if tokens:
                found.setdefault(label["point"], []).append(_Sentence(call.call_id, index, text, tokens))
    return found


def _sentences(text: str) -> list[str]:
    """A turn split after sentence-ending punctuation, blanks dropped."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def _is_short(text: str) -> bool:
    return len(_MEANINGFUL.findall(text)) < MIN_SENTENCE_CHARS


def _log_odds_z(wins: Counter[str], losses: Counter[str]) -> dict[str, float]:
    """z-score of each word's log-odds ratio, success vs failure, with a uniform Dirichlet prior
    (Monroe et al. 2008, "Fightin' Words"); counts are calls using the word. Positive: success."""
    vocabulary = set(wins) | set(losses)
    prior_total = PRIOR * len(vocabulary)
    n_win, n_loss = sum(wins.values()), sum(losses.values())
    z = {}
    for word in vocabulary:
        a, b = wins[word] + PRIOR, losses[word] + PRIOR
        delta = math.log(a / (n_win + prior_total - a)) - math.log(b / (n_loss + prior_total - b))
        z[word] = delta / math.sqrt(1 / a + 1 / b)
    return z


def _sankey(side: str, calls: list[_Call], names: dict[str, str], max_steps: int) -> Chart:
    """Flow of one side's calls through their first ``max_steps`` points; longer calls pass
    through a "…" node before the end. Nodes are numbered by step ("2·产品推荐") so the graph has
    no cycle; a point keeps its colour at every step. Link value = calls."""
    start, end, more = "开始", f"结束·{_SIDE_NAMES[side]}", f"{max_steps + 1}·…"
    side_colour = "#3ba272" if side == SUCCESS else "#ee6666"
    palette = {p: _PALETTE[i % len(_PALETTE)] for i, p in enumerate(q for q in names if q not in (START, END))}
    colours = {start: side_colour, end: side_colour, more: "#bbbbbb"}
    links: Counter[tuple[str, str]] = Counter()
    depth: dict[str, int] = {start: 0}
    for call in calls:
        steps = [start]
        for step, point in enumerate(call.sequence[:max_steps], start=1):
            steps.append(f"{step}·{names.get(point, point)}")
            depth[steps[-1]] = step
            colours[steps[-1]] = palette.get(point, "#999999")
        if len(call.sequence) > max_steps:
            steps.append(more)
            depth[more] = max_steps + 1
        links.update(pairwise([*steps, end]))
    depth[end] = max(depth.values()) + 1
    nodes = [{"name": n, "depth": d, "itemStyle": {"color": colours[n]}}
             for n, d in sorted(depth.items(), key=lambda item: (item[1], item[0]))]
    option = {
        "tooltip": {"trigger": "item", "triggerOn": "mousemove"},
        "series": [{
            "type": "sankey",
            "left": 20, "right": 90, "top": 20, "bottom": 20,
            "nodeAlign": "left",
            "nodeWidth": 12,
            "nodeGap": 12,
            "layoutIterations": 32,
            "emphasis": {"focus": "adjacency"},
            "label": {"fontSize": 11},
            "lineStyle": {"color": "gradient", "curveness": 0.5, "opacity": 0.35},
            "data": nodes,
            "links": [{"source": a, "target": b, "value": v} for (a, b), v in sorted(links.items())],
        }],
    }
    title = f"{_SIDE_NAMES[side]}通话的话术流程（{len(calls)} 通，前 {max_steps} 步）"
    tallest = max(Counter(depth.values()).values())
    return Chart(title, option, height=max(360, 56 * tallest + 80))


def _rate_chart(points: list[dict[str, Any]], base: float | None) -> Chart:
    """Success rate per point as horizontal bars (highest on top) with the base rate marked."""
    rated = sorted((r for r in points if r["success_rate"] is not None), key=lambda r: r["success_rate"])
    series: dict[str, Any] = {
        "type": "bar",
        "data": [round(100 * r["success_rate"], 1) for r in rated],
        "label": {"show": True, "position": "right", "formatter": "{c}%"},
    }
    if base is not None:
        series["markLine"] = {"symbol": "none", "data": [{"xAxis": round(100 * base, 1), "name": "整体成交率"}],
                              "label": {"formatter": "整体 {c}%"}}
    option = {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {"left": 150, "right": 60, "top": 30, "bottom": 30},
        "xAxis": {"type": "value", "max": 100, "name": "%"},
        "yAxis": {"type": "category", "data": [f"{r['name']} (n={r['calls_with']})" for r in rated]},
        "series": [series],
    }
    return Chart("各话术点出现时的成交率", option, height=max(300, 28 * len(rated) + 80))


def _notes(success: tuple[str, ...], failure: tuple[str, ...], max_steps: int) -> list[str]:
    return [
        (f"只统计外呼通话（direction = outbound）。成交 = 结果为 {'/'.join(success)}，失败 = 结果为 "
         f"{'/'.join(failure)}；其他结果（如 callback）和无结果的通话计入“未决”，不参与成交率。"),
        ("话术序列按轮次排列，同一话术点连续出现合并为一步；转移包含虚拟的 START（开始）和 END（结束）。"
         "每通电话中一个话术点或一个转移只计一次。"),
        ("成交率 = 含该话术点/转移的成交通话 ÷ 含它的已决通话，区间为 95% Wilson 区间；"
         "提升度 = 成交率 ÷ 基准成交率（全部已决外呼通话的成交率）。这是相关，不是因果。"),
        ("典型顺序：每个话术点在成交通话中首次出现的位置（第几步）取中位数排序，share 为含该点的成交通话占比；"
         "summary.winning_order 列出一半以上成交通话都有的点。"),
        ("代表话术：取每个话术点所标注的坐席轮次，按句切分、jieba 分词；对成交侧与失败侧分别统计使用每个词的通话数，"
         f"计算带均匀狄利克雷先验（每词 {PRIOR}）的对数几率比 z 值（Monroe 等 2008）。句子得分 = 句中各词 z 值的平均"
         f"（失败侧取相反数），每侧取得分最高的至多 {PHRASINGS_PER_SIDE} 句，每通电话至多一句、相同文本只取一次，"
         f"少于 {MIN_SENTENCE_CHARS} 个字的短句排在后面；words 列出句中最偏向该侧的词。"),
        (f"流程图按步骤位置编号节点（如“1·开场问候”），保证无环；只画前 {max_steps} 步，更长的通话经“…”节点到结束。"
         "表格中的转移统计不截断。"),
    ]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
