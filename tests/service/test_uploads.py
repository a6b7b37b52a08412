"""Uploads and jobs against a real server: upload → job done → call stored with findings; duplicates
recognised; a corrupt file among good ones rejected (or failed alone after bounded retries); size
and metadata checked before any work; roles; one real recording through Whisper."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from api.storage.models import AuditEntry, Call, CallTag, Job
from tests.service.conftest import ROOT, Server, wait_final

CORPUS = Path("/work/shared/corpus/calls")
RECORDING = ROOT / "tests/data/short-stereo.wav"
MAX_MB = 2


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server with a 2 MB upload limit and two attempts per job (so a poisoned file fails fast)."""
    s = Server(tmp_path_factory.mktemp("uploads") / "data",
               env={"CALLSCOPE_MAX_UPLOAD_MB": str(MAX_MB), "CALLSCOPE_MAX_ATTEMPTS": "2"})
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def db(server):
    engine = create_engine(f"sqlite:///{server.data_dir / 'callscope.db'}")
    yield engine
    engine.dispose()


def transcript(name: str) -> tuple[str, tuple[str, bytes, str]]:
    path = CORPUS / name
    return ("files", (path.name, path.read_bytes(), "application/json"))


def count(db, model) -> int:
    with db.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model))


def stored_files(server) -> set[str]:
    return {p.name for p in (server.data_dir / "uploads").iterdir() if p.is_file()}


def test_roles(server):
    agent = server.token("agent-up", "agent", agent_id="A001")
    sales = server.token("sales-up", "sales")
    for token in (agent, sales):
        with server.client(token) as c:
            assert c.post("/api/uploads", files=[transcript("fin-in-0001.json")]).status_code == 403
            assert c.get("/api/jobs").status_code == 403
    with server.client(None) as anonymous:
        assert anonymous.post("/api/uploads", files=[transcript("fin-in-0001.json")]).status_code == 401
    qa = server.token("qa-up", "qa")
    with server.client(qa) as c:
        assert c.get("/api/jobs").status_code == 200


def test_transcripts_upload_to_stored_findings(server, db):
    names = ["fin-in-0001.json", "fin-in-0004.json"]
    meta = {"agent_id": "Q900", "queue": "信用卡", "started_at": "2026-11-01T10:00:00+08:00",
            "history": {"contacts_30d": 2, "complaints_90d": 0, "repeat_within_24h": False}}
    qa = server.token("qa-transcripts", "qa")
    with server.client(qa) as c:
        r = c.post("/api/uploads", files=[transcript(n) for n in names], data={"metadata": json.dumps(meta)})
        assert r.status_code == 202, r.text
        body = r.json()
        assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 0, 0)
        assert [f["status"] for f in body["files"]] == ["accepted", "accepted"]
        ids = [f["job_id"] for f in body["files"]]
        jobs = wait_final(c, ids)
        for job_id in ids:
            job = jobs[job_id]
            assert job["state"] == "done", job
            assert job["progress"] == 1.0 and job["attempts"] == 0 and job["error"] is None
            assert job["metadata"]["agent_id"] == "Q900" and job["batch"] == body["batch"]
        batch = c.get(f"/api/batches/{body['batch']}").json()
        assert batch["counts"]["done"] == 2 and batch["total"] == 2 and batch["finished"]
        assert [j["id"] for j in c.get("/api/jobs", params={"batch": body["batch"]}).json()] == sorted(ids, reverse=True)
    call_ids = {jobs[i]["call_id"] for i in ids}
    assert call_ids == {"fin-in-0001", "fin-in-0004"}
    with db.connect() as conn:
        calls = conn.execute(select(Call).where(Call.call_id.in_(call_ids))).all()
        assert {c.job_id for c in calls} == set(ids)
        for call in calls:
            assert call.agent_id == "Q900" and call.queue == "信用卡"  # upload metadata overrides the file's
            assert call.day == "2026-11-01"
            analysis = call.analysis
            assert analysis["reasons"] and analysis["qa"] is not None and "labels" not in analysis
            assert analysis["history"]["contacts_30d"] == 2
        assert conn.scalar(select(func.count()).select_from(CallTag).where(CallTag.call_id.in_(call_ids))) > 0
        audited = conn.execute(select(AuditEntry.actor, AuditEntry.target).where(AuditEntry.action == "upload.accept")).all()
        assert {(a, t) for a, t in audited} >= {("qa-transcripts", f"job:{i}") for i in ids}


def test_duplicate_upload_is_recognised(server, db):
    with server.client() as c:
        first = c.post("/api/uploads", files=[transcript("fin-in-0007.json")]).json()["files"][0]
        assert first["status"] == "accepted"
        wait_final(c, [first["job_id"]])
        jobs, calls, files = count(db, Job), count(db, Call), stored_files(server)
        content = (CORPUS / "fin-in-0007.json").read_bytes()
        again = c.post("/api/uploads", files=[("files", ("renamed.json", content, "application/json")),
                                              ("files", ("twice.json", content, "application/json"))])
        assert again.status_code == 202
        results = again.json()["files"]
        assert [(f["status"], f["duplicate"], f["job_id"]) for f in results] == [
            ("duplicate", True, first["job_id"]), ("duplicate", True, first["job_id"])]
        assert results[0]["state"] == "done" and results[0]["sha256"] == first["sha256"]
    assert (count(db, Job), count(db, Call), stored_files(server)) == (jobs, calls, files)


def test_corrupt_files_among_good_ones(server, db):
    poisoned = b"ID3\x03\x00\x00\x00\x00\x00\x00" + os.urandom(4000)  # looks like an MP3, decodes as nothing
    files = [
        transcript("fin-in-0010.json"),
        ("files", ("garbage.mp3", os.urandom(5000), "audio/mpeg")),
        ("files", ("broken.json", b"{not json", "application/json")),
        ("files", ("no-turns.json", json.dumps({"call_id": "x", "turns": 5}).encode(), "application/json")),
        ("files", ("notes.txt", b"hello", "text/plain")),
        ("files", ("empty.wav", b"", "audio/wav")),
        ("files", ("poisoned.mp3", poisoned, "audio/mpeg")),
        transcript("fin-in-0013.json"),
    ]
    with server.client() as c:
        r = c.post("/api/uploads", files=files)
        assert r.status_code == 202, r.text
        results = {f["filename"]: f for f in r.json()["files"]}
        assert [f["filename"] for f in r.json()["files"]] == [f[1][0] for f in files]  # in upload order
        expected = {"garbage.mp3": "not an MP3", "broken.json": "not valid JSON", "no-turns.json": "turns",
                    "notes.txt": "type .txt is not accepted", "empty.wav": "empty"}
        for name, words in expected.items():
            assert results[name]["status"] == "rejected" and results[name]["job_id"] is None
            assert words in results[name]["reason"], results[name]
        for name in ("fin-in-0010.json", "fin-in-0013.json", "poisoned.mp3"):
            assert results[name]["status"] == "accepted", results[name]
        jobs = wait_final(c, [results[n]["job_id"] for n in ("fin-in-0010.json", "fin-in-0013.json", "poisoned.mp3")])
        bad = jobs[results["poisoned.mp3"]["job_id"]]
        assert bad["state"] == "failed" and bad["attempts"] == 2  # CALLSCOPE_MAX_ATTEMPTS
        assert "decode" in bad["error"], bad
        for name in ("fin-in-0010.json", "fin-in-0013.json"):
            assert jobs[results[name]["job_id"]]["state"] == "done"
        failed = c.get("/api/jobs", params={"state": "failed"}).json()
        assert bad["id"] in [j["id"] for j in failed]
        assert c.get("/api/jobs", params={"state": "bogus"}).status_code == 422

        # a failed job may be queued again by hand; it fails the same way, alone
        assert c.post(f"/api/jobs/{results['fin-in-0010.json']['job_id']}/retry").status_code == 409
        assert c.post("/api/jobs/999999/retry").status_code == 404
        retried = c.post(f"/api/jobs/{bad['id']}/retry")
        assert retried.status_code == 200 and retried.json()["state"] == "queued" and retried.json()["attempts"] == 0
        assert wait_final(c, [bad["id"]])[bad["id"]]["state"] == "failed"
    with db.connect() as conn:
        assert conn.scalar(select(Call.call_id).where(Call.job_id == bad["id"])) is None
        assert not list((server.data_dir / "uploads" / ".incoming").glob("*"))  # nothing half-kept


def test_size_limit(server, db):
    big = b"RIFF" + (10**8).to_bytes(4, "little") + b"WAVEfmt " + bytes(MAX_MB * 1024 * 1024 + 10)
    jobs, files = count(db, Job), stored_files(server)
    with server.client() as c:
        r = c.post("/api/uploads", files=[("files", ("huge.wav", big, "audio/wav")), transcript("fin-in-0016.json")])
        assert r.status_code == 202
        huge, small = r.json()["files"]
        assert huge["status"] == "rejected" and f"limit of {MAX_MB:.1f} MB" in huge["reason"]
        assert small["status"] == "accepted"
        assert wait_final(c, [small["job_id"]])[small["job_id"]]["state"] == "done"
    assert count(db, Job) == jobs + 1
    assert len(stored_files(server) - files) == 1  # only the small file was kept
    assert not list((server.data_dir / "uploads" / ".incoming").glob("*"))


def test_metadata_is_checked(server, db):
    jobs, files = count(db, Job), stored_files(server)
    with server.client() as c:
        def upload(metadata: str):
            return c.post("/api/uploads", files=[transcript("fin-in-0019.json")], data={"metadata": metadata})

        r = upload(json.dumps({"agent_id": "A1", "agnet_queue": "x"}))
        assert r.status_code == 422 and "agnet_queue" in r.json()["detail"] and "allowed" in r.json()["detail"]
        r = upload(json.dumps({"direction": "sideways"}))
        assert r.status_code == 422 and "direction" in r.json()["detail"]
        r = upload(json.dumps({"started_at": "yesterday"}))
        assert r.status_code == 422 and "started_at" in r.json()["detail"]
        assert upload("[1, 2]").status_code == 422
        assert upload("{oops").status_code == 422
        r = c.post("/api/uploads", data={"metadata": "{}"})
        assert r.status_code in (415, 422)  # no file part at all
        r = c.post("/api/uploads", files=[("other", ("a.json", b"{}", "application/json"))])
        assert r.status_code == 422 and "'other'" in r.json()["detail"]
        assert c.post("/api/uploads", json={"files": []}).status_code == 415
    assert (count(db, Job), stored_files(server)) == (jobs, files)


@pytest.mark.slow
def test_recording_upload_is_transcribed(server, db):
    meta = {"agent_id": "A-rec", "direction": "inbound", "industry": "telecom"}
    with server.client() as c:
        r = c.post("/api/uploads", files=[("files", (RECORDING.name, RECORDING.read_bytes(), "audio/wav"))],
                   data={"metadata": json.dumps(meta)})
        result = r.json()["files"][0]
        assert result["status"] == "accepted" and result["kind"] == "recording"
        job = wait_final(c, [result["job_id"]], timeout=600)[result["job_id"]]
    assert job["state"] == "done", job
    assert job["call_id"] == "short-stereo"
    with db.connect() as conn:
        call = conn.execute(select(Call).where(Call.call_id == "short-stereo")).one()
    assert call.agent_id == "A-rec" and call.job_id == result["job_id"]
    assert Path(call.audio_path).is_file() and Path(call.audio_path).read_bytes() == RECORDING.read_bytes()
    analysis = call.analysis
    assert 15 < analysis["duration_s"] < 17
    assert {t["role"] for t in analysis["turns"]} == {"agent", "customer"}
    assert "acoustics" in analysis and "reasons" in analysis


def test_upload_to_done_on_postgresql(pg_server):
    """The same path on PostgreSQL: jobs claimed with SKIP LOCKED, calls stored, duplicates found."""
    with pg_server.client() as c:
        r = c.post("/api/uploads", files=[transcript("tel-in-0001.json"), transcript("fin-in-0022.json")],
                   data={"metadata": json.dumps({"queue": "pg-queue"})})
        assert r.status_code == 202 and r.json()["accepted"] == 2, r.text
        ids = [f["job_id"] for f in r.json()["files"]]
        jobs = wait_final(c, ids)
        assert [jobs[i]["state"] for i in ids] == ["done", "done"], jobs
        again = c.post("/api/uploads", files=[transcript("tel-in-0001.json")]).json()["files"][0]
        assert again["duplicate"] and again["job_id"] == ids[0]
    engine = create_engine(pg_server.db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Call.call_id, Call.queue, Call.job_id)).all()
    finally:
        engine.dispose()
    assert sorted(rows) == [("fin-in-0022", "pg-queue", ids[1]), ("tel-in-0001", "pg-queue", ids[0])]


def test_same_call_id_different_content_keeps_both(server, db):
    """A second, different file with a call id already stored (a corrected transcript, a recorder
    reusing names) becomes its own call: nothing stored is silently replaced."""
    data = json.loads((CORPUS / "fin-in-0025.json").read_text(encoding="utf-8"))
    with server.client() as c:
        first = c.post("/api/uploads", files=[transcript("fin-in-0025.json")]).json()["files"][0]
        data["turns"][0]["text"] += "（更正）"
        second = c.post("/api/uploads", files=[("files", ("fin-in-0025-fixed.json", json.dumps(data).encode(),
                                                          "application/json"))]).json()["files"][0]
        assert second["status"] == "accepted" and second["job_id"] != first["job_id"]
        jobs = wait_final(c, [first["job_id"], second["job_id"]])
    assert jobs[first["job_id"]]["call_id"] == "fin-in-0025"
    assert jobs[second["job_id"]]["call_id"] == f"fin-in-0025~{second['job_id']}"
    with db.connect() as conn:
        rows = dict(conn.execute(select(Call.call_id, Call.job_id).where(Call.call_id.like("fin-in-0025%"))).all())
    assert rows == {"fin-in-0025": first["job_id"], f"fin-in-0025~{second['job_id']}": second["job_id"]}
