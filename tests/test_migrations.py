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
