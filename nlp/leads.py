"""Sales leads (服转销): whether the customer shows purchase intent, for what, and where.

A customer asking about a bigger data plan in a billing call is a lead; so is one who says 办吧 to
an outbound offer. Intent is none / low / medium / high from what the customer says after a product
comes up: accepting, wanting to think it over, only asking, or turning it down.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from callscope.types import Lead
from nlp.text import CallText

DEFAULT_PATTERNS = Path(__file__).resolve().parent / "patterns" / "leads.yaml"
SIGNALS = ("accept", "consider", "interest", "refuse")


@dataclass(frozen=True, slots=True)
class LeadPatterns:
    """Signal cues with their weights, and the product-name pattern."""

    cues: dict[str, tuple[re.Pattern[str], ...]]
    weights: dict[str, float]
    product: re.Pattern[str]
    not_products: tuple[str, ...]


@lru_cache(maxsize=4)
def load_lead_patterns(path: str | None = None) -> LeadPatterns:
    """Read the lead cue file; a ValueError names the file and the entry at fault."""
    source = path or str(DEFAULT_PATTERNS)
    try:
        raw = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
        cues, weights = {}, {}
        for name in SIGNALS:
            entry = raw["signals"][name]
            weights[name] = float(entry["weight"])
            cues[name] = tuple(_compile(c) for c in entry["cues"])
        product = _compile(raw["products"]["pattern"])
        not_products = tuple(raw["products"].get("not_products", []))
    except (OSError, KeyError, TypeError, ValueError, re.error, yaml.YAMLError) as exc:
        raise ValueError(f"{source}: bad lead pattern file ({type(exc).__name__}: {exc})") from None
    return LeadPatterns(cues, weights, product, not_products)


def _compile(cue: str) -> re.Pattern[str]:
    return re.compile(cue[3:]) if cue.startswith("re:") else re.compile(re.escape(cue))


def signal_counts(text: str, patterns: LeadPatterns) -> dict[str, int]:
    """How many cues of each signal occur in a customer's words."""
    return {name: sum(1 for c in patterns.cues[name] if c.search(text)) for name in SIGNALS}


def products_in(text: str, patterns: LeadPatterns) -> list[str]:
    """Product phrases named in a text (流量月包, 白金卡, 百万医疗险...)."""
    found = []
    for match in patterns.product.finditer(text):
        phrase = re.sub(r"^(一个|一款|这个|那个|我们的|我们|你们的|你们|咱们|给您|您的|的|个|款)+", "",
                        match.group(0))
        if phrase and not any(phrase.startswith(n) or n in match.group(0) for n in patterns.not_products):
            found.append(phrase)
    return found


def main_product(call: CallText, patterns: LeadPatterns) -> str:
    """The product talked about most (agent offers count double), '' if none."""
    counts: Counter[str] = Counter()
    for turn in call.turns:
        for phrase in products_in(turn.text, patterns):
            counts[phrase] += 2 if turn.role == "agent" else 1
    return counts.most_common(1)[0][0] if counts else ""


def find_lead(call: CallText, *, patterns: str | Path | None = None) -> Lead:
    """The call's lead: intent from the customer's signals once a product is on the table."""
    pats = load_lead_patterns(str(patterns) if patterns else None)
    product = main_product(call, pats)
    if not product:
        return Lead()
    first = next(t.index for t in call.turns if products_in(t.text, pats))
    totals = Counter[str]()
    turns = []
    for turn in call.turns[first:]:
        if turn.role != "customer":
            continue
        counts = signal_counts(turn.text, pats)
        if counts["accept"] or counts["consider"] or counts["interest"]:
            turns.append(turn.index)
        totals.update(counts)
    score = sum(pats.weights[n] * min(totals[n], 2) for n in SIGNALS)
    intent = _intent(totals, score)
    return Lead(intent, product if intent != "none" else product, _probability(score), turns if intent != "none" else [])


def _intent(totals: Counter[str], score: float) -> str:
    """Four levels from the signal totals."""
    if totals["accept"] and score >= 2.0:
        return "high"
    if totals["consider"] and score > 0:
        return "medium"
    if totals["interest"] and score > -2.0:
        return "low" if totals["refuse"] else "medium"
    return "none"


def _probability(score: float) -> float:
    """Signal score squashed into [0, 1]."""
    import math

    return 1.0 / (1.0 + math.exp(-(score - 1.0)))
