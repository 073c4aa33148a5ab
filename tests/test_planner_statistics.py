"""The query planner's statistics (esd/planner_statistics.py): gathered by the daily job and the bulk loaders."""
from __future__ import annotations

from sqlalchemy import text

from esd import planner_statistics
from esd.extensions import db
from tests.helpers import make_agency, make_deployment, make_dog, make_handler


def statistics_of(table: str) -> int:
    """How many statistics rows the planner holds about `table` (SQLite's sqlite_stat1, PostgreSQL's pg_stats)."""
    if db.engine.dialect.name == "postgresql":
        return db.session.scalar(text("SELECT count(*) FROM pg_stats WHERE tablename = :t"), {"t": table})
    exists = db.session.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"))
    return db.session.scalar(text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = :t"), {"t": table}) if exists else 0


def test_the_daily_job_gathers_the_planners_statistics_of_the_deployments(app):
    agency = make_agency()
    dog, handler = make_dog(agency), make_handler(agency)
    for _ in range(3):
        make_deployment(dog, handler)
    db.session.commit()
    if db.engine.dialect.name == "sqlite":  # start without statistics (PostgreSQL's cannot be dropped)
        db.session.execute(text("DROP TABLE IF EXISTS sqlite_stat1"))
        db.session.commit()
        assert statistics_of("deployment") == 0

    planner_statistics.run(app)

    db.session.rollback()  # a new transaction sees what the job's own connection wrote
    assert statistics_of("deployment") > 0
