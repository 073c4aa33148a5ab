"""`flask esd backup` while ten writers upload, and `flask esd restore` into a new installation:
everything acknowledged before the backup began comes back intact; a damaged or altered archive and a
non-empty target are refused before anything is written."""
from __future__ import annotations

import io
import sqlite3
import tarfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from esd import create_app
from esd.extensions import db
from esd.models import TrainingSession
from tests.helpers import PASSWORD, make_agency, make_dog, make_handler, make_team, make_user, term

WRITERS = 10


@pytest.fixture
def empty_installation(app, tmp_path):
    """A second app on a new, empty database of the same kind (a second PostgreSQL database when on it)."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    admin_engine = None
    if url.get_backend_name() == "postgresql":
        target = f"{url.database}_restore"
        admin_engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{target}"'))
        target_url = url.set(database=target).render_as_string(hide_password=False)
    else:
        target_url = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    restored = create_app({"TESTING": True, "SECRET_KEY": "restore-test", "WTF_CSRF_ENABLED": False,
                           "SQLALCHEMY_DATABASE_URI": target_url,
                           "UPLOAD_FOLDER": str(tmp_path / "restored" / "uploads"),
                           "CACHE_DIR": str(tmp_path / "restored" / "cache")})
    yield restored
    with restored.app_context():
        db.session.remove()
        db.engine.dispose()
    if admin_engine is not None:
        with admin_engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
        admin_engine.dispose()


def run(app, *args):
    """Run `flask esd …` against `app`, as an operator would (its own app context: the command uses the current one)."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=["esd", *args])


def a_team_with_an_upload(app) -> tuple:
    agency = make_agency()
    user = make_user("manager", agency)
    dog = make_dog(agency)
    make_team(dog, make_handler(agency))
    db.session.commit()
    photo = Path(app.config["UPLOAD_FOLDER"]) / "dogs" / f"{uuid.uuid4().hex}.png"
    photo.parent.mkdir(parents=True, exist_ok=True)
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + uuid.uuid4().bytes * 64)
    return user, dog, photo


class Writers:
    """Ten tablets posting sessions until stopped; what the server acknowledged, in order."""

    def __init__(self, app, email: str, dog_id: int):
        self.app, self.dog_id = app, dog_id
        login = app.test_client()
        assert login.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
        self.cookie = login.get_cookie("session").value
        with app.app_context():
            self.device, self.spot = term("device_type").id, term("hiding_spot").id
        self.acknowledged: list[str] = []
        self.errors: list[str] = []
        self.lock, self.stop = threading.Lock(), threading.Event()
        self.threads = [threading.Thread(target=self.write, args=(k,)) for k in range(WRITERS)]

    def write(self, k: int):
        client = self.app.test_client()
        client.set_cookie("session", self.cookie)
        start = datetime.now(timezone.utc) - timedelta(days=2)
        i = 0
        while not self.stop.is_set():
            body = {"client_uuid": str(uuid.uuid4()), "dog_id": self.dog_id, "duration_minutes": 30,
                    "started_at": (start + timedelta(seconds=k * 10000 + i)).isoformat(), "purpose": "maintenance",
                    "hides": [{"device_type_id": self.device, "hiding_spot_id": self.spot, "outcome": "found",
                               "blind": j % 2 == 0} for j in range(5)]}
            i += 1
            try:
                status = client.post("/api/sessions", json=body).status_code
            except Exception as exc:  # "database is locked" and the like, reported by the test
                with self.lock:
                    self.errors.append(repr(exc))
                continue
            with self.lock:
                if status in (200, 201):
                    self.acknowledged.append(body["client_uuid"])
                else:
                    self.errors.append(f"answered {status}")

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def wait_for(self, count: int, timeout: float = 120):
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < count and time.monotonic() < deadline and not self.errors:
            time.sleep(0.05)
        assert len(self.acknowledged) >= count and not self.errors, self.errors[:3]

    def snapshot(self) -> set[str]:
        with self.lock:
            return set(self.acknowledged)


def test_a_backup_taken_while_ten_writers_upload_restores_everything_acknowledged_before_it(
        app, empty_installation, tmp_path):
    user, dog, photo = a_team_with_an_upload(app)
    with Writers(app, user.email, dog.id) as writers:
        writers.wait_for(30)
        before = writers.snapshot()
        result = run(app, "backup", str(tmp_path))
        during = len(writers.acknowledged) - len(before)
        writers.wait_for(len(before) + during + 20)  # the writers went on after the backup, unharmed
    assert result.exit_code == 0, result.output
    assert "Copying the database" in result.output and "Backup written" in result.output
    archive = next(tmp_path.glob("esd-backup-*.tar.gz"))

    restored = run(empty_installation, "restore", str(archive))
    assert restored.exit_code == 0, result.output + restored.output
    assert "the rollups agree with the raw rows" in restored.output

    target = make_url(empty_installation.config["SQLALCHEMY_DATABASE_URI"])
    if target.get_backend_name() == "sqlite":
        with sqlite3.connect(target.database) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with empty_installation.app_context():
        stored = set(db.session.scalars(select(TrainingSession.client_uuid)))
        assert before <= stored, f"{len(before - stored)} acknowledged sessions missing"
    restored_photo = Path(empty_installation.config["UPLOAD_FOLDER"]) / photo.relative_to(app.config["UPLOAD_FOLDER"])
    assert restored_photo.read_bytes() == photo.read_bytes()

    # The restored installation works: its manager signs in and sees the dog's sessions.
    client = empty_installation.test_client()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    assert client.get(f"/dogs/{dog.id}").status_code == 200


def rewrite(archive: Path, change) -> Path:
    """A copy of `archive` with each member's bytes passed through `change(name, data)`."""
    altered = archive.with_name("altered.tar.gz")
    with tarfile.open(archive, "r:gz") as source, tarfile.open(altered, "w:gz") as out:
        for member in source.getmembers():
            data = change(member.name, source.extractfile(member).read())
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    return altered


@pytest.mark.parametrize("how, named", [
    ("photo", "uploads/dogs/"),
    ("database", "database."),
    ("extra", "uploads/dogs/planted.png"),
    ("truncated", "is damaged"),
])
def test_an_altered_or_damaged_archive_is_refused_naming_the_file(app, empty_installation, tmp_path, how, named):
    _, _, photo = a_team_with_an_upload(app)
    result = run(app, "backup", str(tmp_path / "b.tar.gz"))
    assert result.exit_code == 0, result.output
    archive = tmp_path / "b.tar.gz"
    if how == "photo":
        bad = rewrite(archive, lambda name, data: data[:-1] + b"!" if name.endswith(photo.name) else data)
    elif how == "database":
        bad = rewrite(archive, lambda name, data: data + b"\0" if name.startswith("database.") else data)
    elif how == "extra":
        bad = archive.with_name("extra.tar.gz")
        with tarfile.open(archive, "r:gz") as source, tarfile.open(bad, "w:gz") as out:
            for member in source.getmembers():
                out.addfile(member, source.extractfile(member))
            planted = tarfile.TarInfo("uploads/dogs/planted.png")
            planted.size = 3
            out.addfile(planted, io.BytesIO(b"bad"))
    else:
        bad = archive.with_name("truncated.tar.gz")
        bad.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])

    refused = run(empty_installation, "restore", str(bad))
    assert refused.exit_code == 2
    assert "Refused" in refused.output and named in refused.output
    if how != "truncated":
        assert bad.name in refused.output
    # Nothing was written: no uploads, and the target database has no rows.
    assert not any(Path(empty_installation.config["UPLOAD_FOLDER"]).rglob("*.png"))
    with empty_installation.app_context():
        from esd.restore import target_problem
        assert target_problem(db.engine, Path(empty_installation.config["UPLOAD_FOLDER"])) is None


def test_restore_refuses_a_database_that_has_data(app, tmp_path):
    a_team_with_an_upload(app)
    assert run(app, "backup", str(tmp_path / "b.tar.gz")).exit_code == 0
    dogs_before = db.session.scalar(text("SELECT count(*) FROM dog"))
    refused = run(app, "restore", str(tmp_path / "b.tar.gz"))
    assert refused.exit_code == 2
    assert "The database is not empty" in refused.output and "nothing was changed" in refused.output
    assert db.session.scalar(text("SELECT count(*) FROM dog")) == dogs_before


def test_restore_into_a_migrated_but_empty_database_and_the_app_reads_it(app, empty_installation, tmp_path):
    user, dog, photo = a_team_with_an_upload(app)
    assert run(app, "backup", str(tmp_path / "b.tar.gz")).exit_code == 0
    with empty_installation.app_context():
        db.create_all()  # as after `flask db upgrade` on the new installation: tables, no rows
        db.session.remove()
    restored = run(empty_installation, "restore", str(tmp_path / "b.tar.gz"))
    assert restored.exit_code == 0, restored.output
    client = empty_installation.test_client()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    assert client.get(f"/dogs/{dog.id}").status_code == 200


def test_a_restored_audit_log_that_was_altered_before_the_backup_fails_the_check_naming_the_entry(
        app, empty_installation, tmp_path):
    a_team_with_an_upload(app)
    entry_id = db.session.scalar(text("SELECT min(id) FROM audit_entry"))
    db.session.execute(text("UPDATE audit_entry SET reason = 'rewritten later' WHERE id = :id"), {"id": entry_id})
    db.session.commit()
    assert run(app, "backup", str(tmp_path / "b.tar.gz")).exit_code == 0  # the archive itself is intact

    restored = run(empty_installation, "restore", str(tmp_path / "b.tar.gz"))
    assert restored.exit_code == 1
    assert "The audit chain is broken" in restored.output and f"entry #{entry_id} was altered" in restored.output
