"""Storage: SQLAlchemy tables, sessions and Alembic migrations (SQLite by default, PostgreSQL by URL).

Each module holds the queries of one area (``calls.py``, ``jobs.py``, ``reviews.py``, ``audit.py``,
``tokens.py``); routes call those functions and never build queries themselves.
"""
