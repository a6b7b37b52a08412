"""Review and appeal (复核/申诉) records, and analyses with the reviewed QA result applied.

(To be written by the review helper; ``reviewed_analyses`` is the function reports call.)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


def reviewed_analyses(session: Session, analyses: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The analyses by call id with each call's QA block replaced by the reviewed result where there
    is one (findings judged wrong removed, score adjusted); unreviewed calls are returned as they are."""
    return analyses
