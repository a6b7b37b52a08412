"""The FastAPI application: `callscope serve` runs ``create_app(config)`` under uvicorn.

Routes live in ``api/routes/`` (one module per area), request and response shapes in
``api/schemas/``, queries in ``api/storage/``; the pipeline runs in worker processes started here
(``api/jobs/``), so a slow recording never blocks a request.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from api.config import ServiceConfig
from api.storage.session import Database, upgrade_database

STATIC = Path(__file__).resolve().parent / "static"


def create_app(config: ServiceConfig, *, start_workers: bool = True) -> FastAPI:
    """The service for ``config``: database migrated, routes mounted, workers started with the app."""
    from api.routes import admin, assist, calls, config_files, reports, reviews, uploads

    config.data_dir.mkdir(parents=True, exist_ok=True)
    config.upload_dir.mkdir(parents=True, exist_ok=True)
    upgrade_database(config.database_url)
    db = Database(config.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        runner = None
        if start_workers:
            from api.jobs.runner import JobRunner

            runner = JobRunner(config, db)
            runner.start()
        app.state.runner = runner
        if start_workers:  # the first agent-assist session should not wait for the analyzer to load
            import threading

            from api.assist.resources import analyzer_for

            threading.Thread(target=analyzer_for, args=(config,), name="assist-warmup", daemon=True).start()
            # the first visitor of a dashboard should not wait seconds for its report (10,000 calls)
            from api.web.insight_pages import warm

            app.state.warm = False
            threading.Thread(target=warm, args=(app,), name="report-warmup", daemon=True).start()
        try:
            yield
        finally:
            if runner is not None:
                runner.stop()
            db.engine.dispose()

    app = FastAPI(title="Callscope", version="0.1.0", lifespan=lifespan,
                  description="Offline conversation intelligence for Mandarin contact centres: uploads, "
                              "jobs, calls, QA review and appeal, reports, agent assist.")
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DataError, _data_error)
    app.state.config = config
    app.state.db = db
    app.state.runner = None
    app.state.warm = None  # report warm-up: None when not run, False while running, True when done
    for module in (admin, uploads, calls, reports, reviews, config_files, assist):
        app.include_router(module.router)
    from fastapi.responses import RedirectResponse
    from fastapi.staticfiles import StaticFiles

    from api.web import calls_pages, insight_pages, pages

    for module in (pages, calls_pages, insight_pages):
        app.include_router(module.router)
    app.add_exception_handler(pages.LoginRequired, lambda request, exc: RedirectResponse("/login", status_code=303))
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 naming each bad field. FastAPI's own handler echoes the input back, which fails (a 500)
    when the input holds a lone surrogate or NaN; here every echoed value is made JSON-safe first."""
    return JSONResponse(status_code=422, content={"detail": _json_safe(exc.errors())})


async def _data_error(request: Request, exc: DataError) -> JSONResponse:
    """422 for input the database refuses to store or compare (PostgreSQL rejects NUL characters in
    text and integers beyond 64 bits): the caller's input is at fault, not the service."""
    reason = str(exc.orig).splitlines()[0] if exc.orig is not None else "value out of range"
    return JSONResponse(status_code=422, content={"detail": f"input the database cannot take: {_json_safe(reason)}"})


def _json_safe(value):
    """``value`` with strings that cannot be encoded escaped, and non-finite floats as strings."""
    import math

    if isinstance(value, dict):
        return {str(_json_safe(k)): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return _json_safe(str(value))
