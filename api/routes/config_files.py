"""Routes: the QA rule books and the taxonomy: read, validate, replace (YAML text in and out).

A replacement is validated completely first (rule books against the taxonomy in force; a taxonomy
against every rule book in force and the trained model) and refused with 422 and every problem
(file, line, rule); accepted ones are stored as a new version and put in force for new analyses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.responses import PlainTextResponse

from api.auth import Caller, allowed
from api.schemas.config_files import ProblemOut, ReplacedOut, RulebookOut, ValidationOut
from api.storage.audit import record
from api.storage.config_files import (
    MAX_CONFIG_BYTES,
    NAME_PATTERN,
    books_in_force,
    rulebooks_listed,
    store,
    taxonomy_in_force,
    validate_rulebook_text,
    validate_taxonomy_text,
)

router = APIRouter(tags=["configuration"])


class YamlResponse(PlainTextResponse):
    media_type = "application/yaml"


YAML_BODY = {"requestBody": {"required": True, "content": {
    "text/plain": {"schema": {"type": "string"}}, "application/yaml": {"schema": {"type": "string"}}}}}
TOO_LARGE = {413: {"description": "the body is larger than the limit"}}
INVALID = {**TOO_LARGE, 403: {"description": "only qa and admin tokens replace configuration"},
           422: {"description": "the file does not validate: `detail` is `{valid: false, errors: [...]}` with "
                                "every problem (file, line, rule, code, message)"}}
NOT_TEXT = {**TOO_LARGE, 422: {"description": "the body is not UTF-8 text"}}
BookName = Annotated[str, Path(pattern=NAME_PATTERN, description="rule book name (its file name without .yaml)")]


async def yaml_text(request: Request) -> str:
    """The request body as UTF-8 text (any content type); 413 if too large, 422 if not text."""
    body = await request.body()
    if len(body) > MAX_CONFIG_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                            f"configuration files are limited to {MAX_CONFIG_BYTES // 1024} KiB")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"the body is not UTF-8 text ({exc})") from None


YamlText = Annotated[str, Depends(yaml_text)]


def _utc(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)  # SQLite returns UTC without its zone


def _result(problems) -> ValidationOut:
    return ValidationOut(valid=not problems, errors=[ProblemOut(**p.to_dict()) for p in problems])


def _refuse(problems) -> None:
    if problems:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, _result(problems).model_dump())


@router.get("/api/rulebooks", response_model=list[RulebookOut])
def list_rulebooks(request: Request, who: Caller) -> list[RulebookOut]:
    """The rule books in force: the bundled ones and those replaced or added through the API."""
    with request.app.state.db.session() as session:
        return [RulebookOut(name=b.name, source=b.source, version=b.version, updated_by=b.updated_by,
                            updated_at=_utc(b.updated_at) if b.updated_at else None)
                for b in rulebooks_listed(session, request.app.state.config)]


@router.get("/api/rulebooks/{name}", response_class=YamlResponse, responses={404: {"description": "no such book"}})
def get_rulebook(name: BookName, request: Request, who: Caller) -> YamlResponse:
    """The YAML text of a rule book in force."""
    books = books_in_force(request.app.state.config)
    if name not in books:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no rule book {name!r} (known: {', '.join(books)})")
    return YamlResponse(books[name].read_text(encoding="utf-8"))


@router.post("/api/rulebooks/validate", response_model=ValidationOut, openapi_extra=YAML_BODY, responses=NOT_TEXT)
def validate_rulebook(text: YamlText, request: Request, who: Caller,
                      name: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None) -> ValidationOut:
    """Every problem of a rule book (YAML body), checked against the taxonomy in force, with file,
    line and rule; ``valid`` when there is none. With ``name``, its ``name:`` must match."""
    return _result(validate_rulebook_text(text, request.app.state.config, name=name))


@router.put("/api/rulebooks/{name}", response_model=ReplacedOut, openapi_extra=YAML_BODY, responses=INVALID)
def replace_rulebook(name: BookName, text: YamlText, request: Request, who: allowed("qa")) -> ReplacedOut:
    """Replace (or add) a rule book: validated completely, else 422 with every problem; stored as a
    new version and in force for new analyses. A bundled book of the same name is replaced, the
    other bundled books stay in force."""
    config = request.app.state.config
    _refuse(validate_rulebook_text(text, config, name=name))
    with request.app.state.db.session() as session:
        previous, version = store(session, config, "rulebook", name, text, who.name)
        record(session, who.name, "rulebook.replace", f"rulebook:{name}",
               old_version=previous if previous is not None else "bundled", new_version=version)
    return ReplacedOut(name=name, version=version, previous=previous)


@router.get("/api/taxonomy", response_class=YamlResponse)
def get_taxonomy(request: Request, who: Caller) -> YamlResponse:
    """The YAML text of the taxonomy in force."""
    return YamlResponse(taxonomy_in_force(request.app.state.config).read_text(encoding="utf-8"))


@router.post("/api/taxonomy/validate", response_model=ValidationOut, openapi_extra=YAML_BODY, responses=NOT_TEXT)
def validate_taxonomy(text: YamlText, request: Request, who: Caller) -> ValidationOut:
    """Every problem of a taxonomy (YAML body): its own, rule books in force that would no longer
    validate against it, codes the trained model predicts that it lacks."""
    return _result(validate_taxonomy_text(text, request.app.state.config))


@router.put("/api/taxonomy", response_model=ReplacedOut, openapi_extra=YAML_BODY, responses=INVALID)
def replace_taxonomy(text: YamlText, request: Request, who: allowed("qa")) -> ReplacedOut:
    """Replace the taxonomy: validated as by ``/api/taxonomy/validate``, else 422 with every problem;
    stored as a new version and in force for new analyses."""
    config = request.app.state.config
    _refuse(validate_taxonomy_text(text, config))
    with request.app.state.db.session() as session:
        previous, version = store(session, config, "taxonomy", "taxonomy", text, who.name)
        record(session, who.name, "taxonomy.replace", "taxonomy",
               old_version=previous if previous is not None else "bundled", new_version=version)
    return ReplacedOut(name="taxonomy", version=version, previous=previous)

