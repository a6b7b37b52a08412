"""The taxonomy file: the bundled one loads, bad ones fail naming the file and the entry."""

from __future__ import annotations

import json

import pytest

from nlp.taxonomy import DEFAULT_TAXONOMY, TaxonomyError, load_taxonomy
from tests.conftest import SHARED


def test_bundled_taxonomy_has_every_corpus_code():
    bundled = load_taxonomy()
    corpus = json.loads((SHARED / "corpus" / "taxonomy.json").read_text(encoding="utf-8"))
    for section in ("reasons", "script_points", "qa_violations"):
        assert set(getattr(bundled, section)) == set(corpus[section])
    assert bundled.competitor_dimensions == tuple(corpus["competitor_dimensions"])
    assert all(code.cues for code in bundled.reasons.values())


def test_corpus_json_taxonomy_loads_as_is():
    taxonomy = load_taxonomy(SHARED / "corpus" / "taxonomy.json")
    assert "bill_dispute" in taxonomy.reasons
    assert taxonomy.reasons["bill_dispute"].name == "扣费争议"


def test_cues_match_plain_and_regex():
    taxonomy = load_taxonomy()
    hits = taxonomy.reasons["plan_change"].cue_hits("我想把套餐换成便宜一点的")
    assert hits, "the regex cue 套餐...换 should match"
    assert not taxonomy.reasons["plan_change"].cue_hits("我想问一下话费")


def test_industries_limit_where_a_code_applies():
    taxonomy = load_taxonomy()
    assert taxonomy.reasons["claim_status"].applies_to("insurance")
    assert not taxonomy.reasons["claim_status"].applies_to("telecom")
    assert taxonomy.reasons["service_complaint"].applies_to("telecom")
    assert taxonomy.reasons["claim_status"].applies_to(None)


BASE = "reasons:\n  bill_inquiry: {name: 查询, def: asks}\nscript_points:\n  greeting: {name: 问候, def: greets}\n"


@pytest.mark.parametrize("text, expected", [
    (BASE + "  greeting: {name: again}\n", "'greeting' is defined twice"),
    (BASE.replace("script_points:", "qa_violations:\n  greeting: {name: x}\nscript_points:"), "defined in both"),
    (BASE.replace("bill_inquiry: {name: 查询, def: asks}", "Bill-Inquiry: {name: x}"), "reasons.Bill-Inquiry"),
    (BASE.replace("def: asks}", "def: asks, cues: ['re:(unclosed']}"), "bad regular expression"),
    (BASE.replace("def: asks}", "def: asks, colour: red}"), "unknown field(s) colour"),
    (BASE + "violations: {}\n", "unknown section(s) violations"),
    ("reasons: [1, 2\n", "cannot read taxonomy"),
    ("script_points:\n  greeting: {name: x}\n", "section 'reasons' is missing"),
    (BASE.replace("def: asks}", "def: asks, cues: 退订}"), "reasons.bill_inquiry.cues: expected a list"),
    (BASE.replace("def: asks}", "def: asks, excludes: [greeting]}"),
     "reasons.bill_inquiry.excludes: 'greeting' is not another code of reasons"),
    (BASE.replace("def: asks}", "def: asks, excludes: [bill_inquiry]}"), "is not another code"),
    (BASE.replace("def: greets}", "def: greets, after: ['re:(为什么']}"),
     "script_points.greeting.after: bad regular expression"),
    (BASE.replace("def: asks}", "def: asks, min_score: 1.5}"), "reasons.bill_inquiry.min_score: expected a probability"),
    (BASE.replace("def: asks}", "def: asks, min_score: high}"), "reasons.bill_inquiry.min_score"),
    (BASE.replace("def: greets}", "def: greets, min_score: 0.5}"), "only reasons take min_score"),
    (BASE.replace("def: asks}", "def: asks, default: yes please}"), "reasons.bill_inquiry.default: expected true or false"),
    (BASE.replace("def: greets}", "def: greets, default: true}"), "only reasons take default"),
    (BASE.replace("def: asks}", "def: asks, outbound: 1}"), "reasons.bill_inquiry.outbound: expected true or false"),
    (BASE.replace("def: greets}", "def: greets, outbound: true}"), "only reasons take outbound"),
    (BASE.replace("def: greets}", "def: greets}\n  closing: {name: 结束, precedes: [greeting]}"),
     "script_points.closing.precedes: only reasons take precedes"),
    (BASE.replace("def: asks}", "def: asks, precedes: [bill_inquiry]}"), "precedes: 'bill_inquiry' is not another code"),
    (BASE.replace("def: asks}", "def: asks, follow_up: [回访]}"), "reasons.bill_inquiry.follow_up: only the outbound reason"),
    (BASE.replace("def: asks}", "def: asks, outbound: true, follow_up: ['re:(回访']}"),
     "reasons.bill_inquiry.follow_up: bad regular expression"),
    (BASE.replace("def: asks}", "def: asks, default: true}\n  bill_dispute: {name: 争议, default: true}"),
     "only one code can be the default (bill_inquiry, bill_dispute all are)"),
])
def test_bad_taxonomy_names_file_and_entry(tmp_path, text, expected):
    path = tmp_path / "my-taxonomy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TaxonomyError) as error:
        load_taxonomy(path)
    assert "my-taxonomy.yaml" in str(error.value)
    assert expected in str(error.value)


def test_duplicate_error_gives_the_line(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(BASE + "  greeting: {name: again}\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"line 5"):
        load_taxonomy(path)


def test_check_names_unknown_code():
    taxonomy = load_taxonomy(DEFAULT_TAXONOMY)
    with pytest.raises(TaxonomyError, match=r"calls/x.json: labels.reasons\[0\].*'bill_despute'"):
        taxonomy.check("reasons", "bill_despute", "calls/x.json: labels.reasons[0]")
