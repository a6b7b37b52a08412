"""The upload, call list and call pages in a real browser against a real server: upload recordings and
watch them finish, find a call by a word it contains, play from a turn, confirm one finding and
overturn another, appeal as the agent and rule as a senior reviewer, PII masking, agents kept to
their own calls."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.service.conftest import ROOT, wait_final
from tests.web.conftest import shot, signed_in

CORPUS = Path("/work/shared/corpus/calls")
RECORDINGS = [ROOT / "tests/data/short-stereo.wav", ROOT / "tests/data/timing-silence-overlap.wav"]
TRANSCRIPTS = [CORPUS / "tel-in-0007.json", CORPUS / "tel-in-0001.json", ROOT / "demo/calls/demo-out-0001.json"]
FLAGGED = "tel-in-0007"  # agent A029; QA findings: no identity check, a forbidden phrase
FLAGGED_FILE = CORPUS / f"{FLAGGED}.json"
OTHER = "tel-in-0001"  # agent A007
WITH_PII = "demo-out-0001"  # a phone number's last digits (三八五二) in two turns


def upload(client, paths: list[Path], meta: str | None = None) -> list[int]:
    """Upload files through the API; their job ids (duplicates give their earlier job)."""
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in paths]
    r = client.post("/api/uploads", files=files, data={"metadata": meta} if meta else None)
    assert r.status_code == 202, r.text
    return [f["job_id"] for f in r.json()["files"]]


def page_shot(page, name: str) -> None:
    """A full-page screenshot from the top (the sticky header stays where it belongs)."""
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, name)


def wait_done(client, job_ids: list[int], timeout: float = 300.0) -> dict[int, dict]:
    """Wait for the jobs and require every one done."""
    jobs = wait_final(client, job_ids, timeout)
    assert all(j["state"] == "done" for j in jobs.values()), jobs
    return jobs


@pytest.fixture(scope="module")
def server(web_server):
    """The module's server with three transcripts stored (uploaded as admin)."""
    with web_server.client() as c:
        wait_done(c, upload(c, TRANSCRIPTS))
    return web_server


@pytest.fixture(scope="module")
def tokens(server):
    return {
        "qa": server.token("qa-web", "qa"),
        "senior": server.token("senior-web", "qa", senior=True),
        "qa_pii": server.token("qa-pii-web", "qa", see_pii=True),
        "agent": server.token("agent-a029", "agent", agent_id="A029"),
    }


@pytest.fixture(scope="module")
def recorded(server):
    """Call id of the recording the upload test put in (uploaded here through the API when that test
    did not run)."""
    with server.client() as c:
        if c.get("/api/calls/short-stereo").status_code == 404:
            wait_done(c, upload(c, RECORDINGS[:1]))
    return "short-stereo"


def test_upload_recordings_and_watch_them_finish(page, server, tokens):
    signed_in(page, server, tokens["qa"])
    page.goto(f"{server.url}/upload")
    assert page.locator("h1").inner_text() == "上传录音"
    page.fill("input[name=agent_id]", "A026")
    page.fill("input[name=queue]", "流量")
    files = [{"name": p.name, "mimeType": "audio/wav", "buffer": p.read_bytes()} for p in RECORDINGS]
    files += [{"name": "notes.txt", "mimeType": "text/plain", "buffer": "不是录音".encode()},
              {"name": "broken.wav", "mimeType": "audio/wav", "buffer": b"this is not a wav file"}]
    page.set_input_files("#file-input", files)
    assert page.locator("tr.upload-row").count() == 4
    page.click("#upload-start")

    # rejected files say why, in their own row, without stopping the others
    for name, words in (("notes.txt", ".txt is not accepted"), ("broken.wav", "not a WAV file")):
        row = page.locator(f"tr.upload-row[data-file='{name}']")
        row.locator(".state-rejected").wait_for()
        assert words in row.locator(".reason").inner_text()
    # the recordings are transcribed and analysed; the page follows each job until it is done
    for p in RECORDINGS:
        row = page.locator(f"tr.upload-row[data-file='{p.name}']")
        row.locator(".state-done").wait_for(timeout=300_000)
        assert row.locator(".state").inner_text() == "完成"
        assert row.locator(".bar > span").evaluate("e => e.style.width") == "100%"
    link = page.locator(f"tr.upload-row[data-file='{RECORDINGS[0].name}'] a.open-call")
    assert link.get_attribute("href") == "/calls/short-stereo"
    assert "完成 2" in page.locator("#upload-summary").inner_text()
    page_shot(page, "upload")
    with server.client() as c:  # the metadata typed on the page went with the files
        call = c.get("/api/calls/short-stereo").json()
        assert (call["agent_id"], call["queue"]) == ("A026", "流量")
        assert c.get("/api/calls/timing-silence-overlap").json()["findings"]["acoustics"]["silences"]


def test_upload_a_folder_and_a_dropped_file(page, server, tokens, tmp_path):
    folder = tmp_path / "batch"
    (folder / "day2").mkdir(parents=True)
    (folder / FLAGGED_FILE.name).write_bytes(FLAGGED_FILE.read_bytes())  # stored already: a duplicate
    (folder / "day2" / "fin-in-0004.json").write_bytes((CORPUS / "fin-in-0004.json").read_bytes())
    (folder / ".DS_Store").write_bytes(b"\0")  # hidden files are left out
    signed_in(page, server, tokens["qa"])
    page.goto(f"{server.url}/upload")
    page.set_input_files("#folder-input", folder)
    names = sorted(page.locator("tr.upload-row td.file-name").all_inner_texts())
    assert names == ["batch/day2/fin-in-0004.json", f"batch/{FLAGGED_FILE.name}"]
    # a file dropped on the zone joins the list (a DataTransfer made in the page, as a drag would bring)
    page.evaluate("""text => {
        const dt = new DataTransfer();
        dt.items.add(new File([text], "fin-in-0007.json", {type: "application/json"}));
        document.querySelector("#drop-zone").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true}));
    }""", (CORPUS / "fin-in-0007.json").read_text(encoding="utf-8"))
    page.locator("tr.upload-row[data-file='fin-in-0007.json']").wait_for()
    page.click("#upload-start")
    for name in ("fin-in-0004.json", "fin-in-0007.json", FLAGGED_FILE.name):
        page.locator(f"tr.upload-row[data-file='{name}'] .state-done").wait_for(timeout=120_000)
    assert "重复" in page.locator(f"tr.upload-row[data-file='{FLAGGED_FILE.name}'] .result").inner_text()
    with server.client() as c:
        assert c.get("/api/calls/fin-in-0004").status_code == 200 and c.get("/api/calls/fin-in-0007").status_code == 200


def test_search_finds_a_call_by_a_word_and_marks_it(page, server, tokens):
    signed_in(page, server, tokens["qa"])
    page.goto(f"{server.url}/calls")
    assert page.locator("tr.call-row").count() >= 3
    page.fill("#search-box", "携号转网")
    page.press("#search-box", "Enter")
    page.wait_for_url("**/calls?q=*")
    rows = page.locator("tr.call-row")
    ids = [rows.nth(i).get_attribute("data-call") for i in range(rows.count())]
    assert FLAGGED in ids and OTHER not in ids
    marks = page.locator(".snippet mark").all_inner_texts()
    assert marks and all(m in "携号转网" for m in marks) and "转网" in "".join(marks)
    assert page.locator(f"tr.call-row[data-call='{FLAGGED}'] .tag.qa").count() == 2  # its violations listed
    page_shot(page, "calls")

    # a filter and a sort column narrow and order the list on the server
    page.goto(f"{server.url}/calls?violation=no_identity_check")
    assert [r.get_attribute("data-call") for r in page.locator("tr.call-row").all()] == [FLAGGED]
    page.goto(f"{server.url}/calls")
    page.click("th[data-sort=risk_score] a")
    risks = [float(x) for x in page.locator("tr.call-row td.num:nth-child(6)").all_inner_texts() if x.strip()]
    assert risks == sorted(risks, reverse=True) and len(risks) >= 3
    page.click("th[data-sort=risk_score] a")
    risks = [float(x) for x in page.locator("tr.call-row td.num:nth-child(6)").all_inner_texts() if x.strip()]
    assert risks == sorted(risks)

    # from the search to the call, the searched words marked in its transcript
    page.goto(f"{server.url}/calls?q=携号转网")
    page.click(f"tr.call-row[data-call='{FLAGGED}'] .call-id a")
    page.wait_for_url(f"**/calls/{FLAGGED}?q=*")
    assert page.locator("h1").inner_text() == FLAGGED
    assert page.locator(".turn-text mark.hit").count() >= 1


def test_click_a_turn_to_play_from_it(page, server, tokens, recorded):
    signed_in(page, server, tokens["qa"])
    page.goto(f"{server.url}/calls/{recorded}")
    page.wait_for_function("document.querySelector('#call-audio').readyState >= 1")
    turn = page.locator(".turn").nth(2)
    start = float(turn.get_attribute("data-start"))
    assert start > 1
    turn.locator(".turn-text").click()
    now = page.evaluate("document.querySelector('#call-audio').currentTime")
    assert start - 0.05 <= now < start + 2.0
    # both parties apart: agent and customer turns, a timeline row each
    assert page.locator(".turn.role-agent").count() and page.locator(".turn.role-customer").count()
    assert page.locator(".tl-seg.role-agent").count() == page.locator(".turn.role-agent").count()
    page.select_option("#channel-mode", "agent")  # WebAudio: the left channel in both ears
    assert page.evaluate("document.body.dataset.channel") == "agent"

    # silence and overtalk on the timeline of a call that has both
    page.goto(f"{server.url}/calls/timing-silence-overlap")
    assert page.locator(".tl-seg.silence").count() >= 1 and page.locator(".tl-seg.overlap").count() >= 1
    page_shot(page, "call-recording")


def _thread(page, finding: str, state: str | None = None):
    """The review thread of a finding on the call page (in that state, when given)."""
    return page.locator(f"#review-threads .thread[data-finding='{finding}']" + (f"[data-state={state}]" if state else ""))


def test_review_appeal_and_ruling(page, server, tokens):
    with server.client(tokens["qa"]) as c:
        before = c.get(f"/api/calls/{FLAGGED}/reviews").json()
    confirm, overturn = (f["finding"] for f in before["findings"][:2])

    # a QA reviewer confirms one finding and overturns the other
    signed_in(page, server, tokens["qa"])
    page.goto(f"{server.url}/calls/{FLAGGED}")
    page.locator("#review-threads[data-loaded]").wait_for()
    assert page.locator(".turn .badge.qa").count() == 2  # the findings sit on their turns
    page.locator(f"#findings-panel li[data-finding='{confirm}'] a.go-turn").click()
    assert page.locator(".turn.flash").count() == 1
    assert page.locator("#qa-score").inner_text() == f"{before['machine_score']:g}"
    _thread(page, confirm).locator("input[name=comment]").fill("确实没有核实身份")
    _thread(page, confirm).locator("button[data-verdict=right]").click()
    _thread(page, confirm, "reviewed_right").wait_for()
    _thread(page, overturn).locator("input[name=comment]").fill("语境正常，不算禁语")
    _thread(page, overturn).locator("button[data-verdict=wrong]").click()
    _thread(page, overturn, "reviewed_wrong").wait_for()
    with server.client(tokens["qa"]) as c:
        after = c.get(f"/api/calls/{FLAGGED}/reviews").json()
    assert {f["finding"]: f["state"] for f in after["findings"]} == {confirm: "reviewed_right", overturn: "reviewed_wrong"}
    assert after["score"] > before["machine_score"]  # the overturned finding's points are given back
    expect(page.locator("#qa-score")).to_have_text(f"{after['score']:g}")  # the score card follows the review
    expect(page.locator("#scorecard .score-line")).to_contain_text(f"{before['machine_score']:g}")
    expect(page.locator(f".turn .badge[data-finding='{overturn}']")).to_have_attribute("data-state", "reviewed_wrong")
    assert "qa-web" in _thread(page, confirm).locator(".events").inner_text()
    assert "确实没有核实身份" in _thread(page, confirm).inner_text()
    assert "语境正常，不算禁语" in _thread(page, overturn).inner_text()
    page_shot(page, "call")

    # the agent appeals the confirmed finding on their own call (no review buttons for them)
    signed_in(page, server, tokens["agent"])
    page.goto(f"{server.url}/calls/{FLAGGED}")
    page.locator("#review-threads[data-loaded]").wait_for()
    assert page.locator(".review-form").count() == 0 and page.locator("#call-adjust").count() == 0
    _thread(page, confirm).locator("textarea[name=appeal]").fill("我在第3句已经核对过机主姓名")
    _thread(page, confirm).locator("button.appeal").click()
    _thread(page, confirm, "appealed").wait_for()
    assert "我在第3句已经核对过机主姓名" in _thread(page, confirm).locator(".event-appeal").inner_text()
    assert _thread(page, confirm).locator("textarea[name=appeal]").count() == 0  # one open appeal at a time
    page_shot(page, "call-agent")

    # a plain reviewer does not rule; a senior reviewer sees Rule buttons on the open appeal
    signed_in(page, server, tokens["qa"])
    page.goto(f"{server.url}/calls/{FLAGGED}")
    page.locator("#review-threads[data-loaded]").wait_for()
    assert page.locator(".ruling-form").count() == 0
    signed_in(page, server, tokens["senior"])
    page.goto(f"{server.url}/calls/{FLAGGED}")
    page.locator("#review-threads[data-loaded]").wait_for()
    assert page.locator(".ruling-form").count() == 1
    _thread(page, confirm).locator("textarea[name=ruling]").fill("录音中没有核实环节，维持")
    _thread(page, confirm).locator("button.uphold").click()
    _thread(page, confirm, "upheld").wait_for()
    actions = _thread(page, confirm).locator(".event").evaluate_all("es => es.map(e => e.dataset.action)")
    assert actions == ["review", "appeal", "ruling"]
    assert _thread(page, confirm).locator(".review-form, .appeal-form, .ruling-form").count() == 0  # final


def test_agents_see_only_their_own_calls(page, server, tokens):
    signed_in(page, server, tokens["agent"])
    response = page.goto(f"{server.url}/calls/{OTHER}")
    assert response.status == 403
    assert "其他坐席" in page.locator(".call-error").inner_text()
    page_shot(page, "call-403")
    page.goto(f"{server.url}/calls")
    assert [r.get_attribute("data-call") for r in page.locator("tr.call-row").all()] == [FLAGGED]
    assert page.locator("select[name=agent]").count() == 0
    page.goto(f"{server.url}/calls?agent=A007")  # the agent filter is theirs whatever the link says
    assert [r.get_attribute("data-call") for r in page.locator("tr.call-row").all()] == [FLAGGED]
    assert page.goto(f"{server.url}/upload").status == 200
    assert page.locator("#upload-not-allowed").count() == 1 and page.locator("#file-input").count() == 0


def test_pii_masked_unless_the_user_may_see_it(page, server, tokens):
    signed_in(page, server, tokens["qa"])
    page.goto(f"{server.url}/calls/{WITH_PII}")
    text = page.locator("#turns").inner_text()
    assert "三八五二" not in text and "****" in text
    assert page.locator("#pii-masked").count() == 1
    signed_in(page, server, tokens["qa_pii"])
    page.goto(f"{server.url}/calls/{WITH_PII}")
    assert "三八五二" in page.locator("#turns").inner_text()
    assert page.locator("#pii-masked").count() == 0


def test_english_and_bad_filters(page, server, tokens):
    signed_in(page, server, tokens["qa"])
    page.goto(f"{server.url}/calls?lang=en&risk_min=lots&review=maybe&page=x")
    assert page.locator("h1").inner_text() == "Calls"
    problems = page.locator("#calls-problems").inner_text()
    assert "risk_min: lots" in problems and "review: maybe" in problems
    assert page.locator("tr.call-row").count() >= 3  # the bad filters were dropped, not fatal
    page.goto(f"{server.url}/calls/no-such-call")
    assert page.locator(".call-error").get_attribute("data-status") == "404"
