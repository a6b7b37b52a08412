"""Rule books and taxonomy through the real server: read, validate (errors with file, line, rule),
replace (refused with 422 and every problem, or stored as a new version, served back, audited and
in force for the workers through ``active_paths``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from api.config import ServiceConfig
from api.storage.config_files import active_paths
from api.storage.models import ConfigFile
from api.storage.reviews import rule_dimensions
from api.storage.session import Database
from nlp.taxonomy import DEFAULT_TAXONOMY
from qa_rules.loader import RULEBOOK_DIR

TELECOM = (RULEBOOK_DIR / "telecom_inbound.yaml").read_text(encoding="utf-8")
TAXONOMY = DEFAULT_TAXONOMY.read_text(encoding="utf-8")
BUNDLED = sorted(p.stem for p in RULEBOOK_DIR.glob("*.yaml"))
CALL = Path("/work/shared/corpus/calls/tel-in-0007.json")
if not CALL.is_file():
    CALL = Path(__file__).resolve().parents[2] / "corpus" / "calls" / "tel-in-0007.json"


@pytest.fixture(scope="module")
def tokens(server) -> dict[str, str]:
    return {"qa": server.token("cfg-qa", "qa"), "agent": server.token("cfg-agent", "agent", agent_id="A1")}


def yaml_put(server, token, path: str, text: str):
    with server.client(token) as c:
        return c.put(path, content=text.encode("utf-8"), headers={"Content-Type": "application/yaml"})


def yaml_post(server, token, path: str, text: str, **params):
    with server.client(token) as c:
        return c.post(path, content=text.encode("utf-8"), headers={"Content-Type": "text/plain"}, params=params)


def line_of(text: str, needle: str) -> int:
    return next(i + 1 for i, row in enumerate(text.splitlines()) if needle in row)


def config_of(server) -> ServiceConfig:
    return ServiceConfig(data_dir=server.data_dir)


def audit(server) -> list[dict]:
    with server.client() as admin:
        return admin.get("/api/audit", params={"limit": 500}).json()


def test_bundled_books_listed_and_served(server, tokens):
    with server.client(tokens["agent"]) as c:
        books = c.get("/api/rulebooks").json()
        assert [(b["name"], b["source"], b["version"]) for b in books] == [(n, "bundled", None) for n in BUNDLED]
        r = c.get("/api/rulebooks/telecom_inbound")
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/yaml")
        assert r.text == TELECOM
        r = c.get("/api/rulebooks/no_such_book")
        assert r.status_code == 404 and "no_such_book" in r.json()["detail"] and "telecom_inbound" in r.json()["detail"]
        assert c.get("/api/rulebooks/..hidden").status_code == 422
        assert c.get("/api/taxonomy").text == TAXONOMY
    assert active_paths(config_of(server)).version == "bundled"


def test_rulebook_validation_names_file_line_and_rule(server, tokens):
    assert yaml_post(server, tokens["agent"], "/api/rulebooks/validate", TELECOM).json() == {"valid": True, "errors": []}
    bad = TELECOM.replace("(我|我们)(给|跟|向)(您|你)保证", "(我|我们)(给|跟|向)(您|你)保证[", 1)
    body = yaml_post(server, tokens["qa"], "/api/rulebooks/validate", bad, name="telecom_inbound").json()
    assert body["valid"] is False
    assert [(e["file"], e["line"], e["rule"], e["code"]) for e in body["errors"]] == [
        ("telecom_inbound.yaml", line_of(bad, "保证["), "over_promise", "E103")]
    broken = yaml_post(server, tokens["qa"], "/api/rulebooks/validate", "name: x\nrules: [\n").json()
    assert broken["valid"] is False and broken["errors"][0]["code"] == "E100" and broken["errors"][0]["line"]
    unknown = TELECOM.replace("code: over_promise", "code: no_such_code", 1)
    body = yaml_post(server, tokens["qa"], "/api/rulebooks/validate", unknown).json()
    assert [(e["rule"], e["code"], e["line"]) for e in body["errors"]] == [
        ("over_promise", "E105", line_of(unknown, "no_such_code"))]


def test_rulebook_replace(server, tokens):
    bad = TELECOM.replace("(我|我们)(给|跟|向)(您|你)保证", "(我|我们)(给|跟|向)(您|你)保证[", 1)
    r = yaml_put(server, tokens["qa"], "/api/rulebooks/telecom_inbound", bad)
    assert r.status_code == 422
    errors = r.json()["detail"]["errors"]
    assert [(e["line"], e["rule"], e["code"]) for e in errors] == [(line_of(bad, "保证["), "over_promise", "E103")]
    assert "bad regular expression" in errors[0]["message"]
    assert yaml_put(server, tokens["agent"], "/api/rulebooks/telecom_inbound", TELECOM).status_code == 403
    r = yaml_put(server, tokens["qa"], "/api/rulebooks/other_name", TELECOM)  # its name: must match
    assert r.status_code == 422 and r.json()["detail"]["errors"][0]["code"] == "name"
    assert active_paths(config_of(server)).version == "bundled"  # nothing refused was put in force

    harsher = TELECOM.replace("    code: forbidden_phrase\n    dimension: attitude\n    severity: critical\n    points: 20",
                              "    code: forbidden_phrase\n    dimension: attitude\n    severity: critical\n    points: 25")
    assert harsher != TELECOM
    r = yaml_put(server, tokens["qa"], "/api/rulebooks/telecom_inbound", harsher)
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["name"] == "telecom_inbound" and first["previous"] is None
    with server.client(tokens["agent"]) as c:
        assert c.get("/api/rulebooks/telecom_inbound").text == harsher
        books = {b["name"]: b for b in c.get("/api/rulebooks").json()}
    assert (books["telecom_inbound"]["source"], books["telecom_inbound"]["version"]) == ("replaced", first["version"])
    assert books["telecom_inbound"]["updated_by"] == "cfg-qa"
    assert all(books[n]["source"] == "bundled" for n in BUNDLED if n != "telecom_inbound")
    entry = next(e for e in audit(server) if e["action"] == "rulebook.replace")
    assert (entry["actor"], entry["target"], entry["detail"]) == (
        "cfg-qa", "rulebook:telecom_inbound", {"old_version": "bundled", "new_version": first["version"]})

    # in force for workers: the replaced file instead of the bundled one, the other bundled books stay
    active = active_paths(config_of(server))
    assert active.version != "bundled" and active.taxonomy is None
    assert sorted(p.stem for p in active.rulebooks) == BUNDLED
    replaced = server.data_dir / "config" / "rulebooks" / "telecom_inbound.yaml"
    assert replaced in active.rulebooks and RULEBOOK_DIR / "telecom_inbound.yaml" not in active.rulebooks
    assert replaced.read_text(encoding="utf-8") == harsher
    from api.analysis import Analyzer
    from callscope.types import Conversation

    analyzer = Analyzer.load(taxonomy=active.taxonomy, rulebooks=list(active.rulebooks))
    qa = analyzer.analyze(Conversation.from_dict(json.loads(CALL.read_text(encoding="utf-8"))))["qa"]
    assert qa["score"] == 60  # 65 with the bundled book: 服务禁语 now takes 25 points

    # a second version: the version stamp changes, both versions are kept, the audit names both
    r = yaml_put(server, tokens["qa"], "/api/rulebooks/telecom_inbound", TELECOM)
    assert r.json()["previous"] == first["version"] and r.json()["version"] > first["version"]
    assert active_paths(config_of(server)).version != active.version
    entry = next(e for e in audit(server) if e["action"] == "rulebook.replace")
    assert entry["detail"] == {"old_version": first["version"], "new_version": r.json()["version"]}

    # a new name adds a book
    extra = TELECOM.replace("name: telecom_inbound", "name: telecom_vip", 1)
    assert yaml_put(server, tokens["qa"], "/api/rulebooks/telecom_vip", extra).status_code == 200
    with server.client(tokens["qa"]) as c:
        assert {b["name"]: b["source"] for b in c.get("/api/rulebooks").json()}["telecom_vip"] == "added"
    assert sorted(p.stem for p in active_paths(config_of(server)).rulebooks) == sorted([*BUNDLED, "telecom_vip"])
    database = Database(f"sqlite:///{server.data_dir / 'callscope.db'}")
    try:
        with database.session() as session:
            rows = session.scalars(select(ConfigFile).where(ConfigFile.kind == "rulebook")).all()
            assert [r.content for r in rows if r.name == "telecom_inbound"] == [harsher, TELECOM]
            assert rule_dimensions(session, "telecom_vip")["taboo_words"] == "attitude"
    finally:
        database.engine.dispose()


RUDE = "  rude_tone: {name: 态度生硬, def: the agent's tone is curt}\n"


def test_taxonomy_validate_and_replace(server, tokens):
    assert yaml_post(server, tokens["qa"], "/api/taxonomy/validate", TAXONOMY).json() == {"valid": True, "errors": []}
    twice = TAXONOMY + "reasons:\n  x: {name: x}\n"
    body = yaml_post(server, tokens["qa"], "/api/taxonomy/validate", twice).json()
    assert body["valid"] is False
    assert body["errors"][0]["line"] == line_of(twice, "  x: {name: x}") - 1
    assert "'reasons' is defined twice" in body["errors"][0]["message"]
    bad_cue = TAXONOMY + '  rude_tone: {name: 态度生硬, cues: ["re:(("]}\n'
    message = yaml_post(server, tokens["qa"], "/api/taxonomy/validate", bad_cue).json()["errors"][0]["message"]
    assert "qa_violations.rude_tone.cues: bad regular expression" in message
    assert "/tmp" not in message  # names the file the user sent, not our temporary copy

    # a taxonomy without a code the rule books use: every book in force that would break is named
    without = "\n".join(row for row in TAXONOMY.splitlines() if not row.startswith("  over_promise:")) + "\n"
    r = yaml_put(server, tokens["qa"], "/api/taxonomy", without)
    assert r.status_code == 422
    errors = r.json()["detail"]["errors"]
    assert {(e["file"], e["rule"], e["code"]) for e in errors} >= {("telecom_inbound.yaml", "over_promise", "E105"),
                                                                    ("bank_inbound.yaml", "over_promise", "E105")}
    assert all(e["line"] for e in errors)

    # a rule book may use a new code only once the taxonomy defines it
    book = TELECOM.replace("code: forbidden_phrase", "code: rude_tone", 1)
    r = yaml_put(server, tokens["qa"], "/api/rulebooks/telecom_inbound", book)
    assert r.status_code == 422 and r.json()["detail"]["errors"][0]["code"] == "E105"
    assert yaml_put(server, tokens["agent"], "/api/taxonomy", TAXONOMY + RUDE).status_code == 403
    before = active_paths(config_of(server)).version
    r = yaml_put(server, tokens["qa"], "/api/taxonomy", TAXONOMY + RUDE)
    assert r.status_code == 200, r.text
    assert r.json()["previous"] is None
    with server.client(tokens["agent"]) as c:
        assert c.get("/api/taxonomy").text == TAXONOMY + RUDE
    active = active_paths(config_of(server))
    assert active.version != before and active.taxonomy is not None
    assert active.taxonomy.read_text(encoding="utf-8") == TAXONOMY + RUDE
    entry = next(e for e in audit(server) if e["action"] == "taxonomy.replace")
    assert entry["detail"] == {"old_version": "bundled", "new_version": r.json()["version"]}
    assert yaml_put(server, tokens["qa"], "/api/rulebooks/telecom_inbound", book).status_code == 200
    from api.analysis import Analyzer
    from callscope.types import Conversation

    active = active_paths(config_of(server))
    analyzer = Analyzer.load(taxonomy=active.taxonomy, rulebooks=list(active.rulebooks))  # what a worker loads
    qa = analyzer.analyze(Conversation.from_dict(json.loads(CALL.read_text(encoding="utf-8"))))["qa"]
    assert {v["rule"]: v["code"] for v in qa["violations"]}["taboo_words"] == "rude_tone"

    # and now the taxonomy cannot drop rude_tone while a book uses it
    errors = yaml_post(server, tokens["qa"], "/api/taxonomy/validate", TAXONOMY).json()["errors"]
    assert [(e["file"], e["rule"], e["code"]) for e in errors] == [("telecom_inbound.yaml", "taboo_words", "E105")]


def test_bodies_that_are_not_text(server, tokens):
    with server.client(tokens["qa"]) as c:
        r = c.post("/api/taxonomy/validate", content=b"\xff\xfe\x00bad", headers={"Content-Type": "text/plain"})
        assert r.status_code == 422 and "UTF-8" in r.json()["detail"]
        body = c.post("/api/rulebooks/validate", content=b"", headers={"Content-Type": "text/plain"}).json()
        assert body["valid"] is False
        body = c.post("/api/taxonomy/validate", content=b"- just\n- a list\n").json()
        assert body["valid"] is False and "mapping of sections" in body["errors"][0]["message"]
