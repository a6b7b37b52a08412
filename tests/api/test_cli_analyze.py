"""`callscope analyze` on transcript JSON: the DESIGN.md contract, bad inputs, labels never read."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.conftest import SHARED

CALLS = SHARED / "corpus" / "calls"
pytestmark = pytest.mark.skipif(not CALLS.is_dir(), reason=f"labelled corpus not found at {CALLS}")
CONTRACT = {"call_id", "duration_s", "turns", "reasons", "script_points", "competitors", "lead", "sentiment"}


@pytest.fixture()
def batch(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("tel-in-0025", "fin-in-0052", "out-0001"):
        shutil.copy(CALLS / f"{name}.json", folder)
    (folder / "broken.json").write_text('{"call_id": "x", "turns": [', encoding="utf-8")
    (folder / "badrole.json").write_text(json.dumps({"call_id": "y", "turns": [{"role": "boss", "text": "hi"}]}))
    return folder


def test_batch_writes_contract_and_reports_bad_files(batch, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["analyze", str(batch), "--out", str(out)])
    assert result.exit_code == 1                                   # some inputs failed...
    assert "broken.json" in result.stderr and "badrole.json" in result.stderr
    assert "turns[0].role is 'boss'" in result.stderr
    written = sorted(p.name for p in out.glob("*.analysis.json"))   # ...and nothing else was lost
    assert written == ["fin-in-0052.analysis.json", "out-0001.analysis.json", "tel-in-0025.analysis.json"]
    analysis = json.loads((out / "tel-in-0025.analysis.json").read_text(encoding="utf-8"))
    assert CONTRACT <= set(analysis)
    assert analysis["reasons"][0]["code"] == "cancel_or_port_out"
    assert sum(r["seconds"] for r in analysis["reasons"]) == pytest.approx(
        sum(t["end"] - t["start"] for t in analysis["turns"]), abs=0.1)
    assert {c["brand"] for c in analysis["competitors"]} == {"中国广电"}
    assert -1.0 <= analysis["sentiment"]["customer"] <= 1.0
    assert "labels" not in analysis


def test_labels_do_not_change_the_analysis(tmp_path):
    data = json.loads((CALLS / "out-0001.json").read_text(encoding="utf-8"))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "out-0001.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    data.pop("labels")
    (tmp_path / "b" / "out-0001.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    for name in ("a", "b"):
        assert CliRunner().invoke(app, ["analyze", str(tmp_path / name), "--out", str(tmp_path / f"o{name}")]).exit_code == 0
    first, second = (json.loads((tmp_path / f"o{n}" / "out-0001.analysis.json").read_text()) for n in ("a", "b"))
    assert first == second


def test_bad_taxonomy_stops_before_any_work(tmp_path):
    bad = tmp_path / "tax.yaml"
    bad.write_text("reasons:\n  Bad Code: {}\nscript_points:\n  greeting: {}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["analyze", str(CALLS / "out-0001.json"), "--taxonomy", str(bad),
                                      "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "tax.yaml" in result.stderr and "Bad Code" in result.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_recordings_are_transcribed_then_analysed(tmp_path, short_stereo):
    """A recording goes through the real Whisper model first; a corrupt one fails alone."""
    folder = tmp_path / "rec"
    folder.mkdir()
    shutil.copy(short_stereo, folder / "call-7.wav")
    (folder / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    result = CliRunner().invoke(app, ["analyze", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and "broken.wav" in result.stderr
    analysis = json.loads((tmp_path / "out" / "call-7.analysis.json").read_text(encoding="utf-8"))
    assert analysis["acoustics"]["talk_s"]["agent"] > 0          # measured on the audio
    assert [t["role"] for t in analysis["turns"]][:2] == ["agent", "customer"]
    assert analysis["script_points"][0] == {"turn": 0, "point": "greeting", "score": pytest.approx(
        analysis["script_points"][0]["score"])}
    assert analysis["lead"]["intent"] != "none" and "流量" in analysis["lead"]["product"]
