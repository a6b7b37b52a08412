"""Callscope on a real PostgreSQL server as well as on SQLite.

The service flow (health, tokens, audit, an upload analysed to done) runs on `callscope serve` with
a PostgreSQL URL; the storage functions run against both databases with a real analysis of a demo
call (Chinese text in JSON columns, upsert of a re-analysed call, tags and search terms, tokens).
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from api.storage.audit import record
from api.storage.calls import call_tags, save_analysis, search_terms
from api.storage.models import AuditEntry, Call, CallTag, CallTerm, Job
from api.storage.session import Database, upgrade_database
from api.storage.tokens import create_token, find_token
from tests.service.conftest import wait_final

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demo" / "calls"


@pytest.fixture(scope="module")
def analysis() -> dict:
    """The real analysis of a demo call (reasons, competitor 中国联通, a 流量包 lead), as stored JSON."""
    from api.analysis import Analyzer
    from callscope.types import Conversation

    conversation = Conversation.from_dict(json.loads((DEMO / "demo-tel-0001.json").read_text(encoding="utf-8")))
    return json.loads(json.dumps(Analyzer.load().analyze(conversation), ensure_ascii=False))


@pytest.fixture
def db(empty_db_url):
    upgrade_database(empty_db_url)
    database = Database(empty_db_url)
    yield database
    database.engine.dispose()


# --- the service on PostgreSQL ------------------------------------------------------------------


def test_service_on_postgres_tokens_and_audit(pg_server):
    with pg_server.client(None) as anonymous:
        assert anonymous.get("/api/health").json() == {"status": "ok"}
        assert anonymous.get("/api/me").status_code == 401
    qa = pg_server.token("质检-王", "qa", see_pii=True)  # Chinese names go through the whole stack
    with pg_server.client(qa) as c:
        assert c.get("/api/me").json()["name"] == "质检-王"
        assert c.post("/api/tokens", json={"name": "x", "role": "admin"}).status_code == 403
    with pg_server.client() as admin:
        assert admin.post("/api/tokens", json={"name": "质检-王", "role": "qa"}).status_code == 409
        assert admin.post("/api/tokens", json={"name": "a1", "role": "agent"}).status_code == 422
        entries = admin.get("/api/audit").json()
    created = [e for e in entries if e["action"] == "token.create" and e["target"] == "token:质检-王"]
    assert len(created) == 1 and created[0]["detail"]["role"] == "qa"
    # nothing half-written by the refused requests
    assert not any(e["target"] in ("token:x", "token:a1") for e in entries)


def test_service_on_postgres_survives_restart(pg_server):
    secret = pg_server.token("restart-qa", "qa")
    pg_server.restart(kill=True)
    with pg_server.client(secret) as c:
        assert c.get("/api/me").json()["name"] == "restart-qa"


def test_upload_processed_on_postgres(pg_server):
    """Two transcripts uploaded, analysed to done, found by filters and full-text search on PostgreSQL."""
    with pg_server.client() as admin:
        if "/api/uploads" not in admin.get("/openapi.json").json()["paths"]:
            pytest.skip("POST /api/uploads is not there yet")
        names = ["demo-tel-0001.json", "demo-fin-0001.json"]
        files = [("files", (n, (DEMO / n).read_bytes(), "application/json")) for n in names]
        r = admin.post("/api/uploads", files=files)
        assert r.status_code == 202, r.text
        assert r.json()["accepted"] == 2, r.json()
        jobs = list(wait_final(admin, [f["job_id"] for f in r.json()["files"]], timeout=180, poll=0.5).values())
        assert [j["state"] for j in jobs] == ["done", "done"], jobs
        again = admin.post("/api/uploads", files=files[:1]).json()  # same content: recognised
        assert again["duplicates"] == 1 and again["files"][0]["job_id"] == jobs[0]["id"]

        call = admin.get(f"/api/calls/{jobs[0]['call_id']}").json()
        assert call["call_id"] == "demo-tel-0001" and call["transcript"] and call["findings"]
        found = admin.get("/api/calls", params={"competitor": "中国联通"}).json()
        assert [c["call_id"] for c in found["items"]] == ["demo-tel-0001"]
        found = admin.get("/api/calls", params={"q": "流量包", "sort": "risk_score"}).json()
        assert "demo-tel-0001" in [c["call_id"] for c in found["items"]]
        assert found["items"][0]["snippets"]
        assert admin.get("/api/calls", params={"date_from": "2026-11-05", "date_to": "2026-11-05"}).json()[
            "total"] == 1  # demo-fin-0001 started on 2026-11-05 (local time)
        entries = admin.get("/api/audit").json()
        assert any(e["action"].startswith("upload") for e in entries), [e["action"] for e in entries]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def any_server(request):
    return request.getfixturevalue("server" if request.param == "sqlite" else "pg_server")


# input that one database stores and the other refuses: NUL characters (PostgreSQL text cannot hold
# them), integers beyond the id columns (int4 on PostgreSQL, int8 on SQLite)
AWKWARD = [("POST", "/api/tokens", {"name": "a\u0000b", "role": "qa"}),
           ("GET", "/api/calls?queue=a%00b", None),
           ("GET", "/api/calls?agent=a%00b", None),
           ("GET", "/api/calls/a%00b", None),
           ("GET", "/api/jobs/2147483648", None),
           ("GET", "/api/jobs/99999999999999999999999", None)]


def test_input_the_database_refuses_is_a_client_error(any_server):
    """What the database cannot store or look up answers 4xx with a message, never 500."""
    with any_server.client() as admin:
        paths = admin.get("/openapi.json").json()["paths"]
    server_errors = []
    for method, url, body in AWKWARD:
        if not any(re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", p), url.split("?")[0]) for p in paths):
            continue  # route not there (yet)
        with any_server.client() as admin:  # a new connection each time: a 500 may close it
            r = admin.request(method, url, json=body)
        if r.status_code >= 500:
            server_errors.append(f"{method} {url} {body or ''} -> {r.status_code}")
    assert server_errors == [], "server errors:\n" + "\n".join(server_errors)


# --- storage functions on both databases ----------------------------------------------------------


def _tags(session, call_id: str) -> set[tuple[str, str]]:
    return {(t.kind, t.value) for t in session.scalars(select(CallTag).where(CallTag.call_id == call_id))}


def test_save_analysis_stores_call_tags_and_terms(db, analysis):
    with db.session() as s:
        s.add(Job(content_hash="a" * 64, filename="demo-tel-0001.json", kind="transcript", stored_path="/x",
                  size=1, meta={"queue": "话费查询"}))
        s.flush()
        job_id = s.scalar(select(Job.id))
        save_analysis(s, analysis, job_id=job_id, audio_path="/audio/demo-tel-0001.mp3")
    with db.session() as s:
        call = s.get(Call, analysis["call_id"])
        assert call.analysis == analysis  # whole JSON back, Chinese text included
        assert call.job_id == job_id and call.audio_path == "/audio/demo-tel-0001.mp3"
        assert call.agent_id == analysis["agent_id"] and call.day == analysis["started_at"][:10]
        assert call.primary_reason == analysis["reasons"][0]["code"]
        assert call.lead_intent == "high"
        assert _tags(s, call.call_id) == call_tags(analysis)
        assert ("competitor", "中国联通") in _tags(s, call.call_id)
        assert ("lead", "流量包") in _tags(s, call.call_id)
        terms = set(s.scalars(select(CallTerm.term).where(CallTerm.call_id == call.call_id)))
        assert terms == search_terms(analysis) and "联通" in terms
        # full-text lookup by a jieba word finds the call
        assert s.scalars(select(CallTerm.call_id).where(CallTerm.term == "流量包")).all() == [call.call_id]
        assert s.get(Job, job_id).meta == {"queue": "话费查询"}


def test_resave_replaces_the_call(db, analysis):
    with db.session() as s:
        save_analysis(s, analysis, job_id=None, audio_path="/audio/a.mp3")
    again = copy.deepcopy(analysis)
    again["competitors"] = []
    again["lead"] = {"intent": "none"}
    again["qa"]["violations"] = [{"rule": "no_identity_check", "code": "identity", "turn": 1,
                                  "evidence": "没有核实身份"}]
    again["turns"][0]["masked_text"] = again["turns"][0]["text"] = "您好，请问有什么可以帮您的？宽带提速"
    with db.session() as s:
        save_analysis(s, again)  # re-analysis: job and audio not given, so kept
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Call)) == 1
        call = s.get(Call, analysis["call_id"])
        assert call.analysis == again and call.audio_path == "/audio/a.mp3" and call.lead_intent == "none"
        assert _tags(s, call.call_id) == call_tags(again)
        assert ("violation", "identity") in _tags(s, call.call_id)
        assert not any(kind in ("competitor", "lead") for kind, _ in _tags(s, call.call_id))
        terms = set(s.scalars(select(CallTerm.term).where(CallTerm.call_id == call.call_id)))
        assert terms == search_terms(again)
        assert s.scalar(select(func.count()).select_from(CallTerm)) == len(terms)


def test_json_columns_keep_chinese_text(db):
    detail = {"原因": "客户投诉：话费多扣了 ¥38.5", "nested": [{"名": "张三"}, None, 1.5, True], "emoji": "👍"}
    with db.session() as s:
        record(s, "质检员", "review.add", "call:演示-0001", **detail)
    with db.session() as s:
        entry = s.scalars(select(AuditEntry)).one()
        assert (entry.actor, entry.target, entry.detail) == ("质检员", "call:演示-0001", detail)
        assert entry.at is not None


def test_tokens(db):
    with db.session() as s:
        qa = create_token(s, "qa-1", "qa")
        agent = create_token(s, "坐席-1001", "agent", agent_id="1001")
        with pytest.raises(ValueError, match="role"):
            create_token(s, "bad", "boss")
        with pytest.raises(ValueError, match="agent id"):
            create_token(s, "agent-2", "agent")
    with db.session() as s:
        assert find_token(s, qa).name == "qa-1" and find_token(s, qa).see_pii is False
        found = find_token(s, agent)
        assert (found.role, found.agent_id) == ("agent", "1001")
        assert find_token(s, qa + "x") is None
        found.active = False
    with db.session() as s:
        assert find_token(s, agent) is None  # revoked
    with pytest.raises(IntegrityError), db.session() as s:
        create_token(s, "qa-1", "qa")  # names are unique


def test_times_keep_their_instant(db):
    """A call's start time reads back as the same instant on both databases."""
    started = datetime.fromisoformat("2026-11-03T19:42:18+08:00")
    with db.session() as s:
        s.add(Call(call_id="tz", started_at=started, analysis={}))
    with db.session() as s:
        back = s.get(Call, "tz").started_at
    assert back.tzinfo is not None and back == started
