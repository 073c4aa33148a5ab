"""The query planner's statistics: `ANALYZE`, after a bulk load and daily.

Without statistics a planner chooses an index by the query's shape alone. SQLite never gathers
them by itself: at 1M hides it counted a dog's 160 deployments through the agency's index (the
agency's 650), 1.2 ms instead of 0.25, and read its field alerts the same way (1.5 ms instead of
0.6), on every dog page.
PostgreSQL's autovacuum gathers them eventually, but after a COPY the planner plans for empty
tables until it does (a dog's session list took 3× longer). So the bulk loaders (the scale seed,
`flask esd import`) refresh them when they finish, and the scheduler does daily as the data grows.
`ANALYZE` takes about half a second on SQLite at 1M hides, and about a second on PostgreSQL.

`run(app)` is module-level so that APScheduler can name it as "esd.planner_statistics:run".
"""
from __future__ import annotations

import logging

from flask import Flask

from .extensions import db

log = logging.getLogger("esd.planner_statistics")


def refresh() -> None:
    """Gather the planner's statistics of every table, outside any transaction (its own connection)."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("ANALYZE")


def run(app: Flask) -> None:
    """The scheduler's daily entry point."""
    with app.app_context():
        refresh()
    log.info("planner statistics refreshed")
