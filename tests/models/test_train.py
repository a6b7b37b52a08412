"""`train` writes a versioned model folder that `analyze --models` uses; CV reports unseen-call figures."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from api.cli import app
from models.corpus import load_corpus
from models.crossval import cross_validate
from models.store import ModelError, load_model
from nlp.taxonomy import load_taxonomy
from tests.conftest import SHARED

CALLS = SHARED / "corpus" / "calls"
pytestmark = pytest.mark.skipif(not CALLS.is_dir(), reason=f"labelled corpus not found at {CALLS}")


def _copy(names, folder):
    folder.mkdir()
    for name in names:
        shutil.copy(CALLS / f"{name}.json", folder / f"{name}.json")
    return folder


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    names = sorted(p.stem for p in CALLS.glob("*.json"))
    corpus = _copy(names[::2], root / "corpus")           # 30 calls, every kind
    result = CliRunner().invoke(app, ["train", "--corpus", str(corpus), "--out", str(root / "model"), "--cv", "0"])
    assert result.exit_code == 0, result.output
    return root, names


def test_model_folder_is_versioned_and_loads(trained):
    root, _ = trained
    manifest = json.loads((root / "model" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["calls"] == 30 and manifest["version"]
    scorer = load_model(root / "model")
    assert scorer.version == manifest["version"]
    assert (root / "model" / "taxonomy.yaml").is_file()


def test_analyze_with_trained_model_on_unseen_calls(trained):
    root, names = trained
    unseen = _copy(names[1:8:2], root / "unseen")
    out = root / "out"
    result = CliRunner().invoke(app, ["analyze", str(unseen), "--out", str(out), "--models", str(root / "model")])
    assert result.exit_code == 0, result.output
    analyses = sorted(out.glob("*.analysis.json"))
    assert len(analyses) == 4
    first = json.loads(analyses[0].read_text(encoding="utf-8"))
    assert first["model"]["kind"] == "trained"
    assert first["reasons"] and first["script_points"]


def test_damaged_model_folder_is_a_clear_error(trained, tmp_path):
    root, _ = trained
    broken = tmp_path / "broken"
    shutil.copytree(root / "model", broken)
    (broken / "scorer.joblib").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="broken: cannot load scorer.joblib"):
        load_model(broken)
    result = CliRunner().invoke(app, ["analyze", str(CALLS / "tel-in-0001.json"), "--models", str(tmp_path / "none")])
    assert result.exit_code == 2 and "not a Callscope model folder" in result.stderr


def test_cross_validation_scores_unseen_calls_only(tmp_path):
    taxonomy = load_taxonomy()
    names = sorted(p.stem for p in CALLS.glob("*.json"))[::3]   # 20 calls
    corpus = load_corpus(_copy(names, tmp_path / "c"), taxonomy)
    # the labelled transcripts stand in for our own: aligned by time, figures must come out the same
    metrics = cross_validate(corpus, taxonomy, folds=2,
                             transcripts={c.conversation.call_id: c.conversation for c in corpus})
    assert metrics["folds"] == 2
    for kind in ("trained_cv", "untrained", "trained_cv_own_transcripts"):
        assert metrics[kind]["calls"] == 20
        assert 0.3 < metrics[kind]["script_points"]["micro"]["f1"] <= 1.0
    assert metrics["trained_cv_own_transcripts"]["script_points"] == metrics["trained_cv"]["script_points"]
    assert metrics["trained_cv_own_transcripts"]["reasons"] == metrics["trained_cv"]["reasons"]
    extra = load_corpus(_copy(sorted(p.stem for p in CALLS.glob("*.json"))[1::6], tmp_path / "x"), taxonomy)
    with_extra = cross_validate(corpus, taxonomy, folds=2, extra=extra)
    assert with_extra["trained_cv"]["calls"] == 20       # extra calls train every fold and are never scored


def test_default_model_is_bundled_and_untrained_flag_uses_cues(tmp_path):
    call = CALLS / "tel-in-0001.json"
    for flags, kind in (([], "trained"), (["--untrained"], "untrained")):
        out = tmp_path / kind
        result = CliRunner().invoke(app, ["analyze", str(call), "--out", str(out), *flags])
        assert result.exit_code == 0, result.output
        analysis = json.loads((out / "tel-in-0001.analysis.json").read_text(encoding="utf-8"))
        assert analysis["model"]["kind"] == kind


def test_taxonomy_lacking_model_codes_is_refused(tmp_path):
    small = tmp_path / "small.yaml"
    small.write_text("reasons:\n  bill_inquiry: {name: 查询}\nscript_points:\n  greeting: {name: 问候}\n",
                     encoding="utf-8")
    result = CliRunner().invoke(app, ["analyze", str(CALLS / "tel-in-0001.json"), "--taxonomy", str(small),
                                      "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "small.yaml does not define" in result.stderr and "closing" in result.stderr
    ok = CliRunner().invoke(app, ["analyze", str(CALLS / "tel-in-0001.json"), "--taxonomy", str(small),
                                  "--untrained", "--out", str(tmp_path / "o")])
    assert ok.exit_code == 0, ok.output


def test_train_learns_from_own_transcripts_and_says_so(tmp_path):
    names = sorted(p.stem for p in CALLS.glob("*.json"))[::6]   # 10 calls
    corpus = _copy(names, tmp_path / "c")
    heard = tmp_path / "heard"
    heard.mkdir()
    for name in names[:4]:
        data = json.loads((CALLS / f"{name}.json").read_text(encoding="utf-8"))
        data.pop("labels")
        (heard / f"{name}.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(app, ["train", "--corpus", str(corpus), "--out", str(tmp_path / "m"),
                                      "--cv", "0", "--transcripts", str(heard)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["calls"] == 10 and manifest["own_transcripts"] == {"folder": str(heard), "calls": 4}


def test_reason_head_stays_confident_when_fewer_cues_fire(monkeypatch):
    """Calls phrased unlike the training calls fire fewer cues: the head learnt from thinned copies
    gives their true reasons more probability than a head learnt from the calls as they are."""
    import numpy as np

    import models.trained as trained_module
    from models.features import reason_pair_features
    from nlp.scoring import reason_evidence
    from nlp.text import call_text

    taxonomy = load_taxonomy(None)
    corpus = load_corpus(CALLS, taxonomy)
    texts = [call_text(c.conversation) for c in corpus]
    labels = [c.labels for c in corpus]
    train, test = list(range(0, len(corpus), 2)), list(range(1, len(corpus), 2))

    def fit():
        return trained_module._fit_shared_reasons([texts[i] for i in train], [labels[i] for i in train], taxonomy,
                                                  [1.0] * len(train), [reason_evidence(texts[i], taxonomy) for i in train])

    thinned = fit()
    monkeypatch.setattr(trained_module, "CUE_THINNED_COPIES", 0)
    as_is = fit()
    rng = np.random.default_rng(1)
    gains = []
    for i in test:
        evidence = reason_evidence(texts[i], taxonomy)
        features = reason_pair_features(texts[i], taxonomy, evidence * (rng.random(evidence.shape) < 0.5))
        true = np.array([code in labels[i]["reasons"] for code in taxonomy.reasons])
        gains.append(thinned.predict_proba(features)[true, 1].mean() - as_is.predict_proba(features)[true, 1].mean())
    assert np.mean(gains) > 0.02


def test_reasons_nobody_named_share_the_last_rank():
    """Where the customer named no reason, taxonomy order must not make the first code look likelier."""
    from models.features import reason_pair_features
    from tests.nlp.helpers import make_call

    taxonomy = load_taxonomy(None)
    call = make_call([("customer", "你好，我问点事。")], industry="insurance")
    insurance = [k for k, code in enumerate(taxonomy.reasons.values()) if "insurance" in (code.industries or ())]
    features = reason_pair_features(call, taxonomy)
    assert len(insurance) >= 2 and len({tuple(features[k]) for k in insurance}) == 1


def test_extra_calls_teach_script_points_and_text_heads_but_not_the_shared_reason_head(tmp_path):
    names = sorted(p.stem for p in CALLS.glob("*.json"))
    corpus, extra = _copy(names[::6], tmp_path / "c"), _copy(names[1::6], tmp_path / "x")   # 10 + 10 calls
    plain = CliRunner().invoke(app, ["train", "--corpus", str(corpus), "--out", str(tmp_path / "m0"), "--cv", "0"])
    result = CliRunner().invoke(app, ["train", "--corpus", str(corpus), "--out", str(tmp_path / "m1"), "--cv", "0",
                                      "--extra", str(extra)])
    assert plain.exit_code == 0 and result.exit_code == 0, result.output
    assert "10 calls and 10 extra" in result.output
    manifest = json.loads((tmp_path / "m1" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["extra"] == {"folders": [str(extra)], "calls": 10}
    without, with_extra = load_model(tmp_path / "m0"), load_model(tmp_path / "m1")
    assert (with_extra.shared_reason_model.coef_ == without.shared_reason_model.coef_).all()
    assert len(with_extra.vectorizer.vocabulary_) > len(without.vectorizer.vocabulary_)
    assert with_extra.point_model.coef_.shape[1] > without.point_model.coef_.shape[1]
    # the per-reason heads over the customer's words do learn from them (other writers' words are the point)
    assert len(with_extra.reason_text.vectorizer.vocabulary_) > len(without.reason_text.vectorizer.vocabulary_)


def test_a_bad_extra_folder_is_named(tmp_path):
    corpus = _copy(sorted(p.stem for p in CALLS.glob("*.json"))[::6], tmp_path / "c")
    result = CliRunner().invoke(app, ["train", "--corpus", str(corpus), "--out", str(tmp_path / "m"), "--cv", "0",
                                      "--extra", str(tmp_path / "missing")])
    assert result.exit_code != 0 and "missing" in result.output


def test_cross_validation_progress_counts_folds(tmp_path):
    corpus = _copy(sorted(p.stem for p in CALLS.glob("*.json"))[::6], tmp_path / "c")   # 10 calls
    result = CliRunner().invoke(app, ["train", "--corpus", str(corpus), "--out", str(tmp_path / "m"), "--cv", "2"])
    assert result.exit_code == 0, result.output
    assert "cross-validated (2 folds)" in result.output
    assert "2/2" in result.stderr and "fold" in result.stderr and "call/s" not in result.stderr
