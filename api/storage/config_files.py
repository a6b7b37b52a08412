"""Customer configuration replaced through the API (rule books, taxonomy), in force for new analyses.

Every replacement is a new ``ConfigFile`` row (all versions kept) and is written under
``data_dir/config`` so worker processes load it without asking the database:
- rule books: ``config/rulebooks/<name>.yaml``. A replaced book with the name of a bundled one
  replaces it; the other bundled books stay in force; a new name adds a book.
- taxonomy: ``config/taxonomy/<version id>.yaml``, the highest id in force (a new path per version,
  since taxonomies are cached by path).
``active_paths`` reads only that folder (a few ``stat`` calls), so the job worker can call it per job.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.storage.models import ConfigFile

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,99}$"
MAX_CONFIG_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ActiveConfig:
    """Files the analyzer should load instead of the bundled ones (None / empty: bundled), and a
    version stamp that changes whenever any of them is replaced.

    Once anything is replaced, ``rulebooks`` lists every book in force (bundled ones not replaced,
    plus the replaced and added ones), so they are all checked against the taxonomy in force."""

    taxonomy: Path | None = None
    rulebooks: tuple[Path, ...] = field(default_factory=tuple)
    version: str = "bundled"


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a configuration file cannot be used: where (file, line, rule) and what."""

    file: str
    message: str
    line: int | None = None
    rule: str | None = None
    code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """As JSON-safe values (text the YAML escaped into lone surrogates is shown as '?')."""
        return {"file": _text(self.file), "line": self.line, "rule": _text(self.rule), "code": _text(self.code),
                "message": _text(self.message)}


def _text(value: str | None) -> str | None:
    return None if value is None else value.encode("utf-8", "replace").decode("utf-8")


def config_dir(config) -> Path:
    return Path(config.data_dir) / "config"


def _replaced_books(config) -> dict[str, Path]:
    folder = config_dir(config) / "rulebooks"
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))} if folder.is_dir() else {}


def _taxonomy_file(config) -> Path | None:
    folder = config_dir(config) / "taxonomy"
    versions = [p for p in folder.glob("*.yaml") if p.stem.isdigit()] if folder.is_dir() else []
    return max(versions, key=lambda p: int(p.stem)) if versions else None


def bundled_books() -> dict[str, Path]:
    """The rule books shipped with Callscope, by name (file stem)."""
    from qa_rules.loader import RULEBOOK_DIR

    return {p.stem: p for p in sorted(RULEBOOK_DIR.glob("*.yaml"))}


def books_in_force(config) -> dict[str, Path]:
    """Every rule book in force by name: bundled ones, with replaced / added ones over them."""
    return dict(sorted({**bundled_books(), **_replaced_books(config)}.items()))


def taxonomy_in_force(config) -> Path:
    """The taxonomy file in force: the newest replacement, else the bundled one."""
    from nlp.taxonomy import DEFAULT_TAXONOMY

    return _taxonomy_file(config) or DEFAULT_TAXONOMY


def active_paths(config) -> ActiveConfig:
    """What is in force now for the service with ``config`` (bundled files until replaced)."""
    replaced = _replaced_books(config)
    taxonomy = _taxonomy_file(config)
    if not replaced and taxonomy is None:
        return ActiveConfig()
    stamp = hashlib.sha1()
    for path in [*replaced.values(), *([taxonomy] if taxonomy else [])]:
        try:
            st = path.stat()
        except OSError:  # replaced while we looked: the next call sees the new one
            continue
        stamp.update(f"{path.parent.name}/{path.name}:{st.st_mtime_ns}:{st.st_size};".encode())
    return ActiveConfig(taxonomy, tuple(books_in_force(config).values()), stamp.hexdigest()[:16])


def latest(session: Session, kind: str, name: str) -> ConfigFile | None:
    """The newest stored version of a configuration file, or None (bundled)."""
    return session.scalars(select(ConfigFile).where(ConfigFile.kind == kind, ConfigFile.name == name)
                           .order_by(ConfigFile.id.desc()).limit(1)).first()


@dataclass(frozen=True, slots=True)
class BookVersion:
    """A rule book in force: bundled, replaced (a bundled name stored anew) or added, and its stored version."""

    name: str
    source: str
    version: int | None = None
    updated_by: str | None = None
    updated_at: Any = None


def rulebooks_listed(session: Session, config) -> list[BookVersion]:
    """Every rule book in force with where it comes from and who stored its newest version."""
    bundled = bundled_books()
    stored = versions(session, "rulebook")
    out = []
    for name in books_in_force(config):
        row = stored.get(name)
        if row is None:
            out.append(BookVersion(name, "bundled"))
        else:
            out.append(BookVersion(name, "replaced" if name in bundled else "added", row.id, row.updated_by,
                                   row.updated_at))
    return out


def versions(session: Session, kind: str) -> dict[str, ConfigFile]:
    """The newest version of each stored file of ``kind``, by name."""
    out: dict[str, ConfigFile] = {}
    for row in session.scalars(select(ConfigFile).where(ConfigFile.kind == kind).order_by(ConfigFile.id)):
        out[row.name] = row
    return out


# ---------------------------------------------------------------------------------------- validation


def _with_file(text: str, filename: str, check) -> Any:
    """Run ``check(path)`` on ``text`` written to a private temporary file named ``filename``."""
    with tempfile.TemporaryDirectory(prefix="callscope-config-") as tmp:
        path = Path(tmp) / filename
        path.write_text(text, encoding="utf-8")
        return check(path)


def _rulebook_problems(path: Path, taxonomy, shown: str) -> list[Problem]:
    from qa_rules.loader import validate_rulebook

    return [Problem(shown, e.message, e.source.line, e.source.rule_id, e.code)
            for e in validate_rulebook(path, taxonomy=taxonomy)]


def validate_rulebook_text(text: str, config, *, name: str | None = None) -> list[Problem]:
    """Every problem of a rule book given as YAML text, checked against the taxonomy in force;
    with ``name``, the book's ``name:`` must be that name (it identifies the book)."""
    import yaml

    from nlp.taxonomy import TaxonomyError, load_taxonomy

    shown = f"{name or 'rulebook'}.yaml"
    try:
        taxonomy = load_taxonomy(taxonomy_in_force(config))
    except TaxonomyError as exc:
        return [Problem("taxonomy.yaml", f"the taxonomy in force does not load: {exc}")]
    problems = _with_file(text, shown, lambda path: _rulebook_problems(path, taxonomy, shown))
    if not problems and name is not None:
        given = (yaml.safe_load(text) or {}).get("name")
        if str(given) != name:
            line = next((i + 1 for i, row in enumerate(text.splitlines()) if row.startswith("name:")), None)
            problems.append(Problem(shown, f"the book's name {given!r} must be {name!r}, the name it is stored "
                                           f"under", line, None, "name"))
    return problems


def validate_taxonomy_text(text: str, config) -> list[Problem]:
    """Every problem of a taxonomy given as YAML text: its own (``TaxonomyError`` names the entry),
    the rule books in force that would no longer validate against it, and codes the trained model
    predicts that it lacks."""
    from nlp.taxonomy import TaxonomyError, load_taxonomy

    def check(path: Path) -> list[Problem]:
        try:
            taxonomy = load_taxonomy(path)
        except TaxonomyError as exc:
            return [Problem("taxonomy.yaml", str(exc).replace(str(path.resolve()), "taxonomy.yaml")
                            .replace(str(path), "taxonomy.yaml"), _line_of(str(exc)))]
        problems = []
        for book, book_path in books_in_force(config).items():
            problems += _rulebook_problems(book_path, taxonomy, f"{book}.yaml")
        missing = _model_codes_missing(taxonomy, config)
        if missing:
            problems.append(Problem("taxonomy.yaml", "the trained model predicts codes this taxonomy does not "
                                                     f"define: {', '.join(missing)}", code="model"))
        return problems

    return _with_file(text, "taxonomy.yaml", check)


def _line_of(message: str) -> int | None:
    import re

    found = re.search(r"\bline (\d+)", message)
    return int(found.group(1)) if found else None


def _model_codes_missing(taxonomy, config) -> list[str]:
    """Codes the service's trained model predicts that ``taxonomy`` lacks (none when untrained)."""
    from models.store import DEFAULT_MODEL, ModelError, load_model

    if getattr(config, "untrained", False):
        return []
    folder = Path(config.models) if getattr(config, "models", None) else DEFAULT_MODEL
    if not (folder / "manifest.json").is_file():
        return []
    try:
        return load_model(folder).check_taxonomy(taxonomy)
    except (ModelError, OSError):
        return []


# ---------------------------------------------------------------------------------------- replacing


def store(session: Session, config, kind: str, name: str, text: str, actor: str) -> tuple[int | None, int]:
    """Keep ``text`` as the new version of (kind, name) and put it in force under ``data_dir/config``;
    (previous version id or None for bundled, new version id). The file is written before the
    caller's transaction commits and is put back if that transaction fails."""
    previous = latest(session, kind, name)
    row = ConfigFile(kind=kind, name=name, content=text, updated_by=actor)
    session.add(row)
    session.flush()
    if kind == "rulebook":
        target = config_dir(config) / "rulebooks" / f"{name}.yaml"
    else:
        target = config_dir(config) / "taxonomy" / f"{row.id}.yaml"
    _write_atomically(target, text, session)
    return (previous.id if previous else None), row.id


def _write_atomically(target: Path, text: str, session: Session) -> None:
    from sqlalchemy import event

    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.read_bytes() if target.is_file() else None
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)

    committed = []

    def undo(_session) -> None:
        if committed:
            return
        if old is None:
            target.unlink(missing_ok=True)
        else:
            target.write_bytes(old)

    event.listen(session, "after_commit", lambda _s: committed.append(True), once=True)
    event.listen(session, "after_rollback", undo, once=True)
