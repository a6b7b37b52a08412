"""QA wired into the command line: `qa check`, the `qa` block of `analyze`, per-code figures in `eval`."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from api.cli import app
from qa_rules.loader import RULEBOOK_DIR
from tests.conftest import SHARED

CALLS = SHARED / "corpus" / "calls"


def test_bundled_rule_books_validate(tmp_path):
    books = sorted(RULEBOOK_DIR.glob("*.yaml"))
    assert len(books) >= 4
    result = CliRunner().invoke(app, ["qa", "check", *map(str, books)])
    assert result.exit_code == 0, result.output
    assert result.stdout.count(": ok") == len(books)


def test_bad_rule_book_names_file_line_and_rule(tmp_path):
    bad = tmp_path / "mine.yaml"
    bad.write_text(
        "name: mine\nrules:\n  - id: greet\n    name: 开场\n    code: no_greeting\n    points: 5\n"
        "    when: {keywordz: {any: [您好]}}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["qa", "check", str(bad)])
    assert result.exit_code == 1
    assert "mine.yaml" in result.stderr and "keywordz" in result.stderr and "greet" in result.stderr


@pytest.mark.skipif(not CALLS.is_dir(), reason=f"labelled corpus not found at {CALLS}")
def test_analyze_fills_qa_and_eval_scores_it(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("tel-in-0046", "out-0016", "fin-in-0043"):       # calls with planted violations
        shutil.copy(CALLS / f"{name}.json", folder)
    out = tmp_path / "out"
    assert CliRunner().invoke(app, ["analyze", str(folder), "--out", str(out)]).exit_code == 0
    for name in ("tel-in-0046", "out-0016", "fin-in-0043"):
        qa = json.loads((out / f"{name}.analysis.json").read_text(encoding="utf-8"))["qa"]
        assert 0 <= qa["score"] <= 100
        for violation in qa["violations"]:
            assert {"rule", "code", "turn", "evidence", "operator"} <= set(violation)
    result = CliRunner().invoke(app, ["eval", "--corpus", str(folder), "--pred", str(out), "--json"])
    metrics = json.loads(result.stdout)
    assert metrics["qa"]["micro"]["support"] > 0
    assert metrics["qa"]["micro"]["recall"] > 0.5
