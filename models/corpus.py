"""Labelled calls in the corpus format, read and checked against the taxonomy."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callscope.types import Conversation
from nlp.taxonomy import Taxonomy, TaxonomyError


@dataclass(slots=True)
class LabelledCall:
    """A call and its labels (the ``labels`` block of the corpus format)."""

    conversation: Conversation
    labels: dict[str, Any]
    path: Path


def corpus_files(folder: str | Path) -> list[Path]:
    """Transcript JSON files of a corpus folder (analysis outputs are skipped), sorted."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such corpus folder")
    return sorted(p for p in folder.glob("*.json") if not p.name.endswith(".analysis.json"))


def load_corpus(folder: str | Path, taxonomy: Taxonomy) -> list[LabelledCall]:
    """Every labelled call in a folder; a bad file or unknown code is an error naming both."""
    calls = []
    for path in corpus_files(folder):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            conversation = Conversation.from_dict(data)
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: {exc}") from None
        labels = data.get("labels")
        if not isinstance(labels, dict):
            raise ValueError(f"{path}: no 'labels' block; a training or evaluation corpus needs labels")
        check_labels(labels, taxonomy, str(path))
        calls.append(LabelledCall(conversation, labels, path))
    if not calls:
        raise ValueError(f"{folder}: no labelled calls (*.json) found")
    return calls


def load_transcripts(folder: str | Path) -> dict[str, Conversation]:
    """Our own transcripts of corpus recordings (``callscope transcribe`` output) by call id."""
    found = {}
    for path in corpus_files(folder):
        try:
            conversation = Conversation.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: {exc}") from None
        found[conversation.call_id] = conversation
    return found


def check_labels(labels: dict[str, Any], taxonomy: Taxonomy, where: str) -> None:
    """Raise ``TaxonomyError`` naming the file and entry for any code the taxonomy does not define."""
    for i, code in enumerate(labels.get("reasons", [])):
        taxonomy.check("reasons", code, f"{where}: labels.reasons[{i}]")
    for i, item in enumerate(labels.get("script_points", [])):
        taxonomy.check("script_points", item.get("point"), f"{where}: labels.script_points[{i}]")
    for i, item in enumerate(labels.get("competitors", [])):
        if item.get("dimension") not in taxonomy.competitor_dimensions:
            raise TaxonomyError(f"{where}: labels.competitors[{i}].dimension {item.get('dimension')!r} "
                                f"is not one of {', '.join(taxonomy.competitor_dimensions)}")
    intent = (labels.get("lead") or {}).get("intent", "none")
    if intent not in taxonomy.lead_intents:
        raise TaxonomyError(f"{where}: labels.lead.intent {intent!r} is not one of "
                            f"{', '.join(taxonomy.lead_intents)}")
    for i, code in enumerate(labels.get("qa_violations", [])):
        taxonomy.check("qa_violations", code, f"{where}: labels.qa_violations[{i}]")
