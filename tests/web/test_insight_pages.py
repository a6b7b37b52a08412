"""Dashboards, lists and the rule editor in a real browser against a real server loaded with 20 corpus
calls: charts drawn and tables matching the API, the lead list exported and matching the API's rows,
roles, a broken regex shown at its line, an unsaved rule tried on a call with its evidence."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import httpx
import pytest

from api.reports import cell as report_cell
from api.web.insight_pages import cell
from tests.service.conftest import ADMIN
from tests.web.conftest import shot, signed_in

CORPUS = Path("/work/shared/corpus/calls")
WINDOW = {"date_from": "2026-10-01", "date_to": "2026-10-31"}
# 20 calls of the three kinds: bank / insurance / e-commerce inbound, outbound sales, telecom inbound
NAMES = sorted(p.name for p in CORPUS.glob("*.json"))[::3][:20]


@pytest.fixture(scope="module")
def loaded(web_server):
    """The server with 20 corpus transcripts uploaded as admin and analysed, and role tokens."""
    files = [("files", (name, (CORPUS / name).read_bytes(), "application/json")) for name in NAMES]
    with web_server.client() as c:
        r = c.post("/api/uploads", files=files)
        assert r.status_code == 202, r.text
        ids = [f["job_id"] for f in r.json()["files"]]
        assert len(ids) == 20 and None not in ids
        deadline = time.monotonic() + 300
        while True:
            states = [c.get(f"/api/jobs/{i}").json()["state"] for i in ids]
            if all(s in ("done", "failed") for s in states) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert states == ["done"] * 20, states
    web_server.tokens = {role: web_server.token(f"{role}-insights", role, **extra) for role, extra in
                         (("qa", {"senior": True, "see_pii": True}), ("sales", {}), ("agent", {"agent_id": "B003"}))}
    return web_server


def api(server, token: str = ADMIN) -> httpx.Client:
    return server.client(token)


def page_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def table(page, selector: str) -> list[dict[str, str]]:
    """The rows of a page table as header -> cell text."""
    heads = page.locator(f"{selector} thead th").all_inner_texts()
    rows = []
    for tr in page.locator(f"{selector} tbody tr").all():
        cells = tr.locator("td").all_inner_texts()
        if len(cells) == len(heads):
            rows.append({h.strip(): c.strip() for h, c in zip(heads, cells, strict=True)})
    return rows


def row_with(rows: list[dict[str, str]], column: str, value: str) -> dict[str, str]:
    found = [r for r in rows if r.get(column) == value]
    assert found, f"no row with {column} = {value!r} in {rows[:3]}"
    return found[0]


def charts_drawn(page) -> int:
    """Wait until every chart box has finished drawing (or says it has nothing to draw); the canvases."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('.chart')].every(el => el.dataset.drawn || el.querySelector('.chart-empty'))")
    return page.locator(".chart canvas").count()


# (report, main table id on the page, API table, column that names the row, [(API column, page header)])
CHECKS = [
    ("voice", "#main-ranking", "ranking", ("reason", "原因"), [("calls", "通话数"), ("share", "占比")]),
    ("handle-time", "#main-reasons", "reasons", ("reason", "原因"), [("calls", "通话数"), ("median_s", "中位时长(秒)")]),
    ("script-map", "#main-points", "points", ("name", "名称"), [("calls_with", "出现通话"), ("success_rate", "成交率")]),
    ("competitors", "#main-brands", "brands", ("brand", "品牌"), [("mentions", "提及次数"), ("calls", "通话数")]),
    ("ivr", "#main-exit_nodes", "exit_nodes", ("label", "标签"), [("transfers", "转人工"), ("share", "占比")]),
]


def test_dashboards_draw_charts_and_tables_match_the_api(page, loaded):
    errors = page_errors(page)
    signed_in(page, loaded)
    query = "&".join(f"{k}={v}" for k, v in WINDOW.items())
    with api(loaded) as c:
        for name, selector, table_name, (key, key_head), columns in CHECKS:
            report = c.get(f"/api/reports/{name}", params=WINDOW).json()
            page.goto(f"{loaded.url}/dashboards/{name}?{query}")
            assert page.locator("#dash-tabs a.on").get_attribute("data-tab") == name
            drawn = charts_drawn(page)
            assert drawn >= 1, f"{name}: no chart drawn"
            assert page.locator(".chart-card").count() == len(report["charts"])
            assert f"通话数 {report['window']['calls']}" in page.locator(".window-read").inner_text()
            rows = table(page, selector)
            expected = report["tables"][table_name]
            assert len(rows) == len(expected) > 0, name
            first = expected[0]
            row = row_with(rows, key_head, str(first[key]))
            for column, head in columns:
                assert row[head] == cell(first[column], column), (name, column, row)
            shot(page, f"dash-{name}")
    assert not errors, errors


def test_qa_dashboard_scores_by_agent_and_reviewer_agreement(page, loaded):
    with api(loaded) as c:
        items = c.get("/api/calls", params={**WINDOW, "page_size": 100}).json()["items"]
        worst = min((i for i in items if i["qa_score"] is not None), key=lambda i: (i["qa_score"], i["call_id"]))
        findings = c.get(f"/api/calls/{worst['call_id']}/reviews").json()["findings"]
        assert findings, worst
    with api(loaded, loaded.tokens["qa"]) as c:
        r = c.post(f"/api/calls/{worst['call_id']}/findings/{findings[0]['finding']}/review", json={"verdict": "right"})
        assert r.status_code == 201, r.text
    agent_scores = [i["qa_score"] for i in items if i["agent_id"] == worst["agent_id"] and i["qa_score"] is not None]

    errors = page_errors(page)
    signed_in(page, loaded, loaded.tokens["qa"])
    page.goto(f"{loaded.url}/dashboards/qa?date_from={WINDOW['date_from']}&date_to={WINDOW['date_to']}")
    assert charts_drawn(page) == 2
    agents = table(page, "#main-agents")
    assert agents[0]["坐席"] == worst["agent_id"]  # lowest mean score first
    row = row_with(agents, "坐席", worst["agent_id"])
    assert row["通话数"] == str(len(agent_scores))
    assert row["平均分"] == cell(sum(agent_scores) / len(agent_scores))
    rules = table(page, "#main-rules")
    rule = row_with(rules, "规则", findings[0]["rule"])
    assert (rule["复核条数"], rule["复核确认"], rule["一致率"]) == ("1", "1", "100.0%")
    assert int(rule["机器命中"]) >= 1
    shot(page, "dash-qa")
    assert not errors, errors


def test_roles(page, loaded):
    sales, agent = loaded.tokens["sales"], loaded.tokens["agent"]
    signed_in(page, loaded, sales)
    page.goto(f"{loaded.url}/dashboards")
    assert page.url.endswith("/dashboards/script-map")
    assert page.locator("#dash-tabs a").evaluate_all("els => els.map(e => e.dataset.tab)") == [
        "script-map", "competitors"]
    page.goto(f"{loaded.url}/lists")
    assert page.locator("#list-leads").count() == 1 and page.locator("#list-risk").count() == 0
    with httpx.Client(base_url=loaded.url, cookies={"callscope_token": sales}, follow_redirects=False) as c:
        assert c.get("/dashboards/voice").status_code == 403
        assert c.get("/dashboards/qa").status_code == 403
        assert c.get("/rules/book/bank_inbound").status_code == 200
        r = c.post("/rules/try", json={"yaml": "name: x", "call_id": "fin-in-0001"})
        assert r.status_code == 403
    with httpx.Client(base_url=loaded.url, cookies={"callscope_token": agent}, follow_redirects=False) as c:
        assert c.get("/dashboards").status_code == 403
        assert c.get("/dashboards/script-map").status_code == 403
        assert c.get("/lists").status_code == 403
        editor = c.get("/rules/book/bank_inbound")
        assert editor.status_code == 200 and "readonly" in editor.text and 'id="save"' not in editor.text
    with httpx.Client(base_url=loaded.url, follow_redirects=False) as anonymous:
        assert anonymous.get("/dashboards/voice").headers["location"] == "/login"
    signed_in(page, loaded, agent)
    page.goto(f"{loaded.url}/dashboards")
    assert "没有可查看的看板" in page.locator("#forbidden").inner_text()


def test_lead_list_exports_the_rows_of_the_api(page, loaded):
    with api(loaded) as c:
        leads = c.get("/api/lists/leads").json()
        risk = c.get("/api/lists/risk").json()
    rows = leads["tables"]["leads"]
    assert rows, "the corpus calls of the latest day carry leads"
    errors = page_errors(page)
    signed_in(page, loaded)
    page.goto(f"{loaded.url}/lists")
    assert page.locator("#list-day select").input_value() == leads["window"]["day"]
    charts_drawn(page)
    shown = table(page, "#table-leads")
    assert [r["客户"] for r in shown] == [r["customer_id"] for r in rows]
    assert [r["客户"] for r in table(page, "#table-risk")] == [r["customer_id"] for r in risk["tables"]["top"]]
    shot(page, "lists")
    with page.expect_download() as download_info:
        page.click("#export-leads-csv")
    download = download_info.value
    assert download.suggested_filename == "leads.leads.csv"
    text = Path(download.path()).read_bytes().decode("utf-8-sig")
    exported = list(csv.DictReader(io.StringIO(text)))
    columns = leads["columns"]["leads"]
    assert list(exported[0]) == columns
    assert exported == [{k: "" if r.get(k) is None else str(report_cell(r.get(k))) for k in columns} for r in rows]
    with page.expect_download() as xlsx_info:
        page.click("#export-leads-xlsx")
    assert xlsx_info.value.suggested_filename == "leads.xlsx"
    assert not errors, errors


def test_rule_editor_shows_a_broken_regex_at_its_line_and_saves(page, loaded):
    original = (Path(__file__).resolve().parents[2] / "qa_rules/rulebooks/bank_inbound.yaml").read_text(encoding="utf-8")
    good = 'pattern: "(我|我们)(给|跟|向)'
    assert good in original
    broken = original.replace(good, 'pattern: "((我|我们)(给|跟|向)', 1)
    line = next(i + 1 for i, row in enumerate(broken.splitlines()) if "((我|我们)" in row)
    errors = page_errors(page)
    signed_in(page, loaded, loaded.tokens["qa"])
    page.goto(f"{loaded.url}/rules")
    assert "bank_inbound" in page.locator("#rulebooks").inner_text()
    shot(page, "rules")
    page.click("text=bank_inbound")
    page.wait_for_url("**/rules/book/bank_inbound")
    assert page.locator("#text").input_value() == original  # the textarea keeps the file exactly
    page.fill("#text", broken)
    page.click("#validate")
    problem = page.locator(f'#problems li[data-line="{line}"]')
    problem.wait_for()
    assert "E103" in problem.inner_text() and "over_promise" in problem.inner_text()
    assert page.locator("#problems li").count() == 1
    assert page.locator(".gutter .ln.bad").all_inner_texts() == [str(line)]
    assert page.locator(f'.backdrop .ln.bad[data-line="{line}"]').count() == 1
    problem.locator("a.goto").click()
    selected = page.evaluate("() => { const t = document.getElementById('text');"
                             " return t.value.slice(t.selectionStart, t.selectionEnd); }")
    assert selected == broken.splitlines()[line - 1]
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header stays on top of the full-page shot
    shot(page, "rules-error")

    page.click("#save")  # refused: nothing saved, the error stays at its line
    page.wait_for_function("() => document.getElementById('status').textContent.includes('问题')")
    assert page.locator(".gutter .ln.bad").all_inner_texts() == [str(line)]
    with api(loaded) as c:
        assert c.get("/api/rulebooks/bank_inbound").text == original

    fixed = original.replace("description: 银行信用卡/理财呼入客服质检项", "description: 银行呼入质检（页面测试修改）")
    page.fill("#text", fixed)
    page.click("#save")
    page.wait_for_function("() => document.getElementById('status').textContent.includes('已保存')")
    assert page.locator(".gutter .ln.bad").count() == 0
    with api(loaded) as c:
        assert c.get("/api/rulebooks/bank_inbound").text == fixed
        books = {b["name"]: b for b in c.get("/api/rulebooks").json()}
        assert books["bank_inbound"]["source"] == "replaced" and books["bank_inbound"]["updated_by"] == "qa-insights"
    page.goto(f"{loaded.url}/rules")
    assert "qa-insights" in page.locator("#rulebooks").inner_text()
    assert not errors, errors


PROBE = """
  - id: try_probe
    name: 试运行探针
    dimension: opening
    severity: minor
    points: 1
    when:
      keyword: {any: [您好]}
"""


def test_try_an_unsaved_rule_on_a_call(page, loaded):
    errors = page_errors(page)
    signed_in(page, loaded, loaded.tokens["qa"])
    page.goto(f"{loaded.url}/rules/book/bank_inbound")
    saved = page.locator("#text").input_value()
    page.fill("#text", saved.rstrip("\n") + "\n" + PROBE)
    page.select_option("#try-rule", "try_probe")
    page.fill("#try-call", "fin-in-0001")
    page.click("#try-run")
    fired = page.locator('#try-fired tr[data-rule="try_probe"]')
    fired.wait_for()
    evidence = fired.locator(".evidence").inner_text()
    assert "您好" in evidence and "坐席" in evidence
    assert fired.locator("td").last.inner_text() == "新命中"  # not in the stored result
    assert page.locator("#try-fired tbody tr").count() == 1  # only the chosen rule ran
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "rules-try")

    page.select_option("#try-rule", "")  # the whole book: the stored result's rules still fire as before
    page.click("#try-run")
    page.locator("#try-fired").wait_for()
    page.wait_for_function("() => document.querySelectorAll('#try-fired tbody tr').length >= 1")
    with api(loaded) as c:
        stored = c.get("/api/calls/fin-in-0001").json()
        assert "try_probe" not in c.get("/api/rulebooks/bank_inbound").text  # nothing was saved
    before = {f["rule"] for f in (stored["findings"]["qa"] or {}).get("violations") or []}
    ran = set(page.locator("#try-fired tbody tr").evaluate_all("rows => rows.map(r => r.dataset.rule)"))
    assert ran == before | {"try_probe"}

    page.fill("#try-call", "no-such-call")
    page.click("#try-run")
    page.locator("#try-error").wait_for()
    assert "没有这通通话" in page.locator("#try-error").inner_text()
    assert not errors, errors


def test_a_slow_report_is_shown_from_its_previous_build_while_rebuilt(tmp_path):
    """With many calls a report takes seconds: once data changes the page shows the previous build at
    once (marked stale) while one thread rebuilds it; unchanged data is never rebuilt."""
    from types import SimpleNamespace

    from api.storage.calls import save_analysis
    from api.storage.session import Database, upgrade_database
    from api.web.insight_pages import Built, cached_build

    url = f"sqlite:///{tmp_path / 'callscope.db'}"
    upgrade_database(url)
    app = SimpleNamespace(state=SimpleNamespace(db=Database(url)))
    builds: list[str] = []

    def make():
        time.sleep(0.4)  # slower than QUICK_BUILD_S
        builds.append(f"build {len(builds) + 1}")
        return Built("slow", builds[-1])

    key = ("slow-report-test",)
    first = cached_build(app, key, make)
    assert (first.built.title, first.stale) == ("build 1", False)
    assert cached_build(app, key, make).built.title == "build 1" and len(builds) == 1
    with app.state.db.session() as session:
        save_analysis(session, {"call_id": "new-call", "started_at": "2026-10-02T10:00:00+08:00", "turns": []})
    stale = cached_build(app, key, make)
    assert (stale.built.title, stale.stale, stale.at) == ("build 1", True, first.at)
    assert cached_build(app, key, make).stale and len(builds) == 1  # one rebuild at a time
    deadline = time.monotonic() + 10
    while (shown := cached_build(app, key, make)).stale and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (shown.built.title, shown.stale) == ("build 2", False) and builds == ["build 1", "build 2"]
