"""The FastAPI application: `callscope serve` runs ``create_app(config)`` under uvicorn.

Routes live in ``api/routes/`` (one module per area), request and response shapes in
``api/schemas/``, queries in ``api/storage/``; the pipeline runs in worker processes started here
(``api/jobs/``), so a slow recording never blocks a request.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.config import ServiceConfig
from api.storage.session import Database, upgrade_database


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
        try:
            yield
        finally:
            if runner is not None:
                runner.stop()
            db.engine.dispose()

    app = FastAPI(title="Callscope", version="0.1.0", lifespan=lifespan,
                  description="Offline conversation intelligence for Mandarin contact centres: uploads, "
                              "jobs, calls, QA review and appeal, reports, agent assist.")
    app.state.config = config
    app.state.db = db
    app.state.runner = None
    for module in (admin, uploads, calls, reports, reviews, config_files, assist):
        app.include_router(module.router)
    return app
