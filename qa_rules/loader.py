"""Load a rule book from YAML, validating all of it before anything is returned.

Problems (bad YAML, a key twice, an unknown operator, bad parameters, a regex that does not
compile, a duplicate rule id, an unknown dimension or taxonomy code, an undefined named
condition) raise a ``RuleBookError`` naming the file, the line and the rule. With
``collect_errors=True`` the error carries every problem (``.errors``); ``validate_rulebook``
returns them as a list. Nothing half-loaded is ever returned.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from nlp.taxonomy import Taxonomy, TaxonomyError, load_taxonomy
from qa_rules.errors import Errors, RuleBookError, RuleLocation, RuleSyntaxError, RuleValidationError
from qa_rules.nodes import Parser
from qa_rules.schema import Rule, RuleBook, RuleBookSpec

RULEBOOK_DIR = Path(__file__).resolve().parent / "rulebooks"
_NO_TAXONOMY = object()


def load_rulebook(path: str | Path, *, collect_errors: bool = False,
                  taxonomy: Taxonomy | None | object = _NO_TAXONOMY) -> RuleBook:
    """The validated rule book in ``path``; ``RuleBookError`` (all problems if ``collect_errors``).

    ``taxonomy``: codes are checked against it (default: the bundled taxonomy; ``None``: unchecked).
    """
    tax = load_taxonomy() if taxonomy is _NO_TAXONOMY else taxonomy
    book, errors = _compile(Path(path), tax)  # type: ignore[arg-type]
    if errors or book is None:
        if collect_errors and len(errors) > 1:
            raise type(errors[0])(errors[0].message, errors[0].source, errors=errors)
        raise errors[0]
    return book


def validate_rulebook(path: str | Path, *, taxonomy: Taxonomy | None | object = _NO_TAXONOMY) -> list[RuleBookError]:
    """Every problem of the rule book in ``path`` (empty: it loads)."""
    tax = load_taxonomy() if taxonomy is _NO_TAXONOMY else taxonomy
    return _compile(Path(path), tax)[1]  # type: ignore[arg-type]


def default_rulebooks() -> list[RuleBook]:
    """The bundled rule books (``qa_rules/rulebooks/*.yaml``), loaded once."""
    return list(_defaults())


@lru_cache(maxsize=1)
def _defaults() -> tuple[RuleBook, ...]:
    return tuple(load_rulebook(p) for p in sorted(RULEBOOK_DIR.glob("*.yaml")))


def select_rulebook(books: Iterable[RuleBook], meta: dict[str, Any]) -> RuleBook | None:
    """The book for a call: direction and industry fit, else a ``fallback`` book of the direction."""
    books = list(books)
    fitting = [b for b in books if b.applies_to.applies(meta)]
    if meta.get("industry") is not None:
        named = [b for b in fitting if b.applies_to.industry is not None]
        if named:
            return named[0]
    same_way = [b for b in books if b.fallback and b.applies_to.applies({"direction": meta.get("direction")})]
    return (same_way or fitting or [None])[0]


def _compile(path: Path, taxonomy: Taxonomy | None) -> tuple[RuleBook | None, list[RuleBookError]]:
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError) as exc:
        return None, [RuleSyntaxError(Errors.E100.format(reason=exc), RuleLocation(where))]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return None, [RuleSyntaxError(Errors.E100.format(reason=f"not YAML: {getattr(exc, 'problem', exc)}"),
                                      RuleLocation(where, None, line))]
    errors = [RuleSyntaxError(msg, RuleLocation(where, None, line)) for line, msg in _duplicate_keys(root)]
    if errors:
        return None, errors
    data = yaml.safe_load(text)
    try:
        spec = RuleBookSpec.model_validate(data)
    except ValidationError as exc:
        return None, [RuleSyntaxError(Errors.E108.format(field=".".join(map(str, e["loc"])) or "rule book",
                                                         reason=e["msg"]),
                                      _locate(where, root, data, tuple(e["loc"]))) for e in exc.errors()]
    return _stage_two(where, root, data, spec, taxonomy)


def _stage_two(where: str, root: yaml.Node, data: Any, spec: RuleBookSpec,
               taxonomy: Taxonomy | None) -> tuple[RuleBook | None, list[RuleBookError]]:
    errors: list[RuleBookError] = []
    parser = Parser(taxonomy)

    def fail(loc: tuple[Any, ...], message: str) -> None:
        errors.append(RuleValidationError(message, _locate(where, root, data, loc)))

    for name, raw in spec.conditions.items():
        node = parser.parse(raw, ("conditions", name), "agent")
        if node is not None:
            parser.conditions[name] = node
    dims = spec.scorecard.dimensions
    default_dim = spec.scorecard.default_dimension or next(iter(dims))
    if default_dim not in dims:
        fail(("scorecard", "default_dimension"), Errors.E107.format(dimension=default_dim, known=", ".join(dims)))
    rules: list[Rule] = []
    first_line: dict[str, int | None] = {}
    for i, r in enumerate(spec.rules):
        loc = ("rules", i)
        line = _line(root, loc)
        if r.id in first_line:
            fail((*loc, "id"), Errors.E104.format(rule_id=r.id, first=first_line[r.id]))
        first_line.setdefault(r.id, line)
        if r.dimension is not None and r.dimension not in dims:
            fail((*loc, "dimension"), Errors.E107.format(dimension=r.dimension, known=", ".join(dims)))
        if r.code is not None and taxonomy is not None and r.code not in taxonomy.qa_violations:
            fail((*loc, "code"), Errors.E105.format(section="qa_violations", code=r.code,
                                                     known=", ".join(taxonomy.qa_violations)))
        node = parser.parse(r.when, (*loc, "when"), r.scope.role)
        if node is not None and r.enabled:
            rules.append(Rule(r.id, r.name, r.code, r.severity, r.points, r.effect, r.per_hit, r.fatal,
                              r.dimension or default_dim, r.scope, node, line))
    errors += [RuleValidationError(msg, _locate(where, root, data, loc)) for loc, msg in parser.problems]
    if errors:
        return None, errors
    return RuleBook(spec.name, str(spec.version), where, spec.applies_to, spec.fallback, dict(dims), tuple(rules)), []


def _locate(where: str, root: yaml.Node, data: Any, loc: tuple[Any, ...]) -> RuleLocation:
    """File, rule id and line of a place ``loc`` (keys / indexes) in the document."""
    rule_id = None
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int) and isinstance(data, dict):
        rules = data.get("rules")
        if isinstance(rules, list) and loc[1] < len(rules) and isinstance(rules[loc[1]], dict):
            rule_id = rules[loc[1]].get("id")
    return RuleLocation(where, None if rule_id is None else str(rule_id), _line(root, loc))


def _line(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest node on the path ``loc`` that exists."""
    if node is None:
        return None
    found = node
    for part in loc:
        nxt = None
        if isinstance(found, yaml.MappingNode):
            nxt = next((v for k, v in found.value if k.value == str(part)), None)
        elif isinstance(found, yaml.SequenceNode) and isinstance(part, int) and part < len(found.value):
            nxt = found.value[part]
        if nxt is None:
            break
        found = nxt
    return found.start_mark.line + 1


def _duplicate_keys(node: yaml.Node | None) -> list[tuple[int, str]]:
    """(line, message) for every key defined twice in one mapping (PyYAML silently keeps the last)."""
    out: list[tuple[int, str]] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            line = key.start_mark.line + 1
            if key.value in seen:
                out.append((line, Errors.E109.format(key=key.value, first=seen[key.value])))
            seen.setdefault(key.value, line)
            out += _duplicate_keys(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            out += _duplicate_keys(item)
    return out


__all__ = ["RULEBOOK_DIR", "TaxonomyError", "default_rulebooks", "load_rulebook", "select_rulebook",
           "validate_rulebook"]
