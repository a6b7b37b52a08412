"""Job runner (to be written: worker processes that take queued jobs from the database)."""

from __future__ import annotations


class JobRunner:
    """Starts and stops the pipeline workers of one service."""

    def __init__(self, config, db):
        self.config = config
        self.db = db

    def start(self) -> None:
        """Start the workers."""

    def stop(self) -> None:
        """Stop the workers."""
