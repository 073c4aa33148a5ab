"""The audit log is a hash chain: `flask esd audit verify` passes on the log as written, names the
first entry that was edited, deleted, inserted or moved by direct SQL, and the chain stays whole
when two processes append at once.

Run with `python -m tests.test_audit_chain URL N` it is one such appending process.
"""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from esd.audit import audit_reason, record_event
from esd.audit_chain import GENESIS, entry_hash
from esd.extensions import db
from esd.models import AuditEntry
from tests.helpers import make_agency, make_dog, make_user
from tests.test_migrations import fresh_postgres  # noqa: F401  (fixture)
from tests.test_reminders import smtp  # noqa: F401  (fixture: a real SMTP server)

ROOT = Path(__file__).resolve().parent.parent


def verify(app):
    """Run `flask esd audit verify` as an operator would; its exit code and output."""
    result = app.test_cli_runner().invoke(args=["esd", "audit", "verify"])
    return result.exit_code, result.output  # click 8.2+: stdout and stderr together


def write_some_history(entries: int = 6) -> list[int]:
    """Audited changes and events, committed one by one; the ids of the entries in order."""
    agency = make_agency()
    db.session.commit()
    for n in range(entries - 2):
        dog = make_dog(agency, name=f"Dog {n}")
        db.session.commit()
        if n % 2:
            dog.breed = "Labrador"
            audit_reason("breed corrected")
            db.session.commit()
    record_event("export", "all", agency_id=agency.id, changes={"start": "", "end": ""})
    db.session.commit()
    return list(db.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))


def sql(statement: str, **params) -> None:
    db.session.execute(text(statement), params)
    db.session.commit()


def test_the_log_as_written_verifies_with_its_count_and_head(app):
    ids = write_some_history()
    head = db.session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    code, output = verify(app)
    assert code == 0, output
    assert f"{len(ids)} entries, head {head}" in output
    first = db.session.get(AuditEntry, ids[0])
    assert first.prev_hash == GENESIS
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    for before, after in zip(entries, entries[1:]):
        assert after.prev_hash == before.hash


def test_an_empty_log_verifies(app):
    sql("DELETE FROM audit_entry")
    code, output = verify(app)
    assert code == 0 and "0 entries" in output


@pytest.mark.parametrize("statement, row, named, says", [
    ("UPDATE audit_entry SET reason = 'nothing to see' WHERE id = :id", 2, 2, "altered"),
    ("DELETE FROM audit_entry WHERE id = :id", 3, 4, "deleted"),
])
def test_an_edited_or_deleted_entry_is_named(app, statement, row, named, says):
    ids = write_some_history()
    sql(statement, id=ids[row])
    code, output = verify(app)
    assert code == 1
    assert f"broken at entry #{ids[named]}" in output and says in output


def test_an_edit_with_its_hash_recomputed_breaks_the_next_link(app):
    ids = write_some_history()
    entry = db.session.get(AuditEntry, ids[2])
    content = {key: getattr(entry, key) for key in ("at", "user_id", "agency_id", "ip", "entity", "entity_id",
                                                    "action", "changes", "reason")}
    content["reason"] = "forged"
    forged = entry_hash(content, entry.prev_hash)
    db.session.rollback()
    sql("UPDATE audit_entry SET reason = 'forged', hash = :h WHERE id = :id", h=forged, id=ids[2])
    code, output = verify(app)
    assert code == 1
    assert f"broken at entry #{ids[3]}" in output and f"entry #{ids[2]}" in output


def test_an_inserted_entry_is_named(app):
    ids = write_some_history()
    at = ids[2]
    # Make room after entry `at` by moving the later ones up, then slip in a well-formed entry.
    for entry_id in reversed(ids[at:]):
        sql("UPDATE audit_entry SET id = :new WHERE id = :old", new=entry_id + 1, old=entry_id)
    prev = db.session.get(AuditEntry, at)
    content = {"at": prev.at, "user_id": None, "agency_id": prev.agency_id, "ip": None, "entity": "dog",
               "entity_id": 999, "action": "archive", "changes": None, "reason": "backdated"}
    forged = entry_hash(content, prev.hash)
    db.session.rollback()
    db.session.execute(AuditEntry.__table__.insert().values(id=at + 1, prev_hash=prev.hash, hash=forged,
                                                            **content))
    db.session.commit()
    code, output = verify(app)
    assert code == 1
    assert f"broken at entry #{at + 1}" in output and "inserted" in output


def test_two_entries_swapped_are_named(app):
    ids = write_some_history()
    a, b = ids[2], ids[3]
    sql("UPDATE audit_entry SET id = :tmp WHERE id = :a", tmp=-1, a=a)
    sql("UPDATE audit_entry SET id = :a WHERE id = :b", a=a, b=b)
    sql("UPDATE audit_entry SET id = :b WHERE id = :tmp", b=b, tmp=-1)
    code, output = verify(app)
    assert code == 1
    assert f"broken at entry #{a}" in output and "out of order" in output


# --------------------------------------------------------------------------- concurrent appends

APPENDS = 60


def append_in_process(url: str, n: int) -> None:
    """One writer: `n` audited changes and events, each in its own transaction."""
    from esd import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "TESTING": True})
    with app.app_context():
        agency = make_agency(name=f"Task Force of process {os.getpid()}")
        db.session.commit()
        for i in range(n):
            if i % 2:
                make_dog(agency, name=f"Dog {i}", microchip_id=f"{os.getpid()}-{i}")
            else:
                record_event("export", "all", agency_id=agency.id, changes={"n": i})
            db.session.commit()


def test_two_processes_appending_at_once_keep_one_valid_chain(app, database_url, tmp_path):
    env = dict(os.environ, MPLCONFIGDIR=str(tmp_path / "mpl"))
    writers = [subprocess.Popen([sys.executable, "-m", "tests.test_audit_chain", database_url, str(APPENDS)],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    for writer in writers:
        _, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 2 * (APPENDS + 1)
    code, output = verify(app)
    assert code == 0, output
    assert f"{2 * (APPENDS + 1)} entries" in output


if __name__ == "__main__":
    append_in_process(sys.argv[1], int(sys.argv[2]))


# --------------------------------------------------------------------------- the migration

def flask_cli(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "app"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def migrate_a_log_written_before_the_chain(url: str) -> None:
    assert flask_cli(url, "db", "upgrade", "0004_two_factor").returncode == 0  # the last before the chain
    engine = create_engine(url)
    with engine.begin() as connection:
        for n in range(5):
            connection.execute(text(
                "INSERT INTO audit_entry (at, action, entity, entity_id, changes, reason) "
                "VALUES (:at, 'update', 'dog', :n, :changes, :reason)"),
                {"at": f"2026-0{n + 1}-01 12:00:00", "n": n, "changes": '{"breed": ["Lab", "Labrador"]}',
                 "reason": f"fix {n}"})
    engine.dispose()
    upgraded = flask_cli(url, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    verified = flask_cli(url, "esd", "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "5 entries" in verified.stdout
    engine = create_engine(url)
    with engine.begin() as connection:  # and the chain it built is the one verify checks
        connection.execute(text("UPDATE audit_entry SET reason = 'rewritten' WHERE entity_id = 2"))
    engine.dispose()
    broken = flask_cli(url, "esd", "audit", "verify")
    assert broken.returncode == 1 and "entry #3 was altered" in broken.stderr


def test_the_migration_chains_the_entries_already_stored_sqlite(tmp_path):
    migrate_a_log_written_before_the_chain(f"sqlite:///{tmp_path / 'old.sqlite3'}")


def test_the_migration_chains_the_entries_already_stored_postgresql(fresh_postgres):
    migrate_a_log_written_before_the_chain(fresh_postgres)


# --------------------------------------------------------------------------- the daily checkpoint

def test_the_daily_checkpoint_emails_the_head_to_each_agencys_managers_once(app, smtp):
    from esd.verification.checkpoint import send_checkpoints
    agency, other = make_agency(name="Metro ICAC"), make_agency(name="Harbor ICAC")
    managers = [make_user("manager", agency), make_user("manager", agency)]
    make_user("manager", agency, active=False)
    make_user("handler", agency)
    other_manager = make_user("manager", other)
    db.session.commit()
    head = db.session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    count = db.session.scalar(select(func.count()).select_from(AuditEntry))
    lines = send_checkpoints(now=datetime(2026, 12, 1, 12, tzinfo=timezone.utc))
    assert len(lines) == 2
    assert smtp.inbox.recipients() == sorted([m.email for m in managers] + [other_manager.email])
    body = smtp.inbox.to(managers[0].email)[0].get_content()
    assert head in body and f"Entries:   {count}" in body and "2026-12-01" in body
    # a second run the same day (or a second scheduler) sends nothing more
    send_checkpoints(now=datetime(2026, 12, 1, 18, tzinfo=timezone.utc))
    assert len(smtp.inbox.messages) == 3
    # the next day's goes out
    send_checkpoints(now=datetime(2026, 12, 2, 12, tzinfo=timezone.utc))
    assert len(smtp.inbox.messages) == 6


def test_a_checkpoint_that_failed_is_sent_at_the_next_run(app, smtp):
    from esd.verification.checkpoint import send_checkpoints
    manager = make_user("manager", make_agency())
    db.session.commit()
    smtp.stop()
    assert "failed" in send_checkpoints(now=datetime(2026, 12, 1, 12, tzinfo=timezone.utc))[0]
    smtp.start()
    assert "sent" in send_checkpoints(now=datetime(2026, 12, 1, 13, tzinfo=timezone.utc))[0]
    assert [r for r in smtp.inbox.recipients()] == [manager.email]
