"""Versioned model folders: what `callscope train` writes and `callscope analyze --models` reads.

A folder holds ``scorer.joblib`` (the fitted heads), ``taxonomy.yaml`` (the taxonomy they were
trained with, copied so the folder stands alone) and ``manifest.json`` (version, when, from what,
library versions, cross-validated figures).
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import sklearn

from models.trained import TrainedScorer
from nlp.taxonomy import load_taxonomy

FORMAT = 4  # 2: word n-grams and step transitions in the point head; 3: per-reason heads over the customer's
# words; 4: a lead head over them
# the model `analyze` uses unless told otherwise: trained on the shared labelled corpus (`make model`)
DEFAULT_MODEL = Path(__file__).resolve().parent / "default"


class ModelError(ValueError):
    """A model folder that cannot be used; the message names the folder and the problem."""


def new_version() -> str:
    """A sortable version id: the UTC time of training."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


def save_model(scorer: TrainedScorer, folder: str | Path, *, info: dict[str, Any]) -> Path:
    """Write the model folder (replacing an older one there) and return its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(scorer.taxonomy.source, folder / "taxonomy.yaml")
    scorer.__dict__.pop("_centroid_cache", None)  # derived at run time; not part of the model
    joblib.dump(scorer, folder / "scorer.joblib", compress=3)
    manifest = {"format": FORMAT, "version": scorer.version, "kind": "tfidf-char-and-word-ngrams+logistic-regression+step-transitions+reason-and-lead-text-heads",
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "scikit_learn": sklearn.__version__, **info}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return folder


def load_model(folder: str | Path) -> TrainedScorer:
    """Read a model folder written by ``save_model``."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{folder}: not a Callscope model folder (manifest.json: {exc})") from None
    if manifest.get("format") != FORMAT:
        raise ModelError(f"{folder}: model format {manifest.get('format')} is not {FORMAT}; train it again")
    if manifest.get("scikit_learn") != sklearn.__version__:
        raise ModelError(f"{folder}: trained with scikit-learn {manifest.get('scikit_learn')}, "
                         f"this is {sklearn.__version__}; run `callscope train` again")
    try:
        scorer = joblib.load(folder / "scorer.joblib")
    except Exception as exc:  # noqa: BLE001 - a damaged pickle can raise nearly anything
        raise ModelError(f"{folder}: cannot load scorer.joblib ({exc})") from None
    scorer.taxonomy = load_taxonomy(folder / "taxonomy.yaml")
    return scorer


def use_taxonomy(scorer: TrainedScorer, taxonomy_path: str | Path, folder: str | Path) -> TrainedScorer:
    """The scorer with another taxonomy, if it defines every code the model predicts."""
    taxonomy = load_taxonomy(taxonomy_path)
    missing = scorer.check_taxonomy(taxonomy)
    if missing:
        raise ModelError(f"{folder}: the model predicts codes that {taxonomy_path} does not define "
                         f"({', '.join(missing)}); train a model on your taxonomy or use --untrained")
    scorer.taxonomy = taxonomy
    return scorer
