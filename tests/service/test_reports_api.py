"""The insight reports and the daily lists over the real server: known answers on constructed calls,
the calls each report reads by default, the same report the CLI builds, CSV and XLSX downloads that
read back to the JSON rows, roles, and PII masked in quotes for callers without the right. The
reports' answers are checked on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from api.reports import cell, report_builders
from api.storage.calls import save_analysis
from api.storage.session import Database
from models.insights.calls import record_from_analysis
from models.risk import load_risk
from models.store import DEFAULT_MODEL
from tests.insights.factory import make_call

PHONE, PHONE_MASKED = "13812345678", "138****5678"
IVR_FAIL = [{"channel": "ivr", "node": "1", "name": "话费查询", "result": "fail"},
            {"channel": "ivr", "node": "0", "name": "转人工", "result": "transfer"}]
NAMES = ("voice", "handle-time", "script-map", "risk", "leads", "competitors", "ivr")


def analyses() -> list[dict]:
    """Calls from 2026-09-01 to 2026-10-22 with known list and report answers (see the tests)."""
    lead_c2 = make_call(
        "lead-c2", day="2026-10-21", time="10:00:00", agent="A1", customer="C2",
        turns=[("agent", "您好", 0, 2), ("customer", f"我的手机号是{PHONE}，想办一个流量包。", 2, 8)],
        reasons=[("data_plan", [1], 6.0)], lead={"intent": "high", "product": "流量包", "score": 0.9, "turns": [1]},
        complaint_risk=0.1,
        pii=[{"turn": 1, "kind": "phone", "char_start": 6, "char_end": 17, "text": PHONE, "masked": PHONE_MASKED}])
    lead_c2["turns"][1]["masked_text"] = lead_c2["turns"][1]["text"].replace(PHONE, PHONE_MASKED)
    return [
        make_call("old-c9", day="2026-09-01", agent="A1", customer="C9", reasons=[("bill_dispute", [1], 3.0)],
                  competitors=[{"turn": 1, "brand": "中国移动", "dimension": "price"}], complaint_risk=0.2),
        make_call("complaint-c8", day="2026-10-01", agent="A2", customer="C8",
                  reasons=[("service_complaint", [1], 3.0)], complaint_risk=0.2),
        make_call("lead-c8", day="2026-10-21", time="09:00:00", agent="A2", customer="C8",
                  turns=[("agent", "您好", 0, 2), ("customer", "家里想装宽带。", 2, 5)],
                  reasons=[("broadband", [1], 3.0)],
                  lead={"intent": "high", "product": "宽带", "score": 0.85, "turns": [1]}, complaint_risk=0.1),
        lead_c2,
        make_call("lead-risky-c7", day="2026-10-21", time="11:00:00", agent="A1", customer="C7",
                  turns=[("agent", "您好", 0, 2), ("customer", "宽带可以便宜点吗？不然我要投诉。", 2, 6)],
                  reasons=[("broadband", [1], 4.0)],
                  lead={"intent": "medium", "product": "宽带", "score": 0.7, "turns": [1]}, complaint_risk=0.8),
        make_call("bill-c1", day="2026-10-20", agent="A1", customer="C1", path=IVR_FAIL,
                  turns=[("agent", "您好", 0, 2), ("customer", "话费多扣了，联通都没这么贵。", 2, 7)],
                  reasons=[("bill_dispute", [1], 5.0)],
                  competitors=[{"turn": 1, "brand": "中国联通", "dimension": "price"}], complaint_risk=0.8),
        make_call("angry-c5", day="2026-10-22", time="16:00:00", agent="B7", customer="C5", path=IVR_FAIL,
                  turns=[("agent", "您好", 0, 2), ("customer", "乱扣费，我要去工信部投诉！", 2, 8)],
                  reasons=[("bill_dispute", [1], 4.0), ("service_complaint", [1], 2.0)], complaint_risk=0.95),
        make_call("calm-c5", day="2026-10-22", time="09:00:00", agent="B7", customer="C5",
                  reasons=[("bill_dispute", [1], 3.0)], complaint_risk=0.5),
        make_call("out-c4", day="2026-10-22", time="15:00:00", direction="outbound", agent="A2", customer="C4",
                  turns=[("agent", "您好，这里是营业厅。", 0, 3), ("agent", "千兆宽带现在有优惠。", 3, 6),
                         ("customer", "电信那边才五十块。", 6, 9), ("agent", "那我帮您办理。", 9, 11)],
                  reasons=[("upgrade_offer", [0, 1, 2, 3], 11.0)],
                  script_points=[(0, "greeting"), (1, "product_pitch"), (3, "closing")],
                  competitors=[{"turn": 2, "brand": "中国电信", "dimension": "price"}], outcome="success",
                  complaint_risk=0.3),
    ]


def seed(server):
    """Store the calls in the server's database, as finished jobs would; returns the server."""
    db = Database(server.db_url or f"sqlite:///{(server.data_dir / 'callscope.db').resolve()}")
    try:
        with db.session() as session:
            for analysis in analyses():
                save_analysis(session, analysis)
    finally:
        db.engine.dispose()
    return server


@pytest.fixture(scope="module")
def stored(server):
    """The SQLite server with the calls stored."""
    return seed(server)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def any_db(request):
    """The same calls on each database (the windows of call days are queries)."""
    if request.param == "sqlite":
        return request.getfixturevalue("stored")
    return seed(request.getfixturevalue("pg_server"))


@pytest.fixture(scope="module")
def tokens(server):
    return {"qa": server.token("rep-qa", "qa"), "sales": server.token("rep-sales", "sales"),
            "agent": server.token("rep-agent", "agent", agent_id="A1")}


def get(server, path, token=None, **params):
    with server.client(token) if token else server.client() as c:
        r = c.get(path, params=params)
    assert r.status_code == 200, (path, params, r.text)
    return r


def expected(name: str, day: date, first: date) -> dict:
    """The report as the CLI's builders make it from the calls of days [first, day]."""
    records = [record_from_analysis(a) for a in analyses() if first.isoformat() <= a["started_at"][:10] <= day.isoformat()]
    records.sort(key=lambda r: (r.started_at, r.call_id))
    built = report_builders()[name](records, day, {"risk_model": load_risk(DEFAULT_MODEL)})
    return json.loads(json.dumps(built.to_dict(), ensure_ascii=False, default=str))


def test_risk_list_has_known_answers(any_db):
    stored = any_db
    body = get(stored, "/api/reports/risk", date="2026-10-22").json()
    assert body["window"] == {"first": "2026-10-22", "last": "2026-10-22", "day": "2026-10-22", "calls": 3,
                              "skipped": 0}
    top = body["tables"]["top"]
    assert [(r["customer_id"], r["call_id"], r["score"], r["calls_today"]) for r in top] == [
        ("C5", "angry-c5", 0.95, 2), ("C4", "out-c4", 0.3, 1)]
    assert body["columns"]["top"][:3] == ["rank", "customer_id", "call_id"]
    assert len(get(stored, "/api/reports/risk", date="2026-10-22", top=1).json()["tables"]["top"]) == 1
    # no date: the latest call day stored
    assert get(stored, "/api/reports/risk").json()["window"]["day"] == "2026-10-22"
    assert get(stored, "/api/lists/risk", date="2026-10-22").json()["tables"] == body["tables"]
    empty = get(stored, "/api/lists/risk", date="2030-01-01").json()
    assert empty["tables"]["top"] == [] and empty["window"]["calls"] == 0


def test_lead_list_applies_do_not_disturb_over_history(any_db):
    stored = any_db
    body = get(stored, "/api/lists/leads", date="2026-10-21").json()
    assert body["window"]["first"] == "2026-09-21"  # the rules look 30 days back
    assert [(r["customer_id"], r["product"]) for r in body["tables"]["leads"]] == [("C2", "流量包")]
    held = {r["customer_id"]: r["rules"] for r in body["tables"]["suppressed"]}
    assert held == {"C8": ["recent_complaint"], "C7": ["complaint_risk"]}
    # limiting the calls read (the complaint of 2026-10-01 left out) frees C8's lead
    narrow = get(stored, "/api/reports/leads", date="2026-10-21", date_from="2026-10-15").json()
    assert {r["customer_id"] for r in narrow["tables"]["leads"]} == {"C2", "C8"}


def test_period_reports_read_their_window(any_db):
    stored = any_db
    competitors = get(stored, "/api/reports/competitors", date="2026-10-22").json()
    assert competitors["window"]["first"] == "2026-09-23"
    assert {r["brand"] for r in competitors["tables"]["brands"]} == {"中国联通", "中国电信"}
    wider = get(stored, "/api/reports/competitors", date="2026-10-22", date_from="2026-09-01").json()
    assert {r["brand"] for r in wider["tables"]["brands"]} == {"中国联通", "中国电信", "中国移动"}
    voice = get(stored, "/api/reports/voice", date="2026-10-22").json()
    ranking = {r["code"]: r["calls"] for r in voice["tables"]["ranking"]}
    assert ranking["bill_dispute"] == 3  # bill-c1, angry-c5, calm-c5 (not old-c9 of September)
    assert voice["summary"]["period"] == ["2026-10-16", "2026-10-22"]


@pytest.mark.parametrize("name", NAMES)
def test_each_report_is_the_one_the_cli_builds(any_db, name):
    stored = any_db
    day = date(2026, 10, 22)
    first = {"risk": day, "leads": day - timedelta(days=30), "voice": day - timedelta(days=34)}.get(
        name, day - timedelta(days=29))
    body = get(stored, f"/api/reports/{name}", date=day.isoformat()).json()
    want = expected(name, day, first)
    assert body["window"]["first"] == first.isoformat()
    assert {k: body[k] for k in ("report", "title", "summary", "notes", "tables")} == want
    assert set(body["columns"]) == set(body["tables"])


def test_csv_and_xlsx_read_back_to_the_json_rows(stored):
    for path, table in (("/api/reports/risk", None), ("/api/lists/leads", "suppressed"),
                        ("/api/reports/script-map", "transitions")):
        params = {"date": "2026-10-22" if "leads" not in path else "2026-10-21"}
        body = get(stored, path, **params).json()
        name = table or next(iter(body["tables"]))
        r = get(stored, path, format="csv", **params, **({"table": table} if table else {}))
        assert r.headers["content-type"].startswith("text/csv")
        assert f'{body["report"]}.{name}.csv' in r.headers["content-disposition"]
        assert r.content.startswith("\ufeff".encode())  # BOM: Excel reads the Chinese right
        rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert rows, path
        columns = body["columns"][name]
        assert list(rows[0]) == columns
        assert rows == [{c: "" if row.get(c) is None else str(cell(row.get(c))) for c in columns}
                        for row in body["tables"][name]]
    r = get(stored, "/api/lists/leads", date="2026-10-21", format="xlsx")
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["leads", "suppressed"]
    sheet = list(book["suppressed"].values)
    assert sheet[0][:2] == ("customer_id", "product") and len(sheet) == 3
    with stored.client() as c:
        r = c.get("/api/reports/risk", params={"format": "csv", "table": "nope"})
        assert r.status_code == 422 and "top" in r.json()["detail"]


def test_roles(stored, tokens):
    with stored.client(tokens["agent"]) as c:
        for name in NAMES:
            assert c.get(f"/api/reports/{name}").status_code == 403
        assert c.get("/api/lists/leads").status_code == 403
        assert c.get("/api/reports").json() == []
    with stored.client(tokens["sales"]) as c:
        for name in ("leads", "competitors", "script-map"):
            assert c.get(f"/api/reports/{name}").status_code == 200, name
        for name in ("risk", "voice", "handle-time", "ivr"):
            r = c.get(f"/api/reports/{name}")
            assert r.status_code == 403 and "sales" in r.json()["detail"], name
        assert c.get("/api/lists/leads").status_code == 200
        assert c.get("/api/lists/risk").status_code == 403
        assert {r["name"] for r in c.get("/api/reports").json()} == {"leads", "competitors", "script-map"}
    with stored.client(tokens["qa"]) as c:
        for name in NAMES:
            assert c.get(f"/api/reports/{name}").status_code == 200, name
        assert c.get("/api/lists/risk").status_code == 200
    with stored.client(None) as c:
        assert c.get("/api/reports/risk").status_code == 401


def test_pii_masked_in_lists_without_the_right(stored, tokens):
    masked = get(stored, "/api/lists/leads", tokens["sales"], date="2026-10-21")
    assert PHONE not in masked.text and PHONE_MASKED in masked.json()["tables"]["leads"][0]["evidence"]
    csv_text = get(stored, "/api/lists/leads", tokens["sales"], date="2026-10-21", format="csv").text
    assert PHONE not in csv_text and PHONE_MASKED in csv_text
    shown = get(stored, "/api/lists/leads", date="2026-10-21")  # admin
    assert PHONE in shown.json()["tables"]["leads"][0]["evidence"]


def test_bad_parameters_are_named(stored):
    with stored.client() as c:
        for path, params, word in (("/api/reports/nope", {}, "voice"),
                                   ("/api/reports/risk", {"date": "22/10/2026"}, "date"),
                                   ("/api/reports/risk", {"format": "pdf"}, "format"),
                                   ("/api/reports/risk", {"date_from": "2026-10-22", "date_to": "2026-10-01"},
                                    "date_from"),
                                   ("/api/lists/leads", {"date_from": "2026-10-01"}, "date_from"),
                                   ("/api/reports/risk", {"top": 0}, "top")):
            r = c.get(path, params=params)
            assert r.status_code == 422, (path, params, r.text)
            assert word in r.text, (path, params, r.text)
