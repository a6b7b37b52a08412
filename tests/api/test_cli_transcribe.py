"""`callscope transcribe` end to end: a batch with bad files, re-runs, output format, errors."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from callscope.types import Conversation

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "api"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600, check=False)


@pytest.fixture()
def batch(tmp_path, short_stereo) -> Path:
    """A folder as a QA team hands it over: one good call, and files that are not."""
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(short_stereo, folder / "sub" / "call-001.wav")
    (folder / "empty.wav").write_bytes(b"")
    (folder / "corrupt.mp3").write_bytes(b"\x00\x01not an mp3" * 100)
    (folder / "notes.txt").write_text("ignored: not a recording")
    return folder


def test_batch_completes_past_bad_files_and_reports_them(batch, tmp_path):
    out = tmp_path / "out"
    result = run("transcribe", batch, "--out", out)
    assert result.returncode == 1, result.stderr
    assert "empty.wav: file is empty" in result.stderr
    assert "corrupt.mp3: cannot decode audio" in result.stderr
    assert "notes.txt" not in result.stderr  # folders are scanned for recordings only
    assert "1 transcribed" in result.stdout and "2 failed" in result.stdout
    written = sorted(p.name for p in out.iterdir())
    assert written == ["call-001.json"]

    data = json.loads((out / "call-001.json").read_text(encoding="utf-8"))
    conversation = Conversation.from_dict(data)  # the corpus format, readable by every later stage
    assert conversation.call_id == "call-001"
    assert [t.role for t in conversation.turns] == ["agent", "customer", "agent", "customer"]
    assert all(t.start is not None and t.end > t.start for t in conversation.turns)
    assert set(data["acoustics"]) >= {"talk_s", "silence_s", "overlap_s", "silences", "overlaps", "speech_rate_cpm"}
    assert data["transcription"]["roles_method"] == "stereo-channel"
    assert "transcribing" in result.stderr and "x, last: call-001.wav" in result.stderr  # progress bar


def test_worker_processes_give_the_same_transcripts_as_one(tmp_path, short_stereo):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("call-a", "call-b"):
        shutil.copy(short_stereo, folder / f"{name}.wav")
    (folder / "corrupt.mp3").write_bytes(b"\x00\x01not an mp3" * 100)
    texts = {}
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}"
        result = run("transcribe", folder, "--out", out, "--workers", workers)
        assert result.returncode == 1 and "2 transcribed" in result.stdout and "1 failed" in result.stdout
        assert "corrupt.mp3: cannot decode audio" in result.stderr  # a worker's failure is named as well
        texts[workers] = {p.name: [t["text"] for t in json.loads(p.read_text(encoding="utf-8"))["turns"]]
                          for p in sorted(out.glob("*.json"))}
    assert sorted(texts["2"]) == ["call-a.json", "call-b.json"]
    assert texts["2"] == texts["1"] and texts["2"]["call-a.json"]


def test_rerun_skips_done_calls_unless_forced(tmp_path, short_stereo):
    out = tmp_path / "out"
    assert run("transcribe", short_stereo, "--out", out).returncode == 0
    target = out / "short-stereo.json"
    first = target.stat().st_mtime_ns
    again = run("transcribe", short_stereo, "--out", out)
    assert again.returncode == 0 and "1 already done" in again.stdout
    assert target.stat().st_mtime_ns == first
    # a call already done is in the bar's start, not its speed (it once read thousands of calls/s)
    assert "1/1" in again.stderr and not re.search(r"[0-9.]+call/s", again.stderr), again.stderr
    forced = run("transcribe", short_stereo, "--out", out, "--force")
    assert forced.returncode == 0 and "1 transcribed" in forced.stdout
    assert target.stat().st_mtime_ns != first


def test_metadata_beside_a_recording_is_kept_but_never_its_labels(tmp_path, short_stereo):
    shutil.copy(short_stereo, tmp_path / "c1.wav")
    sidecar = json.loads(short_stereo.with_suffix(".json").read_text(encoding="utf-8"))
    sidecar.update({"call_id": "c1", "direction": "inbound", "customer_id": "C1", "history": {"contacts_30d": 2}})
    (tmp_path / "c1.json").write_text(json.dumps(sidecar, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    assert run("transcribe", tmp_path / "c1.wav", "--out", out).returncode == 0
    data = json.loads((out / "c1.json").read_text(encoding="utf-8"))
    assert data["direction"] == "inbound" and data["customer_id"] == "C1"
    assert data["history"] == {"contacts_30d": 2}
    assert "labels" not in data
    assert data["transcription"]["roles_method"] == "stereo-channel"  # turns are ours, from the audio


def test_missing_model_folder_is_one_clear_error(tmp_path, short_stereo):
    result = run("transcribe", short_stereo, "--out", tmp_path / "o", "--model", tmp_path / "nomodel")
    assert result.returncode == 2
    assert "is not a CTranslate2 Whisper model folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_lexicon_is_reported_with_its_line(tmp_path, short_stereo):
    lexicon = tmp_path / "lex.txt"
    lexicon.write_text("流量包\n流量包\n", encoding="utf-8")
    result = run("transcribe", short_stereo, "--out", tmp_path / "o", "--lexicon", lexicon)
    assert result.returncode == 2 and "lex.txt:2" in result.stderr


def test_same_call_id_twice_in_a_batch_fails_the_second(tmp_path, short_stereo):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        shutil.copy(short_stereo, tmp_path / name / "call.wav")
    result = run("transcribe", tmp_path / "a", tmp_path / "b", "--out", tmp_path / "o")
    assert result.returncode == 1
    assert "call id 'call' is already used by" in result.stderr
