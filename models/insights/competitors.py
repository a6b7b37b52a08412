"""Competitor report: which brands customers name, about what (price / product / service / network),
day by day, the offers they quote (58元, 30G, 八折) and the calls worth listening to.

Mentions come from the analysis (``competitors`` findings); the quoted figures are read here from
the mention turn and the customer's next turn, with the patterns of ``offer_figures.yaml``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from models.insights.calls import CallRecord
from models.insights.report import Chart, Report, Table
from models.insights.settings import section_settings
from nlp.text import numbers_as_digits

DEFAULT_FIGURES = Path(__file__).resolve().parent / "offer_figures.yaml"
KINDS = ("price", "data", "minutes", "speed", "discount", "percent")
DIMENSIONS = ("price", "product", "service", "network")
DIMENSION_NAMES = {"price": "价格", "product": "产品", "service": "服务", "network": "网络"}
_NUM = r"(?<![\d.])(?P<num>\d+(?:\.\d+)?)"
_FIGURE_KEYS = {"kind", "pattern", "value", "unit", "scale", "reject"}


class OfferFiguresError(ValueError):
    """A malformed ``offer_figures.yaml``; the message names the file and the entry at fault."""


@dataclass(frozen=True, slots=True)
class FigurePattern:
    """One way of saying an offer figure: the pattern, and how its number becomes a value."""

    kind: str
    regex: re.Pattern[str]
    unit: str
    scale: float = 1.0
    value: float | None = None          # the number, for patterns without {num} (千兆)
    reject: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class OfferFigures:
    """The figure patterns and the longest digit run a figure may have (see ``offer_figures.yaml``)."""

    patterns: tuple[FigurePattern, ...]
    max_digits: int = 6


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure found in a turn: kind, number as said, value in the kind's common unit, span."""

    kind: str
    number: float
    unit: str
    value: float
    said: str
    start: int
    end: int

    @property
    def text(self) -> str:
        """The figure written the same way every time: 58元, 30G, 8折, 1000M."""
        return f"{self.number:g}{self.unit}"


def load_offer_figures(path: str | Path | None = None) -> OfferFigures:
    """Read and check a figure-pattern file (default: the bundled ``offer_figures.yaml``)."""
    return _load(str(Path(path).resolve()) if path else str(DEFAULT_FIGURES))


@lru_cache(maxsize=4)
def _load(path: str) -> OfferFigures:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise OfferFiguresError(f"{path}: cannot read offer figures ({exc})") from exc
    if not isinstance(raw, dict):
        raise OfferFiguresError(f"{path}: expected a mapping with max_digits and figures")
    unknown = set(raw) - {"max_digits", "figures"}
    if unknown:
        raise OfferFiguresError(f"{path}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    max_digits = raw.get("max_digits", 6)
    if not isinstance(max_digits, int) or isinstance(max_digits, bool) or max_digits < 1:
        raise OfferFiguresError(f"{path}: max_digits: expected a whole number of at least 1, got {max_digits!r}")
    entries = raw.get("figures")
    if not isinstance(entries, list) or not entries:
        raise OfferFiguresError(f"{path}: figures: expected a non-empty list of figure patterns")
    return OfferFigures(tuple(_figure_pattern(f"{path}: figures[{i}]", e) for i, e in enumerate(entries)),
                        max_digits)


def _figure_pattern(where: str, entry: Any) -> FigurePattern:
    if not isinstance(entry, dict):
        raise OfferFiguresError(f"{where}: expected a mapping with kind, pattern, unit")
    extra = set(entry) - _FIGURE_KEYS
    if extra:
        raise OfferFiguresError(f"{where}: unknown field(s) {', '.join(sorted(map(str, extra)))}; "
                                      f"allowed: {', '.join(sorted(_FIGURE_KEYS))}")
    kind, pattern, unit = entry.get("kind"), entry.get("pattern"), entry.get("unit")
    if kind not in KINDS:
        raise OfferFiguresError(f"{where}.kind: {kind!r} is not one of {', '.join(KINDS)}")
    if not isinstance(pattern, str) or not pattern:
        raise OfferFiguresError(f"{where}.pattern: expected a regular expression")
    if not isinstance(unit, str):
        raise OfferFiguresError(f"{where}.unit: expected text such as 元 or G")
    has_num = "{num}" in pattern or "(?P<num>" in pattern
    value = entry.get("value")
    if has_num == (value is not None):
        raise OfferFiguresError(f"{where}: give either {{num}} in the pattern or a value, not both or neither")
    if value is not None and not isinstance(value, int | float):
        raise OfferFiguresError(f"{where}.value: expected a number, got {value!r}")
    scale = entry.get("scale", 1)
    if not isinstance(scale, int | float) or scale <= 0:
        raise OfferFiguresError(f"{where}.scale: expected a positive number, got {scale!r}")
    try:
        regex = re.compile(pattern.replace("{num}", _NUM))
        reject = re.compile(entry["reject"]) if entry.get("reject") else None
    except re.error as exc:
        raise OfferFiguresError(f"{where}: bad regular expression ({exc})") from exc
    return FigurePattern(kind, regex, unit, float(scale), None if value is None else float(value), reject)


def comparable(text: str) -> str:
    """Turn text as the figure patterns expect it: half-width, spoken numbers as digits."""
    return numbers_as_digits(unicodedata.normalize("NFKC", text or ""))


def figures_in(text: str, figures: OfferFigures | None = None) -> list[Figure]:
    """Offer figures said in a text, in order; overlapping matches keep the earlier, then longer one,
    and digit runs longer than ``max_digits`` (phone or account numbers) are never figures."""
    figures = figures or load_offer_figures()
    text = comparable(text)
    found: list[Figure] = []
    for fp in figures.patterns:
        for match in fp.regex.finditer(text):
            if fp.reject is not None and fp.reject.match(text, match.start()):
                continue
            if fp.value is None:
                digits = match.group("num")
                if len(digits.split(".")[0]) > figures.max_digits:
                    continue
                number = float(digits)
            else:
                number = fp.value
            if fp.kind == "discount" and number >= 10 and number < 100:
                number /= 10            # 75折 is 7.5折
            found.append(Figure(fp.kind, number, fp.unit, number * fp.scale, match.group(0),
                                match.start(), match.end()))
    found.sort(key=lambda f: (f.start, -(f.end - f.start)))
    kept: list[Figure] = []
    for figure in found:
        if not kept or figure.start >= kept[-1].end:
            kept.append(figure)
    return kept


def quoted_offers(call: CallRecord, figures: OfferFigures | None = None) -> list[dict[str, Any]]:
    """Figures said in each competitor-mention turn and in the customer's next turn, one row per
    (turn, brand, figure). In a turn naming several brands a figure goes to the brand named last
    before it; the follow-up turn's figures go to the last brand of the mention turn."""
    figures = figures or load_offer_figures()
    turns = call.turns
    by_turn: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for mention in call.competitors:
        turn = mention.get("turn")
        if mention.get("brand") and isinstance(turn, int) and 0 <= turn < len(turns):
            by_turn[turn].append(mention)
    scanned: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    for index in sorted(by_turn):
        scanned[index] = _mention_positions(comparable(turns[index].get("text", "")), by_turn[index])
    for index in sorted(by_turn):
        follow = next((j for j in range(index + 1, len(turns)) if turns[j].get("role") == "customer"), None)
        if follow is not None and follow not in scanned:
            scanned[follow] = [(0, scanned[index][-1][1])]
    rows: list[dict[str, Any]] = []
    seen: set[tuple[int, str, str]] = set()
    for index in sorted(scanned):
        turn = turns[index]
        text = comparable(turn.get("text", ""))
        opens = _sentence_start(text, scanned[index][0][0]) if index in by_turn else 0
        for figure in figures_in(text, figures):
            if figure.start < opens:
                continue
            before = [m for at, m in scanned[index] if at <= figure.start]
            mention = before[-1] if before else scanned[index][0][1]
            key = (index, mention["brand"], figure.text)
            if key in seen:
                continue
            seen.add(key)
            rows.append({
                "call_id": call.call_id, "day": call.day, "brand": mention["brand"],
                "dimension": mention.get("dimension"), "turn": index, "role": turn.get("role"),
                "kind": figure.kind, "figure": figure.text, "value": round(figure.value, 4),
                "said": figure.said, "quote": turn.get("text", ""),
            })
    return rows


def _sentence_start(text: str, at: int) -> int:
    """Start of the sentence holding position ``at``: figures in earlier sentences of a mention turn
    are about something else (我一个月128呢！广电那个卡100块钱 quotes 100, not 128)."""
    return max(text.rfind(mark, 0, at) for mark in "。！？!?") + 1


def _mention_positions(text: str, mentions: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """Where each mention of a turn starts in the comparable text, in order: the n-th mention of the
    same words is their n-th occurrence (0 when the words cannot be found)."""
    ordered = sorted(mentions, key=lambda m: m.get("char_start") if isinstance(m.get("char_start"), int) else 0)
    after: dict[str, int] = {}
    placed = []
    for mention in ordered:
        names = [mention.get("mention"), mention.get("brand"), (mention.get("brand") or "").removeprefix("中国")]
        words = next((w for w in names if w and w in text), "")
        at = text.find(words, after.get(words, 0)) if words else -1
        if at >= 0:
            after[words] = at + len(words)
        placed.append((max(at, 0), mention))
    return sorted(placed, key=lambda p: p[0])


def listen_reason(mentions: list[dict[str, Any]], offers: list[dict[str, Any]]) -> str:
    """Why a call is worth a listen: mentions per brand with their dimensions, and what was quoted
    (e.g. "3 mentions of 中国联通 (price), customer quoted 58元、30G")."""
    per_brand: dict[str, Counter] = defaultdict(Counter)
    for m in mentions:
        per_brand[m["brand"]][m.get("dimension") or "?"] += 1
    ordered = sorted(per_brand.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    parts = []
    for i, (brand, dims) in enumerate(ordered):
        n = sum(dims.values())
        noun = ("mention" if n == 1 else "mentions") + " of " if i == 0 else ""
        parts.append(f"{n} {noun}{brand} ({'/'.join(d for d, _ in dims.most_common())})")
    reason = ", ".join(parts)
    for role in ("customer", "agent"):
        said = list(dict.fromkeys(o["figure"] for o in offers if o["role"] == role))
        if said:
            return f"{reason}, {role} quoted {'、'.join(said[:4])}"
    return reason


def build_competitor_report(calls: list[CallRecord], *, settings: dict[str, Any] | None = None,
                            figures: OfferFigures | None = None) -> Report:
    """Competitor mentions by brand x dimension per day and in total, the offers customers quote,
    and the calls to listen to (most mentions x highest confidence first). ``settings``: sections as
    ``load_settings`` returns them (None reads settings.yaml); ``figures``: None reads offer_figures.yaml."""
    conf = section_settings("competitors", settings)
    figures = figures or load_offer_figures()
    mentions = [(call, m) for call in calls for m in call.competitors if m.get("brand")]
    brand_totals = Counter(m["brand"] for _, m in mentions)
    brands = [b for b, _ in sorted(brand_totals.items(), key=lambda kv: (-kv[1], kv[0]))]
    seen_dims = {m.get("dimension") or "unknown" for _, m in mentions}
    dims = [d for d in DIMENSIONS if d in seen_dims] + sorted(seen_dims - set(DIMENSIONS))
    offers = [row for call in calls if call.competitors for row in quoted_offers(call, figures)]

    by_day = _counts_table("by_day", mentions, brands, dims, per_day=True)
    totals = _counts_table("totals", mentions, brands, dims, per_day=False)
    brand_table = _brand_table(calls, mentions, brands)
    listen = _listen_table(calls, offers, conf["listen_top"])
    offer_table = Table("offers", ["call_id", "day", "brand", "dimension", "turn", "role", "kind", "figure",
                                   "value", "said", "quote"], offers)
    undated = sum(1 for call, _ in mentions if call.day is None)
    with_mentions = len({call.call_id for call, _ in mentions})
    summary = {
        "calls": len(calls),
        "calls_with_mentions": with_mentions,
        "share_of_calls": round(with_mentions / len(calls), 4) if calls else None,
        "mentions": len(mentions),
        "brands": len(brands),
        "top_brand": brands[0] if brands else None,
        "mentions_by_dimension": dict(Counter(m.get("dimension") or "unknown" for _, m in mentions)),
        "quoted_figures": len(offers),
        "undated_mentions": undated,
    }
    notes = [
        ("Mentions are the analysis's competitor findings (one per brand name said); 'calls' counts calls "
         "with at least one such mention."),
        ("Quoted offers: figures (元/块, G, 分钟, M/千兆, 折, %) said in the mention turn or in the customer's "
         "next turn, after spoken numbers are turned into digits; a digit run longer than "
         f"{figures.max_digits} digits is taken for a phone or account number and skipped. In the mention "
         "turn, figures in sentences before the first mention are skipped (they are usually the customer's "
         "own plan), and a figure in a turn naming several brands goes to the brand named last before it. "
         "The figure patterns are in models/insights/offer_figures.yaml."),
        "Calls to listen to are ranked by number of mentions x highest mention score.",
    ]
    if undated:
        notes.append(f"{undated} mention(s) come from calls without a start time: in the totals, not in by_day.")
    return Report(
        name="competitors", title="竞品提及分析", summary=summary,
        tables=[totals, by_day, brand_table, offer_table, listen],
        charts=[_dimension_chart(totals.rows, brands[: conf["chart_brands"]], dims),
                _daily_chart(calls, by_day.rows, brands[: conf["line_brands"]])],
        notes=notes, xlsx=True,
    )


def _counts_table(name: str, mentions: list[tuple[CallRecord, dict[str, Any]]], brands: list[str],
                  dims: list[str], *, per_day: bool) -> Table:
    """Mentions and distinct calls per brand x dimension (x day)."""
    counts: Counter = Counter()
    callsets: dict[tuple, set[str]] = defaultdict(set)
    for call, m in mentions:
        if per_day and call.day is None:
            continue
        key = (m["brand"], m.get("dimension") or "unknown") + ((call.day,) if per_day else ())
        counts[key] += 1
        callsets[key].add(call.call_id)
    order = {b: i for i, b in enumerate(brands)}
    keys = sorted(counts, key=lambda k: ((k[2],) if per_day else ()) + (order[k[0]], dims.index(k[1])))
    columns = ["brand", "dimension"] + (["day"] if per_day else []) + ["mentions", "calls"]
    rows = [dict(zip(columns, (*k, counts[k], len(callsets[k])), strict=True)) for k in keys]
    return Table(name, columns, rows)


def _brand_table(calls: list[CallRecord], mentions: list[tuple[CallRecord, dict[str, Any]]],
                 brands: list[str]) -> Table:
    """One row per brand: mentions, calls, share of all calls, mentions per dimension."""
    per_dim: dict[str, Counter] = defaultdict(Counter)
    callsets: dict[str, set[str]] = defaultdict(set)
    for call, m in mentions:
        per_dim[m["brand"]][m.get("dimension") or "unknown"] += 1
        callsets[m["brand"]].add(call.call_id)
    rows = []
    for brand in brands:
        row = {"brand": brand, "mentions": sum(per_dim[brand].values()), "calls": len(callsets[brand]),
               "share_of_calls": round(len(callsets[brand]) / len(calls), 4) if calls else None}
        row.update({d: per_dim[brand][d] for d in DIMENSIONS})
        rows.append(row)
    return Table("brands", ["brand", "mentions", "calls", "share_of_calls", *DIMENSIONS], rows)


def _listen_table(calls: list[CallRecord], offers: list[dict[str, Any]], top: int) -> Table:
    """Calls with mentions ranked by mentions x max score (ties: more mentions, then call id)."""
    offers_by_call: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in offers:
        offers_by_call[row["call_id"]].append(row)
    ranked = []
    for call in calls:
        found = [m for m in call.competitors if m.get("brand")]
        if not found:
            continue
        best = max(float(m.get("score") or 0.0) for m in found)
        ranked.append((round(len(found) * best, 6), len(found), best, call, found))  # 3 x 0.6 ties 2 x 0.9
    ranked.sort(key=lambda r: (-r[0], -r[1], r[3].call_id))
    rows = [{
        "rank": i, "call_id": call.call_id, "day": call.day, "agent_id": call.agent_id,
        "mentions": n, "max_score": round(best, 4), "priority": round(priority, 4),
        "brands": sorted({m["brand"] for m in found}),
        "reason": listen_reason(found, offers_by_call[call.call_id]),
    } for i, (priority, n, best, call, found) in enumerate(ranked[:top], start=1)]
    return Table("listen", ["rank", "call_id", "day", "agent_id", "mentions", "max_score", "priority", "brands",
                            "reason"], rows)


def _dimension_chart(totals: list[dict[str, Any]], brands: list[str], dims: list[str]) -> Chart:
    """Horizontal stacked bars: mentions of each brand, split by dimension (most mentioned on top)."""
    count = {(r["brand"], r["dimension"]): r["mentions"] for r in totals}
    series = [{"name": DIMENSION_NAMES.get(d, d), "type": "bar", "stack": "mentions",
               "data": [count.get((b, d), 0) for b in brands]} for d in dims]
    option = {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0},
        "grid": {"left": 10, "right": 30, "top": 40, "bottom": 10, "containLabel": True},
        "xAxis": {"type": "value", "name": "提及次数", "minInterval": 1},
        "yAxis": {"type": "category", "data": brands, "inverse": True},
        "series": series,
    }
    return Chart("竞品提及：品牌 × 维度", option, height=max(300, 60 + 36 * len(brands)))


def _daily_chart(calls: list[CallRecord], by_day: list[dict[str, Any]], brands: list[str]) -> Chart:
    """One line per brand: mentions per day over every day the calls cover (0 on quiet days)."""
    days = sorted({c.day for c in calls if c.day is not None})
    axis = _day_range(days[0], days[-1]) if days else []
    count: Counter = Counter()
    for row in by_day:
        count[(row["brand"], row["day"])] += row["mentions"]
    series = [{"name": b, "type": "line", "smooth": False, "showSymbol": len(axis) <= 31,
               "data": [count[(b, d)] for d in axis]} for b in brands]
    option = {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0, "type": "scroll"},
        "grid": {"left": 10, "right": 30, "top": 40, "bottom": 10, "containLabel": True},
        "xAxis": {"type": "category", "data": [d.isoformat() for d in axis], "axisLabel": {"rotate": 45}},
        "yAxis": {"type": "value", "name": "提及次数", "minInterval": 1},
        "series": series,
    }
    return Chart("竞品提及：每日趋势", option)


def _day_range(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
