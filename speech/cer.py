"""Character error rate, the usual measure of Mandarin ASR accuracy."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from speech.textnorm import comparable_text


@dataclass(slots=True)
class ErrorCount:
    """Edits and reference length, summed over utterances so that CER is corpus-weighted."""

    edits: int = 0
    ref_chars: int = 0

    @property
    def cer(self) -> float:
        """Edits per reference character (0.0 for an empty reference)."""
        return self.edits / self.ref_chars if self.ref_chars else 0.0

    def add(self, reference: str, hypothesis: str) -> None:
        """Count the edits between one reference and its hypothesis, both normalised."""
        ref, hyp = comparable_text(reference), comparable_text(hypothesis)
        self.edits += Levenshtein.distance(ref, hyp)
        self.ref_chars += len(ref)


def cer(reference: str, hypothesis: str) -> float:
    """CER of one hypothesis against one reference, after ``comparable_text`` on both."""
    count = ErrorCount()
    count.add(reference, hypothesis)
    return count.cer
