"""Restarts lose nothing: kill -9 of the service mid-batch, a worker process dying mid-job, and the
demo calls loaded on every start without being queued twice."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from api.storage.models import Call, Job
from tests.service.conftest import ROOT, Server, wait_final

CORPUS = Path("/work/shared/corpus/calls")
SHORT = ROOT / "tests/data/short-stereo.wav"
LONGER = ROOT / "tests/data/timing-silence-overlap.wav"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One worker; a 3 s lease, so a job outliving it proves the worker renews its lease while it works
    (an expired lease would cost the job an attempt, which the tests below check never happens)."""
    s = Server(tmp_path_factory.mktemp("restart") / "data", workers=1, env={"CALLSCOPE_LEASE_S": "3"})
    s.start()
    yield s
    s.stop()


def files_of(*paths: Path) -> list:
    kinds = {".json": "application/json", ".wav": "audio/wav"}
    return [("files", (p.name, p.read_bytes(), kinds[p.suffix])) for p in paths]


def wait_for(client, job_id: int, states: tuple[str, ...], timeout: float = 300.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in states or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def calls_by_job(data_dir: Path) -> dict[int, list[str]]:
    engine = create_engine(f"sqlite:///{data_dir / 'callscope.db'}")
    try:
        with engine.connect() as conn:
            found: dict[int, list[str]] = {}
            for call_id, job_id in conn.execute(select(Call.call_id, Call.job_id)):
                found.setdefault(job_id, []).append(call_id)
            return found
    finally:
        engine.dispose()


def _stat(pid: int | str) -> list[str]:
    """The fields of /proc/PID/stat after the command name (state, ppid, ...); OSError once it is gone."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def worker_pids(pid: int) -> list[int]:
    """The pipeline worker processes (multiprocessing spawn children) of the server process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int(_stat(entry.name)[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


@pytest.mark.slow
def test_kill_9_mid_batch_loses_nothing_and_processes_nothing_twice(server):
    transcripts = sorted(CORPUS.glob("tel-in-*.json"))[:8]
    with server.client() as c:
        first = c.post("/api/uploads", files=files_of(SHORT, *transcripts))
        assert first.status_code == 202 and first.json()["accepted"] == 9
        ids = [f["job_id"] for f in first.json()["files"]]
        recording = wait_for(c, ids[0], ("transcribing", "analysing", "done", "failed"))
        assert recording["state"] == "transcribing", recording  # the worker is in the middle of it
        queued = [j for j in c.get("/api/jobs", params={"state": "queued"}).json() if j["id"] in ids]
        assert queued, "every transcript was processed before the kill: the test proves nothing"
        late = c.post("/api/uploads", files=files_of(*sorted(CORPUS.glob("out-*.json"))[:2]))
        assert late.status_code == 202 and late.json()["accepted"] == 2
        ids += [f["job_id"] for f in late.json()["files"]]
    server.restart(kill=True)  # SIGKILL to the service and its workers, then start on the same data

    with server.client() as c:
        jobs = wait_final(c, ids, timeout=600)
    assert [jobs[i]["state"] for i in ids] == ["done"] * len(ids), jobs
    assert all(jobs[i]["attempts"] == 0 for i in ids)  # being killed is not the file's fault
    calls = calls_by_job(server.data_dir)
    assert {i: len(calls.get(i, [])) for i in ids} == dict.fromkeys(ids, 1)  # each job stored exactly once
    assert sum(len(v) for v in calls.values()) == len(ids)
    assert calls[ids[0]] == ["short-stereo"]


@pytest.mark.slow
def test_a_dead_worker_costs_its_job_one_attempt_and_is_replaced(server):
    with server.client() as c:
        r = c.post("/api/uploads", files=files_of(LONGER))
        job_id = r.json()["files"][0]["job_id"]
        assert wait_for(c, job_id, ("transcribing", "done", "failed"))["state"] == "transcribing"
        before = worker_pids(server.process.pid)
        assert len(before) == 1
        os.kill(before[0], signal.SIGKILL)  # as the kernel's OOM killer would
        job = wait_for(c, job_id, ("queued", "done", "failed"), timeout=60)
        assert job["state"] == "queued" and job["attempts"] == 1 and "worker process died" in job["error"], job
        job = wait_final(c, [job_id], timeout=600)[job_id]
        assert job["state"] == "done" and job["attempts"] == 1, job
    after = worker_pids(server.process.pid)
    assert len(after) == 1 and after != before
    assert calls_by_job(server.data_dir)[job_id] == [LONGER.stem]


def _running(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        return _stat(pid)[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_workers_of_a_service_killed_alone_take_no_more_jobs_and_stop(tmp_path):
    server = Server(tmp_path / "data", workers=1)
    server.start()
    try:
        deadline = time.monotonic() + 60
        while not (workers := worker_pids(server.process.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(workers) == 1
        os.kill(server.process.pid, signal.SIGKILL)  # the service alone: its worker is left an orphan
        server.process.wait()
        deadline = time.monotonic() + 120  # the worker may still be loading its models, then one poll
        while _running(workers[0]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _running(workers[0]), "an orphaned worker kept running (and would take jobs)"
    finally:
        try:
            os.killpg(server.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_demo_calls_are_queued_once_and_analysed(tmp_path):
    from api.app import create_app
    from api.cli import _load_demo
    from api.config import ServiceConfig

    data = tmp_path / "data"
    config = ServiceConfig(data_dir=data)
    for _ in range(2):  # two starts with --demo
        app = create_app(config, start_workers=False)
        _load_demo(app, config)
        app.state.db.engine.dispose()
    demo = sorted((ROOT / "demo/calls").glob("*.json"))
    engine = create_engine(config.database_url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Job)) == len(demo)
    engine.dispose()

    s = Server(data)
    s.start()
    try:
        with s.client() as c:
            jobs = c.get("/api/jobs", params={"batch": "demo"}).json()
            final = wait_final(c, [j["id"] for j in jobs], timeout=600)
    finally:
        s.stop()
    assert sorted(j["call_id"] for j in final.values()) == sorted(p.stem for p in demo)
    assert all(j["state"] == "done" and j["metadata"] == {} for j in final.values())
    engine = create_engine(config.database_url)
    with engine.connect() as conn:
        rows = conn.execute(select(Call.call_id, Call.audio_path)).all()
    engine.dispose()
    for call_id, audio in rows:
        assert Path(audio).parent == (data / "uploads").resolve()
        assert Path(audio).read_bytes() == (ROOT / "demo/calls" / f"{call_id}.mp3").read_bytes()


def test_concurrent_claims_never_overlap_and_failures_are_bounded(empty_db_url):
    """The queue itself, on SQLite and PostgreSQL: four workers claiming at once each get distinct
    jobs and together get every job; a failing job is retried after its back-off, then failed."""
    import threading

    from api.storage import jobs as queue
    from api.storage.session import Database, upgrade_database

    upgrade_database(empty_db_url)
    db = Database(empty_db_url)
    try:
        with db.session() as session:
            ids = [queue.enqueue(session, content_hash=f"{n:064x}", filename=f"{n}.json", kind="transcript",
                                 stored_path=f"/nowhere/{n}.json", size=1)[0].id for n in range(40)]
            again, duplicate = queue.enqueue(session, content_hash=f"{0:064x}", filename="again.json",
                                             kind="transcript", stored_path="/x", size=1)
            assert duplicate and again.id == ids[0]
        claimed: dict[str, list[int]] = {}

        def work(name: str) -> None:
            mine = claimed.setdefault(name, [])
            while True:
                with db.session() as session:
                    job = queue.claim_next(session, name, 60)
                if job is None:
                    return
                mine.append(job["id"])

        threads = [threading.Thread(target=work, args=(f"host:1:x:w{n}",)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        everything = [i for got in claimed.values() for i in got]
        assert sorted(everything) == ids  # each job exactly once
        with db.session() as session:
            assert {s for _, s in session.execute(select(Job.id, Job.state))} == {"analysing"}

            # a failing job: requeued with a back-off (not claimable yet), then failed at max_attempts
            worker = next(name for name, got in claimed.items() if ids[0] in got)
            assert queue.fail(session, ids[0], "boom", 2, worker="someone-else") is None  # not theirs
            assert queue.fail(session, ids[0], "boom", 2, worker=worker, backoff_s=3600) == "queued"
            queue.release(session, ids[1:])  # e.g. their service was killed: back without an attempt
        with db.session() as session:
            next_job = queue.claim_next(session, "w", 60)
            assert next_job["id"] == ids[1] and next_job["attempts"] == 0  # ids[0] waits for its retry
            session.execute(Job.__table__.update().where(Job.id == ids[0]).values(lease_until=None))
        with db.session() as session:
            assert queue.claim_next(session, "w", 60)["id"] == ids[0]
            assert queue.fail(session, ids[0], "boom again", 2, worker="w") == "failed"
            job = queue.get_job(session, ids[0])
            assert (job.state, job.attempts, job.error) == ("failed", 2, "boom again")
    finally:
        db.engine.dispose()
