"""The Alembic migrations build exactly the schema of api/storage/models.py, on SQLite and PostgreSQL.

A model change without its migration makes ``test_models_match_migrations`` fail, naming the difference.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from api.storage.models import Base
from api.storage.session import MIGRATIONS, make_engine, upgrade_database


def _head() -> str:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"the migrations have several heads {heads}: one needs down_revision set to the other"
    return heads[0]


def _differences(url: str) -> list:
    engine = make_engine(url, pooled=False)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def _state(url: str) -> tuple[str | None, dict]:
    """The applied revision and, per table, its columns and indexes."""
    engine = make_engine(url, pooled=False)
    try:
        with engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
            inspector = inspect(connection)
            tables = {t: (sorted(c["name"] for c in inspector.get_columns(t)),
                          sorted(i["name"] for i in inspector.get_indexes(t)))
                      for t in inspector.get_table_names()}
            return revision, tables
    finally:
        engine.dispose()


def test_upgrade_creates_every_table(empty_db_url):
    upgrade_database(empty_db_url)
    revision, tables = _state(empty_db_url)
    assert revision == _head()
    missing = set(Base.metadata.tables) - set(tables)
    assert not missing, f"tables of models.py that no migration creates: {sorted(missing)}"
    for name, table in Base.metadata.tables.items():
        assert sorted(c.name for c in table.columns) == tables[name][0], name


def test_models_match_migrations(empty_db_url):
    upgrade_database(empty_db_url)
    differences = _differences(empty_db_url)
    assert differences == [], ("models.py and the migrations differ; write a migration in "
                               f"api/storage/migrations/versions/ for: {differences}")


def test_upgrade_twice_changes_nothing(empty_db_url):
    upgrade_database(empty_db_url)
    before = _state(empty_db_url)
    upgrade_database(empty_db_url)
    assert _state(empty_db_url) == before
    assert _differences(empty_db_url) == []
