"""Rule-book loading: every kind of mistake is an error naming the file, line and rule; the
bundled books and the YAML in operator docstrings load."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import yaml

from qa_rules import RuleBookError, load_rulebook, rulebook_json_schema, validate_rulebook
from qa_rules.loader import RULEBOOK_DIR
from qa_rules.operators import operators

GOOD = """\
name: tiny
scorecard:
  dimensions:
    attitude: {name: 态度, weight: 60}
    closing: {name: 结束语, weight: 40}
rules:
  - id: taboo
    name: 服务禁语
    code: forbidden_phrase
    dimension: attitude
    points: 20
    when:
      keyword: {any: [不归我管]}
  - id: closing_missing
    name: 未规范结束
    code: no_closing
    dimension: closing
    points: 10
    when:
      position: {last: 1, when: {not: {keyword: {any: [再见]}}}}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "book.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_book_loads(tmp_path):
    book = load_rulebook(write(tmp_path, GOOD))
    assert [r.id for r in book.rules] == ["taboo", "closing_missing"]
    assert book.rule("taboo").line == 7 and book.rule("taboo").when is not None


@pytest.mark.parametrize("old, new, code, line, rule", [
    ("keyword: {any: [不归我管]}", "keywords: {any: [不归我管]}", "E101", 13, "taboo"),
    ("keyword: {any: [不归我管]}", "keyword: {any: [不归我管], colour: red}", "E102", 13, "taboo"),
    ("keyword: {any: [不归我管]}", "regex: {pattern: '不归(我管'}", "E103", 13, "taboo"),
    ("id: closing_missing", "id: taboo", "E104", 14, "taboo"),
    ("code: no_closing", "code: no_goodbye", "E105", 16, "closing_missing"),
    ("dimension: closing\n", "dimension: ending\n", "E107", 17, "closing_missing"),
    ("    points: 20\n", "    points: 20\n    points: 30\n", "E109", 12, None),
    ("keyword: {any: [不归我管]}", "ref: taboo_words", "E110", 13, "taboo"),
    ("    points: 10\n", "    points: -10\n", "E108", 18, "closing_missing"),
    ("{last: 1, when:", "{last: 1, first: 2, when:", "E102", 20, "closing_missing"),
    ("keyword: {any: [再见]}", "script_point: {point: goodbye}", "E105", 20, "closing_missing"),
])
def test_bad_book_names_file_line_rule(tmp_path, old, new, code, line, rule):
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(RuleBookError) as caught:
        load_rulebook(path)
    err = caught.value
    assert err.code == code, str(err)
    assert err.source.path == str(path) and err.source.line == line and err.source.rule_id == rule
    assert str(path) in str(err) and f"line {line}" in str(err)


def test_not_yaml(tmp_path):
    with pytest.raises(RuleBookError) as caught:
        load_rulebook(write(tmp_path, "name: x\nrules: [\n"))
    assert caught.value.code == "E100" and caught.value.source.line is not None


def test_collect_errors_reports_all_and_returns_nothing(tmp_path):
    text = GOOD.replace("keyword: {any: [不归我管]}", "kw: {pattern: x}").replace("code: no_closing", "code: bad")
    path = write(tmp_path, text)
    with pytest.raises(RuleBookError) as caught:
        load_rulebook(path, collect_errors=True)
    assert sorted(e.code for e in caught.value.errors) == ["E102", "E105"]
    assert "2 problem(s)" in str(caught.value)
    assert sorted(e.code for e in validate_rulebook(path)) == ["E102", "E105"]
    assert validate_rulebook(write(tmp_path, GOOD)) == []


def test_unknown_operator_lists_available(tmp_path):
    with pytest.raises(RuleBookError) as caught:
        load_rulebook(write(tmp_path, GOOD.replace("keyword: {any: [不归我管]}", "semantik: {}")))
    for name in ("keyword", "regex", "fuzzy", "and", "not", "position"):
        assert name in str(caught.value)


@pytest.mark.parametrize("path", sorted(RULEBOOK_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_default_books_load_and_cover_the_taxonomy(path):
    book = load_rulebook(path)
    codes = {r.code for r in book.rules}
    assert {"no_greeting", "no_identity_check", "no_closing", "forbidden_phrase", "missing_disclosure",
            "over_promise", "long_silence", "interruption"} <= codes


def docstring_examples() -> list[tuple[str, str]]:
    out = []
    for name in operators.names():
        doc = operators.get(name).__doc__ or ""
        out += [(name, block) for block in re.findall(r"```yaml\n(.*?)```", doc, re.DOTALL)]
    return out


@pytest.mark.parametrize("name, snippet", docstring_examples(), ids=lambda v: v if len(v) < 20 else "")
def test_operator_docstring_yaml_loads(tmp_path, name, snippet):
    rules = yaml.safe_load(textwrap.dedent(snippet))
    book = load_rulebook(write(tmp_path, yaml.safe_dump({"name": "doc", "rules": rules}, allow_unicode=True)))
    assert book.rules and name in book.rules[0].when.describe()


def test_every_operator_has_a_docstring_example():
    assert {name for name, _ in docstring_examples()} == set(operators.names())


def test_json_schema_exports():
    schema = rulebook_json_schema()
    assert "rules" in schema["properties"] and "RuleSpec" in schema["$defs"]
