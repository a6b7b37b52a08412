"""Reading calls over the real server: filters with known answers, jieba search with snippets, paging
and sorting, one call with its findings, the recording with HTTP Range, agents limited to their own
calls, and PII masked for callers without the right.

The calls are put straight into the server's database with ``save_analysis`` (what a finished job
does): constructed analyses with known answers, and one real analysis of a demo call with its recording.
The list, search and detail queries run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import shutil

import pytest

from api.analysis import Analyzer
from api.storage.calls import save_analysis
from api.storage.session import Database
from callscope.types import Conversation
from tests.insights.factory import make_call
from tests.service.conftest import ROOT

DEMO = ROOT / "demo" / "calls" / "demo-fin-0001"
PHONE, PHONE_MASKED = "13812345678", "138****5678"


def qa(score: float, *rules: str) -> dict:
    return {"rulebook": "test", "score": score, "fatal": False,
            "violations": [{"rule": r, "turn": 0, "severity": "minor"} for r in rules]}


def constructed_calls() -> list[dict]:
    """Six calls of four agents with known filters answers (see the tests)."""
    net = make_call(
        "net-a2", day="2026-10-21", time="11:00:00", agent="A2", customer="C3", queue="tech",
        turns=[("agent", "请问您的联系电话？", 0, 3), ("customer", f"我的手机号是{PHONE}，家里宽带断网三天了。", 3, 9)],
        reasons=[("network_issue", [1], 6.0)], qa=qa(70, "rude_language", "no_identity_check"), complaint_risk=0.6,
        pii=[{"turn": 1, "kind": "phone", "char_start": 6, "char_end": 17, "text": PHONE, "masked": PHONE_MASKED,
              "score": 0.9}])
    net["turns"][1]["masked_text"] = net["turns"][1]["text"].replace(PHONE, PHONE_MASKED)
    net["lead"] = {"intent": "low", "product": "宽带", "score": 0.3, "turns": [1], "evidence": f"手机号{PHONE}"}
    return [
        make_call("bill-a1", day="2026-10-20", time="09:00:00", agent="A1", customer="C1", queue="billing",
                  turns=[("agent", "您好，请问有什么可以帮您？", 0, 3),
                         ("customer", "我这个月话费怎么多扣了五十块？联通都没这么贵。", 3, 8)],
                  reasons=[("bill_dispute", [1], 5.0)],
                  competitors=[{"turn": 1, "brand": "中国联通", "dimension": "price"}],
                  qa=qa(80, "no_identity_check"), complaint_risk=0.8),
        make_call("plan-a1", day="2026-10-21", time="10:00:00", agent="A1", customer="C2", queue="billing",
                  turns=[("agent", "您好", 0, 2), ("customer", "我想办一个流量包，每个月多二十G。", 2, 7)],
                  reasons=[("data_plan", [1], 5.0), ("billing_question", [1], 1.0)],
                  lead={"intent": "high", "product": "流量包", "score": 0.9, "turns": [1]},
                  qa=qa(95), complaint_risk=0.1),
        net,
        make_call("out-a2", day="2026-10-22", time="15:00:00", direction="outbound", agent="A2", customer="C4",
                  queue="sales", turns=[("agent", "您好，我们有千兆宽带升级活动。", 0, 4),
                                        ("customer", "电信那边才五十块，你们便宜点我就办宽带。", 4, 9)],
                  reasons=[("upgrade_offer", [0, 1], 9.0)],
                  competitors=[{"turn": 1, "brand": "中国电信", "dimension": "price"}],
                  lead={"intent": "medium", "product": "宽带", "score": 0.6, "turns": [1]}, qa=qa(88),
                  complaint_risk=0.3, outcome="success"),
        make_call("angry-b7", day="2026-10-22", time="16:00:00", agent="B7", customer="C5", queue="billing",
                  turns=[("agent", "您好", 0, 2), ("customer", "话费乱扣费，再不处理我就去工信部投诉！", 2, 8)],
                  reasons=[("bill_dispute", [1], 4.0), ("service_complaint", [1], 2.0)],
                  qa=qa(60, "no_identity_check"), complaint_risk=0.95),
        make_call("old-b7", day="2026-10-19", time="08:00:00", agent="B7", customer="C6", queue="tech",
                  turns=[("agent", "您好", 0, 2), ("customer", "路由器的灯一直闪。", 2, 30)],
                  reasons=[("network_issue", [1], 28.0)]),
    ]


def paging_calls() -> list[dict]:
    """23 calls of agent Z9 on one day, risk i/100 and duration 10+i seconds, for paging and sorting."""
    return [make_call(f"bulk-{i:02d}", day="2026-09-01", time=f"{8 + i // 4:02d}:{(i % 4) * 15:02d}:00",
                      agent="Z9", customer=f"Z{i}", queue="bulk",
                      turns=[("agent", "您好", 0.0, 2.0), ("customer", "查一下余额。", 2.0, 10.0 + i)],
                      complaint_risk=i / 100)
            for i in range(23)]


@pytest.fixture(scope="module")
def demo_analysis() -> dict:
    """The real analysis of demo call demo-fin-0001 (its transcript, labels left out)."""
    raw = json.loads(DEMO.with_suffix(".json").read_text(encoding="utf-8"))
    raw.pop("labels", None)
    return Analyzer.load().analyze(Conversation.from_dict(raw))


def seed(server, demo: dict) -> dict:
    """Store the constructed calls, the paging calls and the demo call (with its recording) in the
    server's database, as finished jobs would."""
    audio = server.data_dir / "uploads" / "test" / "demo-fin-0001.mp3"
    audio.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DEMO.with_suffix(".mp3"), audio)
    db = Database(server.db_url or f"sqlite:///{(server.data_dir / 'callscope.db').resolve()}")
    try:
        with db.session() as session:
            for analysis in constructed_calls() + paging_calls():
                save_analysis(session, analysis)
            save_analysis(session, demo, audio_path=str(audio))
    finally:
        db.engine.dispose()
    return {"server": server, "demo": demo, "audio": audio.read_bytes()}


@pytest.fixture(scope="module")
def calls(server, demo_analysis):
    """The SQLite server with every test call stored."""
    return seed(server, demo_analysis)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def any_db(request, demo_analysis):
    """The same calls on each database (the queries behind lists and search differ by dialect)."""
    if request.param == "sqlite":
        return request.getfixturevalue("calls")
    return seed(request.getfixturevalue("pg_server"), demo_analysis)


@pytest.fixture(scope="module")
def tokens(server):
    return {
        "qa": server.token("calls-qa", "qa"),
        "qa_pii": server.token("calls-qa-pii", "qa", see_pii=True),
        "a1": server.token("calls-a1", "agent", agent_id="A1"),
        "a2": server.token("calls-a2", "agent", agent_id="A2"),
        "sales": server.token("calls-sales", "sales"),
    }


def ids(server, token=None, **params) -> set[str]:
    with server.client(token) if token else server.client() as c:
        r = c.get("/api/calls", params={"page_size": 200, **params})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["total"] == len(body["items"])
        return {item["call_id"] for item in body["items"]}


def test_filters_have_known_answers(any_db):
    s = any_db["server"]
    assert ids(s, agent="A1") == {"bill-a1", "plan-a1"}
    assert ids(s, reason="bill_dispute") == {"bill-a1", "angry-b7"}
    assert ids(s, reason="service_complaint") == {"angry-b7"}  # any reason, not only the primary
    assert ids(s, violation="no_identity_check") == {"bill-a1", "net-a2", "angry-b7"}
    assert ids(s, violation="rude_language") == {"net-a2"}
    assert ids(s, risk_min=0.6, queue="billing") == {"bill-a1", "angry-b7"}
    assert ids(s, risk_min=0.6, date_from="2026-10-01") == {"bill-a1", "net-a2", "angry-b7"}
    assert ids(s, competitor="中国电信") == {"out-a2"}
    assert ids(s, competitor="中国联通") == {"bill-a1"}
    assert ids(s, lead="流量包") == {"plan-a1"}
    assert ids(s, lead="any", date_to="2026-10-31") == {"plan-a1", "out-a2", "net-a2"}
    assert ids(s, date_from="2026-10-21", date_to="2026-10-21") == {"plan-a1", "net-a2"}
    assert ids(s, direction="outbound") == {"out-a2"}
    assert ids(s, queue="tech", agent="B7") == {"old-b7"}
    assert ids(s, agent="nobody") == set()
    assert len(ids(s, review="none")) == 6 + 23 + 1  # nothing reviewed yet


def test_list_items_carry_the_findings(any_db):
    with any_db["server"].client() as c:
        items = {i["call_id"]: i for i in c.get("/api/calls", params={"queue": "billing"}).json()["items"]}
    angry = items["angry-b7"]
    assert angry["primary_reason"] == "bill_dispute"
    assert sorted(angry["reasons"]) == ["bill_dispute", "service_complaint"]
    assert angry["risk_score"] == 0.95 and angry["qa_score"] == 60
    assert angry["violations"] == ["no_identity_check"] and angry["lead"] is None
    assert angry["agent_id"] == "B7" and angry["customer_id"] == "C5" and angry["direction"] == "inbound"
    assert angry["duration_s"] == 8 and angry["day"] == "2026-10-22"
    assert items["plan-a1"]["lead"] == {"intent": "high", "product": "流量包"}
    # the primary reason comes first, as in the analysis, not in the tags' alphabetical order
    assert items["plan-a1"]["reasons"] == ["data_plan", "billing_question"]
    assert items["bill-a1"]["competitors"] == ["中国联通"]


def test_search_finds_calls_by_their_words(any_db):
    s = any_db["server"]
    with s.client() as c:
        body = c.get("/api/calls", params={"q": "工信部"}).json()
        assert [i["call_id"] for i in body["items"]] == ["angry-b7"] and body["terms"] == ["工信部"]
        snippet = body["items"][0]["snippets"][0]
        assert snippet["turn"] == 1 and snippet["role"] == "customer"
        hit = snippet["hits"][0]
        assert snippet["text"][hit["start"]:hit["end"]] == "工信部"
    assert ids(s, q="宽带") == {"net-a2", "out-a2"}
    assert ids(s, q="宽带 断网") == {"net-a2"}  # every word (AND)
    assert ids(s, q="宽带 工信部") == set()
    # jieba cuts 这个月话费 as 这个/月话费: a search for 话费 still finds it, looking inside words
    assert ids(s, q="话费") == {"bill-a1", "angry-b7"}
    assert ids(s, q="话费", agent="A1") == {"bill-a1"}  # search and filters together
    assert ids(s, q="没有这个词语") == set()
    # the index holds masked text: a phone number is not searchable, for anyone
    assert ids(s, q=PHONE) == set()


def test_paging_and_totals(any_db):
    seen: list[str] = []
    with any_db["server"].client() as c:
        for page, size in ((1, 10), (2, 10), (3, 3), (4, 0)):
            body = c.get("/api/calls", params={"agent": "Z9", "page": page, "page_size": 10}).json()
            assert body["total"] == 23 and body["page"] == page and len(body["items"]) == size
            seen += [i["call_id"] for i in body["items"]]
    assert sorted(seen) == [f"bulk-{i:02d}" for i in range(23)]  # no call twice, none left out


@pytest.mark.parametrize(("sort", "order"), [("risk_score", "asc"), ("risk_score", "desc"), ("duration_s", "desc"),
                                             ("started_at", "asc"), ("qa_score", "desc")])
def test_sort_order(any_db, sort, order):
    with any_db["server"].client() as c:
        items = c.get("/api/calls", params={"sort": sort, "order": order, "page_size": 200}).json()["items"]
    values = [i[sort] for i in items]
    known = [v for v in values if v is not None]
    assert values[:len(known)] == known  # calls without a value come last
    assert known == sorted(known, reverse=order == "desc")
    if sort == "qa_score":
        assert values[-1] is None  # old-b7 and the paging calls have no QA


def test_agents_see_only_their_own_calls(calls, tokens):
    s = calls["server"]
    assert ids(s, tokens["a1"]) == {"bill-a1", "plan-a1"}
    assert ids(s, tokens["a1"], q="话费") == {"bill-a1"}
    with s.client(tokens["a1"]) as c:
        assert c.get("/api/calls", params={"agent": "A2"}).status_code == 403
        assert c.get("/api/calls", params={"agent": "A1"}).status_code == 200
        assert c.get("/api/calls/bill-a1").status_code == 200
        r = c.get("/api/calls/net-a2")
        assert r.status_code == 403 and "another agent" in r.json()["detail"]
        assert c.get("/api/calls/demo-fin-0001/audio").status_code == 403
        assert c.get("/api/calls/no-such-call").status_code == 404
    with s.client(tokens["a2"]) as c:
        assert c.get("/api/calls/net-a2").status_code == 200
        assert c.get("/api/calls/bill-a1").status_code == 403
    with s.client(None) as anonymous:
        assert anonymous.get("/api/calls").status_code == 401
        assert anonymous.get("/api/calls/bill-a1").status_code == 401


def test_one_call_with_transcript_and_findings(any_db):
    demo = any_db["demo"]
    with any_db["server"].client() as c:
        r = c.get("/api/calls/demo-fin-0001")
        assert r.status_code == 200
        body = r.json()
        assert c.get("/api/calls/no-such-call").status_code == 404
    assert body["agent_id"] == "B021" and body["customer_id"] == "C900201" and body["industry"] == "bank"
    assert body["started_at"] == "2026-11-05T13:27:09+08:00" and body["day"] == "2026-11-05"
    assert body["audio_url"] == "/api/calls/demo-fin-0001/audio" and body["pii_masked"] is False
    assert [t["text"] for t in body["transcript"]] == [t["text"] for t in demo["turns"]]
    assert [t["index"] for t in body["transcript"]] == list(range(len(demo["turns"])))
    findings = body["findings"]
    for key in ("reasons", "script_points", "competitors", "lead", "sentiment", "qa", "complaint_risk", "outcome"):
        assert findings[key] == demo[key], key
    assert findings["pii"] == demo["pii"]  # admin sees the values
    assert findings["reviewed_qa"] is None  # nothing reviewed
    assert body["path"] == demo["path"] and body["history"] == demo["history"]


def test_pii_masked_without_the_right(calls, tokens):
    s = calls["server"]
    names = [p["text"] for p in calls["demo"]["pii"]]
    assert names  # the real analysis found PII in demo-fin-0001 (a name and id digits)
    for token in (tokens["qa"], tokens["a2"]):
        with s.client(token) as c:
            body = c.get("/api/calls/net-a2").json()
        assert body["pii_masked"] is True
        assert body["transcript"][1]["text"] == f"我的手机号是{PHONE_MASKED}，家里宽带断网三天了。"
        assert PHONE not in json.dumps(body, ensure_ascii=False)  # nor in the lead's evidence
        assert body["findings"]["lead"]["evidence"] == f"手机号{PHONE_MASKED}"
        assert body["findings"]["pii"] == [{"turn": 1, "kind": "phone", "char_start": 6, "char_end": 17,
                                            "masked": PHONE_MASKED, "score": 0.9}]
    with s.client(tokens["qa"]) as c:
        demo = c.get("/api/calls/demo-fin-0001").text
        assert not any(value in demo for value in names)
        snippet = c.get("/api/calls", params={"q": "宽带 断网"}).json()["items"][0]["snippets"][0]
        assert PHONE_MASKED in snippet["text"] and PHONE not in snippet["text"]
    for token in (None, tokens["qa_pii"]):  # admin (default token) and a QA with the right
        with s.client(token) if token else s.client() as c:
            body = c.get("/api/calls/net-a2").json()
            assert body["pii_masked"] is False and PHONE in body["transcript"][1]["text"]
            assert body["findings"]["pii"][0]["text"] == PHONE
            snippet = c.get("/api/calls", params={"q": "宽带 断网"}).json()["items"][0]["snippets"][0]
            assert PHONE in snippet["text"]
            assert all(value in c.get("/api/calls/demo-fin-0001").text for value in names)


def test_audio_with_range_requests(calls):
    data = calls["audio"]
    with calls["server"].client() as c:
        r = c.get("/api/calls/demo-fin-0001/audio")
        assert r.status_code == 200 and r.content == data
        assert r.headers["content-type"] == "audio/mpeg" and r.headers["accept-ranges"] == "bytes"
        r = c.get("/api/calls/demo-fin-0001/audio", headers={"Range": "bytes=1000-1999"})
        assert r.status_code == 206 and r.content == data[1000:2000]
        assert r.headers["content-range"] == f"bytes 1000-1999/{len(data)}"
        r = c.get("/api/calls/demo-fin-0001/audio", headers={"Range": f"bytes=-{100}"})
        assert r.status_code == 206 and r.content == data[-100:]
        assert c.get("/api/calls/demo-fin-0001/audio",
                     headers={"Range": f"bytes={len(data) + 10}-"}).status_code == 416
        r = c.get("/api/calls/bill-a1/audio")  # stored from a transcript: no recording
        assert r.status_code == 404 and "no recording" in r.json()["detail"]
        assert c.get("/api/calls/no-such-call/audio").status_code == 404


def test_bad_parameters_are_named(calls):
    with calls["server"].client() as c:
        for params, word in (({"page_size": 201}, "page_size"), ({"page": 0}, "page"), ({"sort": "agent"}, "sort"),
                             ({"agnet": "A1"}, "agnet"), ({"risk_min": 2}, "risk_min"),
                             ({"date_from": "2026-10-22", "date_to": "2026-10-20"}, "date_from"),
                             ({"date_from": "yesterday"}, "date_from"), ({"q": "，，。"}, "no word"),
                             ({"review": "maybe"}, "review")):
            r = c.get("/api/calls", params=params)
            assert r.status_code == 422, params
            assert word in r.text, (params, r.text)
