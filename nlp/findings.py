"""All of call understanding in one call: a ``CallText`` in, every finding out (as contract dicts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nlp.scoring import Scorer
from nlp.text import CallText


def call_findings(call: CallText, scorer: Scorer, *, competitor_patterns: str | Path | None = None,
                  lead_patterns: str | Path | None = None, with_pii: bool = True,
                  with_sentiment: bool = True) -> dict[str, Any]:
    """Reasons, script points, competitors, lead, sentiment and PII of one call."""
    from nlp.competitors import find_competitors
    from nlp.leads import find_lead
    from nlp.reasons import find_reasons
    from nlp.script_points import find_script_points

    out: dict[str, Any] = {
        "reasons": [r.to_dict() for r in find_reasons(call, scorer)],
        "script_points": [p.to_dict() for p in find_script_points(call, scorer)],
        "competitors": [c.to_dict() for c in find_competitors(call, patterns=competitor_patterns)],
        "lead": find_lead(call, patterns=lead_patterns, heard=scorer.lead_probability).to_dict(),
    }
    if with_sentiment:
        from nlp.sentiment import call_sentiment

        out["sentiment"] = call_sentiment(call).to_dict()
    if with_pii:
        from nlp.pii import find_pii

        out["pii"] = [p.to_dict() for p in find_pii(call)]
    return out
