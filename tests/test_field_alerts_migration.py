"""The field-alert migration on a database in use: each deployment marked "unverified alert" becomes
one unverified alert, each find a confirmed alert linked to it, and the monthly rollups stay equal to
the rows (SQLite and PostgreSQL)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.test_migrations import ROOT, drift, fresh_postgres, upgrade  # noqa: F401  (fresh_postgres: a fixture)

MIGRATION = next((ROOT / "migrations" / "versions").glob("*_field_alerts.py"))


def _revisions() -> tuple[str, str]:
    """(the field-alert migration's revision, the one before it), read from its file."""
    namespace: dict = {}
    exec(compile(MIGRATION.read_text().split("\ndef upgrade")[0], str(MIGRATION), "exec"), namespace)
    return namespace["revision"], namespace["down_revision"]


def _flask(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "app"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


OLD_ROWS = """
INSERT INTO agency (id, name, timezone, warning_window_days, reminder_thresholds, monthly_training_target_hours,
                    created_at, temperature_unit, proficiency_standard, readiness_window_days)
    VALUES (1, 'Metro', 'UTC', 60, '90,30', 16, '2026-01-01 00:00:00', 'F', 90, 60);
INSERT INTO dog (id, agency_id, name, status, created_at) VALUES (1, 1, 'Rex', 'active', '2026-01-01 00:00:00');
INSERT INTO handler (id, agency_id, name, created_at) VALUES (1, 1, 'Dana', '2026-01-01 00:00:00');
INSERT INTO vocabulary_term (id, kind, name, position, active) VALUES (1, 'device_type', 'Phone', 1, TRUE);
INSERT INTO vocabulary_term (id, kind, name, position, active) VALUES (2, 'hiding_spot', 'Drawer', 1, TRUE);
INSERT INTO deployment (id, agency_id, dog_id, handler_id, started_at, legal_authority, unverified_alert, created_at)
    VALUES (1, 1, 1, 1, '2026-03-02 10:00:00', 'consent', TRUE, '2026-03-02 12:00:00');
INSERT INTO deployment (id, agency_id, dog_id, handler_id, started_at, legal_authority, unverified_alert, created_at)
    VALUES (2, 1, 1, 1, '2026-03-05 10:00:00', 'consent', FALSE, '2026-03-05 12:00:00');
INSERT INTO deployment (id, agency_id, dog_id, handler_id, started_at, legal_authority, unverified_alert, created_at)
    VALUES (3, 1, 1, 1, '2026-03-09 10:00:00', 'search_warrant', TRUE, '2026-03-09 12:00:00');
INSERT INTO deployment (id, agency_id, dog_id, handler_id, started_at, legal_authority, unverified_alert, created_at)
    VALUES (4, 1, 1, 1, '2026-03-12 10:00:00', 'consent', FALSE, '2026-03-12 12:00:00');
INSERT INTO find (id, deployment_id, device_type_id, hiding_spot_id, missed_by_human_search, evidence)
    VALUES (1, 2, 1, 2, FALSE, 'pending');
INSERT INTO find (id, deployment_id, device_type_id, hiding_spot_id, missed_by_human_search, evidence)
    VALUES (2, 2, 1, NULL, FALSE, 'pending');
INSERT INTO find (id, deployment_id, device_type_id, hiding_spot_id, missed_by_human_search, evidence)
    VALUES (3, 3, 1, 2, FALSE, 'pending');
INSERT INTO deployment_rollup (agency_id, month, deployments, unverified_alerts, finds, finds_missed, evidence_yes,
                               evidence_no, evidence_pending, searches_with_find, searches_with_missed_find)
    VALUES (1, '2026-03-01', 4, 2, 3, 0, 0, 0, 3, 2, 0);
"""


def _migrate_a_database_in_use(url: str) -> None:
    _, previous = _revisions()
    result = _flask(url, "db", "upgrade", previous)
    assert result.returncode == 0, result.stderr
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in OLD_ROWS.split(";"):
                if statement.strip():
                    connection.execute(text(statement))
        upgrade(url)
        with engine.connect() as connection:
            alerts = connection.execute(text(
                "SELECT deployment_id, outcome, find_id, hiding_spot_id, explanation FROM field_alert"
                " ORDER BY deployment_id, outcome, find_id")).all()
            rollup = connection.execute(text(
                "SELECT deployments, unverified_alerts, alerts, alerts_confirmed, alerts_explained"
                " FROM deployment_rollup")).all()
        columns = {c["name"] for c in inspect(engine).get_columns("deployment")}
    finally:
        engine.dispose()
    assert alerts == [(1, "unverified", None, None, None),
                      (2, "confirmed", 1, 2, None), (2, "confirmed", 2, None, None),
                      (3, "confirmed", 3, 2, None), (3, "unverified", None, None, None)]
    assert rollup == [(4, 2, 5, 3, 0)]
    assert "unverified_alert" not in columns
    assert drift(url) == []
    verify = _flask(url, "esd", "rollups", "--verify")  # the rollups agree with the migrated rows
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_unverified_alert_deployments_become_alerts_on_sqlite(tmp_path):
    _migrate_a_database_in_use(f"sqlite:///{tmp_path / 'in-use.sqlite3'}")


def test_unverified_alert_deployments_become_alerts_on_postgresql(fresh_postgres):  # noqa: F811
    _migrate_a_database_in_use(fresh_postgres)
