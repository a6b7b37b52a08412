"""One call's analysis: the transcript run through every finder into the DESIGN.md contract.

``Analyzer`` holds what every call shares (taxonomy, model, pattern files) and turns a
``Conversation`` into the ``<call_id>.analysis.json`` dict. It lives in ``api/`` because it
gathers the results of all earlier stages; it adds nothing of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callscope.types import Conversation, PiiSpan
from models.risk import RiskModel
from nlp.findings import call_findings
from nlp.pii import mask_text
from nlp.scoring import CueScorer, Scorer
from nlp.taxonomy import DEFAULT_TAXONOMY, load_taxonomy
from nlp.text import call_text

# metadata an input call may carry that reports need (routing path, contact history, the outcome
# from the business system, the customer's preferred channel): copied into the analysis as is
PASS_THROUGH = ("direction", "industry", "queue", "customer_id", "agent_id", "started_at", "path",
                "history", "preferred_channel")


@dataclass
class Analyzer:
    """Everything needed to analyse calls, loaded once."""

    scorer: Scorer
    lexicon: Path | None = None
    competitor_patterns: Path | None = None
    model_info: dict[str, Any] = field(default_factory=dict)
    rulebooks: list = field(default_factory=list)
    risk: RiskModel | None = None
    outcome: Any = None  # OutcomeModel or OutcomeCues: how the call ended, when the input does not say

    @classmethod
    def load(cls, *, taxonomy: str | Path | None = None, models: str | Path | None = None,
             lexicon: str | Path | None = None, untrained: bool = False,
             rulebooks: list[Path] | None = None) -> Analyzer:
        """A trained model folder (default: the bundled one), or with ``untrained`` the taxonomy's
        cues; QA rule books given, or the bundled ones (the book is picked per call)."""
        from models.outcome import OUTCOME_FILE, load_outcome, load_outcome_cues
        from models.risk import load_risk
        from models.store import DEFAULT_MODEL, load_model, use_taxonomy
        from qa_rules.loader import default_rulebooks, load_rulebook

        lexicon_path = Path(lexicon) if lexicon else None
        folder = Path(models) if models is not None else DEFAULT_MODEL
        trained_folder: Path | None = folder
        if untrained or (models is None and not (folder / "manifest.json").is_file()):
            scorer: Scorer = CueScorer(load_taxonomy(taxonomy))
            info = {"kind": "untrained", "version": "cues"}
            trained_folder = None
        else:
            scorer = load_model(folder)
            if taxonomy is not None or folder == DEFAULT_MODEL:  # edits to the bundled taxonomy take effect
                scorer = use_taxonomy(scorer, taxonomy or DEFAULT_TAXONOMY, folder)
            info = {"kind": "trained", "version": scorer.version,
                    "path": "default" if folder == DEFAULT_MODEL else str(folder)}
        books = ([load_rulebook(p, taxonomy=scorer.taxonomy) for p in rulebooks] if rulebooks
                 else default_rulebooks())
        outcome = (load_outcome(trained_folder) if trained_folder and (trained_folder / OUTCOME_FILE).is_file()
                   else load_outcome_cues())
        return cls(scorer, lexicon_path, model_info=info, rulebooks=books, risk=load_risk(trained_folder),
                   outcome=outcome)

    def analyze(self, conversation: Conversation) -> dict[str, Any]:
        """The analysis dict of one call (DESIGN.md contract, plus pii and masked turns)."""
        call = call_text(conversation, self.lexicon)
        findings = call_findings(call, self.scorer, competitor_patterns=self.competitor_patterns)
        pii = [PiiSpan(**p) for p in findings["pii"]]
        turns = []
        for turn, text in zip(conversation.turns, call.turns, strict=True):
            entry = turn.to_dict()
            entry["text"] = text.text
            spans = [p for p in pii if p.turn == text.index]
            if spans:
                entry["masked_text"] = mask_text(text.text, spans)
            turns.append(entry)
        out: dict[str, Any] = {"call_id": conversation.call_id, "duration_s": _duration(conversation),
                               "turns": turns, **findings, "model": self.model_info}
        if conversation.acoustics is not None:
            out["acoustics"] = conversation.acoustics.to_dict()
        for key in PASS_THROUGH:
            if key in conversation.extra:
                out[key] = conversation.extra[key]
        out["outcome"] = self.call_outcome(conversation)
        out["qa"] = self.quality(out)
        if self.risk is not None:
            out["complaint_risk"] = self.risk.assess(out)
        return out

    def call_outcome(self, conversation: Conversation) -> dict[str, Any] | None:
        """How the call ended: the business system's value when the input carries ``outcome``,
        else predicted from the last turns (None without a predictor)."""
        given = conversation.extra.get("outcome")
        if isinstance(given, str) and given:
            return {"label": given, "source": "crm"}
        if self.outcome is None:
            return None
        from models.outcome import predict_outcome

        direction = conversation.extra.get("direction") or "inbound"
        if direction not in ("inbound", "outbound"):
            return None
        label, score = predict_outcome(self.outcome, conversation.turns, direction)
        return {"label": label, "score": round(score, 3), "source": "predicted"}

    def quality(self, analysis: dict[str, Any]) -> dict[str, Any] | None:
        """The ``qa`` block: the call checked against the rule book that fits it (None if none fits)."""
        from qa_rules.engine import check_call
        from qa_rules.loader import select_rulebook
        from qa_rules.view import view_from_analysis

        view = view_from_analysis(analysis)
        book = select_rulebook(self.rulebooks, view.meta)
        return check_call(book, view).to_dict() if book is not None else None


def _duration(conversation: Conversation) -> float | None:
    """Recording length if known, else the end of the last timed turn."""
    if conversation.duration_s is not None:
        return round(conversation.duration_s, 3)
    ends = [t.end for t in conversation.turns if t.end is not None]
    return round(max(ends), 3) if ends else None


@dataclass
class AnalyzeReport:
    """What a batch did: analyses written and inputs that failed, each with its reason."""

    written: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    seconds: float = 0.0


def analysis_inputs(paths: list[Path], *, transcribe: bool = False) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Transcript JSON files and recordings to analyse, and paths that cannot be used.

    In a folder, a recording with a transcript beside it (same name, .json) is read from the
    transcript unless ``transcribe`` is set; ``*.analysis.json`` files are outputs, never inputs.
    """
    from speech.batch import find_recordings

    inputs: list[Path] = []
    problems: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            recordings, _ = find_recordings([path])
            transcripts = [p for p in sorted(path.rglob("*.json")) if not p.name.endswith(".analysis.json")]
            if transcribe:
                inputs += recordings
            else:
                stems = {p.with_suffix("") for p in transcripts}
                inputs += transcripts + [r for r in recordings if r.with_suffix("") not in stems]
        elif path.is_file() and path.suffix.lower() == ".json":
            inputs.append(path)
        else:
            recordings, bad = find_recordings([path])
            inputs += recordings
            problems += bad
    return inputs, problems


def analyze_paths(inputs: list[Path], analyzer: Analyzer, out: Path, *, transcriber_factory=None,
                  on_progress=None) -> AnalyzeReport:
    """Analyse each input into ``out/<call_id>.analysis.json``; one bad file never stops the rest."""
    import json
    import time

    from speech.batch import sidecar_metadata, write_json

    out.mkdir(parents=True, exist_ok=True)
    report = AnalyzeReport()
    started = time.perf_counter()
    transcriber = None
    for path in inputs:
        try:
            if path.suffix.lower() == ".json":
                conversation = Conversation.from_dict(json.loads(path.read_text(encoding="utf-8")))
            else:
                from speech.pipeline import transcribe_recording

                transcriber = transcriber or transcriber_factory()
                conversation = transcribe_recording(path, transcriber)
                conversation.extra.update(sidecar_metadata(path))
            target = out / f"{conversation.call_id}.analysis.json"
            write_json(target, analyzer.analyze(conversation))
            report.written.append(target)
        except Exception as exc:  # noqa: BLE001 - the reason is reported, the batch goes on
            reason = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
            report.failed.append((path, reason))
        if on_progress:
            on_progress(path, report)
    report.seconds = time.perf_counter() - started
    return report
