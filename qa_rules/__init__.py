"""Quality inspection: rule books of operators, scorecards and evidence for every call.

``load_rulebook(path)`` validates a YAML rule book completely; ``call_view(...)`` wraps a
call's text, findings and acoustics; ``check_call(book, view)`` gives the ``QaResult``;
``RuleRunner`` does the same turn by turn for calls in progress.
"""

from qa_rules.engine import QaResult, Violation, check_call
from qa_rules.errors import RuleBookError, RuleEvaluationError, RuleSyntaxError, RuleValidationError
from qa_rules.evidence import Evidence
from qa_rules.loader import default_rulebooks, load_rulebook, select_rulebook, validate_rulebook
from qa_rules.runner import RuleRunner
from qa_rules.schema import Rule, RuleBook, rulebook_json_schema
from qa_rules.view import CallView, call_view, view_from_analysis

__all__ = ["CallView", "Evidence", "QaResult", "Rule", "RuleBook", "RuleBookError", "RuleEvaluationError",
           "RuleRunner", "RuleSyntaxError", "RuleValidationError", "Violation", "call_view", "check_call",
           "default_rulebooks", "load_rulebook", "rulebook_json_schema", "select_rulebook",
           "validate_rulebook", "view_from_analysis"]
