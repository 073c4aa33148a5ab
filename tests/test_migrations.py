"""`flask db upgrade` builds the models' schema on an empty database, with no drift."""
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from esd.extensions import db

ROOT = Path(__file__).resolve().parent.parent


def upgrade(url: str) -> None:
    """Run `flask --app app db upgrade` as an operator would, against `url`."""
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "app"}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def drift(url: str) -> list:
    """What autogenerate would change to make the database match the models (nothing, we hope)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                   "compare_server_default": True})
            return compare_metadata(context, db.metadata)
    finally:
        engine.dispose()


def check(url: str) -> None:
    upgrade(url)
    engine = create_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert set(db.metadata.tables) <= tables and "alembic_version" in tables
    assert drift(url) == []
    upgrade(url)  # a second upgrade is a no-op


def test_upgrade_on_an_empty_sqlite_file(tmp_path):
    check(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")


@pytest.fixture
def fresh_postgres():
    """A new, empty PostgreSQL database on the test server, dropped afterwards."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("set TEST_DATABASE_URL to a PostgreSQL database to test migrations there")
    import psycopg
    base = make_url(url)
    name = f"esd_migration_{uuid.uuid4().hex[:10]}"
    admin_dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_upgrade_on_an_empty_postgresql_database(fresh_postgres):
    check(fresh_postgres)


def test_upgrade_of_a_sqlite_file_with_records_keeps_them(tmp_path):
    """Migrations that rebuild a table others refer to (SQLite's batch mode) work on a database in use."""
    import sqlite3
    url = f"sqlite:///{tmp_path / 'in-use.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "app"}
    first = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade", "0006_issued_packets"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    with sqlite3.connect(tmp_path / "in-use.sqlite3") as connection:
        connection.execute("INSERT INTO agency (id, name, timezone, warning_window_days, reminder_thresholds,"
                           " monthly_training_target_hours, created_at) VALUES (1, 'Metro', 'America/Chicago', 60,"
                           " '90,30', 16, '2026-01-01 00:00:00')")
        connection.execute("INSERT INTO dog (id, agency_id, name, status, created_at)"
                           " VALUES (1, 1, 'Rex', 'active', '2026-01-01 00:00:00')")
    upgrade(url)  # 0007 rebuilds the agency table, which the dog refers to
    with sqlite3.connect(tmp_path / "in-use.sqlite3") as connection:
        assert connection.execute("SELECT a.name, a.temperature_unit, d.name FROM dog d JOIN agency a"
                                  " ON a.id = d.agency_id").fetchall() == [("Metro", "F", "Rex")]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    assert drift(url) == []
