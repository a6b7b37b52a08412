"""Review and appeal (复核/申诉) against the real server, on SQLite and on PostgreSQL: a reviewer
confirms and rejects findings, the agent appeals on their own call (another agent cannot), a senior
reviewer rules, every step is kept with who and when, agreement per rule is exact, and the reviewed
analyses give the points back. The server tests build on each other in file order (one server per
database, the agreement figures count every review made before them)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from api.storage.models import ReviewEvent
from api.storage.reviews import finding_id, reviewed_analyses, reviewed_qa, rule_dimensions
from api.storage.session import Database

CORPUS = Path("/work/shared/corpus/calls")
if not CORPUS.is_dir():
    CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "calls"
CALLS = ("tel-in-0007", "tel-in-0058", "tel-in-0013", "tel-in-0019", "fin-in-0025")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def srv(request):
    """The real server, on SQLite and on PostgreSQL (skipped, saying why, where it is not installed)."""
    return request.getfixturevalue("server" if request.param == "sqlite" else "pg_server")


@pytest.fixture(scope="module")
def db(srv) -> Database:
    database = Database(srv.db_url or f"sqlite:///{srv.data_dir / 'callscope.db'}")
    yield database
    database.engine.dispose()


@pytest.fixture(scope="module")
def machine() -> dict[str, dict]:
    """Corpus calls with QA violations, analysed here (once for both databases)."""
    from api.analysis import Analyzer
    from callscope.types import Conversation

    analyzer = Analyzer.load()
    out = {}
    for name in CALLS:
        raw = json.loads((CORPUS / f"{name}.json").read_text(encoding="utf-8"))
        out[name] = analyzer.analyze(Conversation.from_dict(raw))
    return out


@pytest.fixture(scope="module")
def analyses(db, machine) -> dict[str, dict]:
    """The analyses, stored in the server's database."""
    from api.storage.calls import save_analysis

    with db.session() as session:
        for analysis in machine.values():
            save_analysis(session, analysis)
    return machine


@pytest.fixture(scope="module")
def tokens(srv) -> dict[str, str]:
    return {"qa": srv.token("rev-qa", "qa"), "senior": srv.token("rev-senior", "qa", senior=True),
            "a029": srv.token("rev-a029", "agent", agent_id="A029"),
            "a041": srv.token("rev-a041", "agent", agent_id="A041"),
            "sales": srv.token("rev-sales", "sales")}


def post(server, token: str, path: str, body: dict):
    with server.client(token) as c:
        return c.post(path, json=body)


def get(server, token: str, path: str):
    with server.client(token) as c:
        return c.get(path)


def test_the_corpus_calls_have_the_findings_the_flow_uses(analyses):
    """The known answers below rest on these machine results (telecom_inbound / bank_inbound books)."""
    assert [finding_id(v) for v in analyses["tel-in-0007"]["qa"]["violations"]] == [
        "identity_not_checked@4", "taboo_words@12"]
    assert analyses["tel-in-0007"]["qa"]["score"] == 65
    assert analyses["tel-in-0007"]["agent_id"] == "A029"
    assert [finding_id(v) for v in analyses["fin-in-0025"]["qa"]["violations"]] == [
        "over_promise@6", "wealth_risk_not_disclosed@2"]
    assert analyses["fin-in-0025"]["qa"]["score"] == 75  # compliance 25 - 20 - 20, kept at 0


def test_review_appeal_ruling_flow(srv, analyses, tokens):
    call = "/api/calls/tel-in-0007"
    thread = get(srv, tokens["qa"], f"{call}/reviews").json()
    assert {f["finding"]: f["state"] for f in thread["findings"]} == {"identity_not_checked@4": "machine",
                                                                      "taboo_words@12": "machine"}
    assert (thread["machine_score"], thread["score"], thread["reviewed"]) == (65, 65, False)

    # reviewer confirms one finding, overturns the other (the 20 points of 服务禁语 come back)
    r = post(srv, tokens["qa"], f"{call}/findings/identity_not_checked@4/review",
             {"verdict": "right", "comment": "确实未核实身份"})
    assert r.status_code == 201, r.text
    assert (r.json()["state"], r.json()["score"]) == ("reviewed_right", 65)
    r = post(srv, tokens["qa"], f"{call}/findings/taboo_words@12/review",
             {"verdict": "wrong", "comment": "引导客户去营业厅, 不是推诿"})
    assert (r.json()["state"], r.json()["score"]) == ("reviewed_wrong", 85)

    # roles: agents and sales do not review; the agent appeals only on own calls, with a comment
    assert post(srv, tokens["a029"], f"{call}/findings/taboo_words@12/review", {"verdict": "right"}).status_code == 403
    assert post(srv, tokens["sales"], f"{call}/findings/taboo_words@12/review", {"verdict": "right"}).status_code == 403
    assert post(srv, tokens["qa"], f"{call}/findings/identity_not_checked@4/appeal",
                {"comment": "x"}).status_code == 403
    assert post(srv, tokens["a041"], f"{call}/findings/identity_not_checked@4/appeal",
                {"comment": "不是我的通话"}).status_code == 403
    assert post(srv, tokens["a029"], f"{call}/findings/identity_not_checked@4/appeal", {}).status_code == 422
    assert post(srv, tokens["a029"], f"{call}/findings/identity_not_checked@4/appeal",
                {"comment": "   "}).status_code == 422
    r = post(srv, tokens["a029"], f"{call}/findings/identity_not_checked@4/appeal",
             {"comment": "客户是来电号码本人, 系统已自动核验"})
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "appealed"
    assert post(srv, tokens["a029"], f"{call}/findings/identity_not_checked@4/appeal",
                {"comment": "再次申诉"}).status_code == 409  # one open appeal at a time

    # ruling: senior only, only on an open appeal
    ruling = {"verdict": "wrong", "comment": "来电号码已自动核验, 申诉成立"}
    assert post(srv, tokens["qa"], f"{call}/findings/identity_not_checked@4/ruling", ruling).status_code == 403
    assert post(srv, tokens["a029"], f"{call}/findings/identity_not_checked@4/ruling", ruling).status_code == 403
    r = post(srv, tokens["senior"], f"{call}/findings/taboo_words@12/ruling", ruling)
    assert r.status_code == 409 and "no open appeal" in r.json()["detail"]
    r = post(srv, tokens["senior"], f"{call}/findings/identity_not_checked@4/ruling", ruling)
    assert r.status_code == 201, r.text
    assert (r.json()["state"], r.json()["score"]) == ("overturned", 100)  # ruling beats the review
    # the ruling is final
    assert post(srv, tokens["qa"], f"{call}/findings/identity_not_checked@4/review",
                {"verdict": "right"}).status_code == 409
    assert post(srv, tokens["a029"], f"{call}/findings/identity_not_checked@4/appeal",
                {"comment": "again"}).status_code == 409

    # the thread: every step with who and when, and the current state; the agent sees own call only
    thread = get(srv, tokens["a029"], f"{call}/reviews").json()
    assert thread["reviewed"] is True and thread["score"] == 100 and thread["machine_score"] == 65
    by_id = {f["finding"]: f for f in thread["findings"]}
    steps = by_id["identity_not_checked@4"]["events"]
    assert [(e["action"], e["verdict"], e["actor"]) for e in steps] == [
        ("review", "right", "rev-qa"), ("appeal", None, "rev-a029"), ("ruling", "wrong", "rev-senior")]
    assert steps[1]["comment"] == "客户是来电号码本人, 系统已自动核验"
    times = [datetime.fromisoformat(e["at"]) for e in steps]
    assert times == sorted(times) and all(t.tzinfo is not None for t in times)
    assert by_id["identity_not_checked@4"]["state"] == "overturned"
    assert by_id["identity_not_checked@4"]["verdict"] == "wrong"
    assert by_id["taboo_words@12"]["state"] == "reviewed_wrong"
    assert [e["actor"] for e in by_id["taboo_words@12"]["events"]] == ["rev-qa"]
    assert get(srv, tokens["a041"], f"{call}/reviews").status_code == 403

    # every step is audited
    with srv.client() as admin:
        audit = [(e["action"], e["target"], e["actor"]) for e in admin.get("/api/audit", params={"limit": 200}).json()]
    for entry in [("review.review", "call:tel-in-0007/finding:taboo_words@12", "rev-qa"),
                  ("review.appeal", "call:tel-in-0007/finding:identity_not_checked@4", "rev-a029"),
                  ("review.ruling", "call:tel-in-0007/finding:identity_not_checked@4", "rev-senior")]:
        assert entry in audit


def test_appeal_upheld(srv, analyses, tokens):
    call = "/api/calls/tel-in-0058"
    assert post(srv, tokens["qa"], f"{call}/findings/taboo_words@2/review", {"verdict": "right"}).status_code == 201
    assert post(srv, tokens["a029"], f"{call}/findings/taboo_words@2/appeal",
                {"comment": "语气正常"}).status_code == 201
    r = post(srv, tokens["senior"], f"{call}/findings/taboo_words@2/ruling", {"verdict": "right", "comment": "维持"})
    assert (r.json()["state"], r.json()["score"]) == ("upheld", 80)


def test_bad_requests_name_the_problem(srv, analyses, tokens):
    r = post(srv, tokens["qa"], "/api/calls/tel-in-0007/findings/no_such_rule@3/review", {"verdict": "right"})
    assert r.status_code == 404
    assert "no_such_rule@3" in r.json()["detail"] and "taboo_words@12" in r.json()["detail"]
    r = post(srv, tokens["qa"], "/api/calls/no-such-call/findings/taboo_words@12/review", {"verdict": "right"})
    assert r.status_code == 404 and "no-such-call" in r.json()["detail"]
    assert get(srv, tokens["qa"], "/api/calls/no-such-call/reviews").status_code == 404
    assert post(srv, tokens["qa"], "/api/calls/tel-in-0019/findings/taboo_words@6/review",
                {"verdict": "maybe"}).status_code == 422
    assert post(srv, tokens["qa"], "/api/calls/tel-in-0019/findings/taboo_words@6/review",
                {"verdict": "right", "score": 3}).status_code == 422
    assert post(srv, tokens["qa"], "/api/calls/tel-in-0019/findings/taboo_words@6/ruling",
                {"verdict": "right", "comment": "x"}).status_code == 403  # not senior
    assert post(srv, tokens["qa"], "/api/calls/tel-in-0019/findings/taboo_words@6/review",
                {"verdict": "right", "comment": "a\x00b"}).status_code == 422  # PostgreSQL cannot store NUL
    assert post(srv, tokens["qa"], "/api/calls/tel-in-0019/score", {"adjustment": 1000}).status_code == 422
    assert post(srv, tokens["a041"], "/api/calls/tel-in-0019/score", {"adjustment": 5}).status_code == 403
    thread = get(srv, tokens["qa"], "/api/calls/tel-in-0019/reviews").json()
    assert thread["reviewed"] is False and all(f["events"] == [] for f in thread["findings"])  # nothing stored


def test_agreement_per_rule_and_reviewed_scores(srv, db, analyses, tokens):
    # more reviews (tel-in-0007 already has taboo_words wrong, identity_not_checked right)
    # (tel-in-0058: taboo_words reviewed right, appealed, upheld)
    steps = [("tel-in-0013", "taboo_words@6", "right", None),
             ("tel-in-0013", "taboo_words@6", "wrong", None),  # a re-review replaces the first
             ("fin-in-0025", "over_promise@6", "wrong", None),
             ("fin-in-0025", "wealth_risk_not_disclosed@2", "right", 2)]
    for call, finding, verdict, adjustment in steps:
        r = post(srv, tokens["qa"], f"/api/calls/{call}/findings/{finding}/review",
                 {"verdict": verdict, "score_adjustment": adjustment})
        assert r.status_code == 201, r.text
    assert post(srv, tokens["qa"], "/api/calls/fin-in-0025/score", {"adjustment": -3}).status_code == 201
    r = post(srv, tokens["qa"], "/api/calls/fin-in-0025/score", {"adjustment": -5, "comment": "通话态度"})
    assert r.status_code == 201
    # over_promise removed: compliance 25 - 20 = 5 -> 80 (not 75 + 20: the dimension was clamped at 0);
    # +2 while wealth_risk stands, -5 per call (replacing -3)
    assert r.json()["score"] == 77

    rows = get(srv, tokens["qa"], "/api/reviews/agreement").json()
    assert [(r["rule"], r["reviewed"], r["confirmed"], r["agreement"]) for r in rows] == [
        ("over_promise", 1, 0, 0.0), ("taboo_words", 3, 1, 0.3333),
        ("identity_not_checked", 1, 1, 1.0), ("wealth_risk_not_disclosed", 1, 1, 1.0)]
    by_rule = {r["rule"]: r for r in rows}
    assert (by_rule["identity_not_checked"]["appealed"], by_rule["identity_not_checked"]["overturned"]) == (1, 1)
    assert by_rule["taboo_words"]["appealed"] == 1 and by_rule["taboo_words"]["overturned"] == 0  # tel-in-0058 upheld
    assert get(srv, tokens["a029"], "/api/reviews/agreement").status_code == 403

    with db.session() as session:
        out = reviewed_analyses(session, dict(analyses))
        assert rule_dimensions(session, "telecom_inbound")["taboo_words"] == "attitude"
    assert out["tel-in-0019"] is analyses["tel-in-0019"]  # no review: unchanged
    qa = out["tel-in-0007"]["qa"]
    assert (qa["score"], qa["reviewed"], qa["violations"]) == (100, True, [])
    assert sorted(qa["review"]["removed"]) == ["identity_not_checked@4", "taboo_words@12"]
    assert analyses["tel-in-0007"]["qa"]["score"] == 65  # the input is not modified
    qa = out["fin-in-0025"]["qa"]
    assert qa["score"] == 77 and qa["dimensions"]["compliance"]["score"] == 5.0
    assert [v["rule"] for v in qa["violations"]] == ["wealth_risk_not_disclosed"]
    assert qa["violations"][0]["review_state"] == "reviewed_right"
    assert out["tel-in-0058"]["qa"]["score"] == 80  # upheld: stands
    assert out["tel-in-0013"]["qa"]["score"] == 100


# ---------------------------------------------------------------- reviewed_qa on hand-made results


def _event(i: int, finding: str, action: str, verdict: str | None = None, adjustment: float | None = None):
    return ReviewEvent(id=i, call_id="c", finding=finding, rule=finding.split("@")[0], action=action,
                       verdict=verdict, score_adjustment=adjustment, actor="t")


def _qa(violations, dims, score, fatal=False):
    return {"rulebook": "b", "score": score, "fatal": fatal, "violations": violations,
            "dimensions": {k: {"name": k, "weight": w, "score": s} for k, (w, s) in dims.items()}}


def _v(rule, turn, points, *, fatal=False, effect="deduct"):
    return {"rule": rule, "turn": turn, "points": points, "fatal": fatal, "effect": effect}


def test_removing_the_fatal_finding_lifts_the_zero():
    qa = _qa([_v("leak", 3, 10, fatal=True), _v("rude", 5, 5)], {"overall": (100, 85)}, 0, fatal=True)
    dims = {"leak": "overall", "rude": "overall"}
    out = reviewed_qa(qa, [_event(1, "leak@3", "review", "wrong")], dims)
    assert (out["score"], out["fatal"], out["dimensions"]["overall"]["score"]) == (95, False, 95.0)
    # a fatal finding standing keeps 0 whatever the adjustments
    out = reviewed_qa(qa, [_event(1, "rude@5", "review", "wrong"), _event(2, "*", "score", adjustment=30)], dims)
    assert (out["score"], out["fatal"]) == (0, True)


def test_bonus_and_clamping_and_fallback():
    qa = _qa([_v("warm", 1, 5, effect="add"), _v("rude", 2, 30), _v("late", 9, 10)],
             {"attitude": (50, 25), "closing": (50, 40)}, 65)
    dims = {"warm": "attitude", "rude": "attitude", "late": "closing"}
    # removing the bonus: attitude 50 + 0 - 30 = 20 -> (20 + 40) / 100
    assert reviewed_qa(qa, [_event(1, "warm@1", "review", "wrong")], dims)["score"] == 60
    # score adjustments keep the result within 0..100
    events = [_event(1, "rude@2", "review", "wrong"), _event(2, "late@9", "review", "wrong"),
              _event(3, "*", "score", adjustment=20)]
    assert reviewed_qa(qa, events, dims)["score"] == 100
    # an adjustment on a finding judged wrong does not count (its points are already given back)
    events = [_event(1, "late@9", "review", "right", 4), _event(2, "late@9", "appeal"),
              _event(3, "late@9", "ruling", "wrong")]
    out = reviewed_qa(qa, events, dims)
    assert (out["score"], out["review"]["adjustment"]) == (75, 0.0)
    # rule dimensions unknown: the removed finding's points are given back on the total
    assert reviewed_qa(qa, [_event(1, "late@9", "review", "wrong")], None)["score"] == 75
    # nothing judged wrong, no adjustment: the machine's score
    out = reviewed_qa(qa, [_event(1, "rude@2", "review", "right")], dims)
    assert (out["score"], out["reviewed"], len(out["violations"])) == (65, True, 3)
