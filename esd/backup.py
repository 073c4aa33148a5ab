"""Backups that restore: one archive with the database, the uploaded files and a manifest of their SHA-256.

The database is copied consistently while people keep writing: SQLite through its online backup API in
one step (a read transaction in WAL mode does not block the writers, and every session acknowledged
before the copy began is in it), PostgreSQL through `pg_dump --format=custom` (one snapshot). Copying
the SQLite file itself is not a backup: it misses what is still in the write-ahead log and can catch
pages mid-write.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, Connection, Engine

from .models import AuditEntry, utcnow

MANIFEST = "manifest.json"
FORMAT = 1
DATABASE_MEMBER = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
UPLOADS = "uploads"
CHUNK = 1024 * 1024

Progress = Callable[[int], None]


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, naming the file."""


@dataclass
class Step:
    """A long step the command line shows with a progress bar: its label and length."""
    label: str
    length: int


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def pg_environment(url: URL) -> tuple[list[str], dict]:
    """Connection arguments for pg_dump / pg_restore, the password in the environment (not in `ps`)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    args = ["--dbname", url.database or ""]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    return args, env


def run_tool(command: list[str], env: dict) -> None:
    """Run a PostgreSQL client tool; its own error message when it fails."""
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed (Debian: apt-get install postgresql-client).") from None
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip() or result.stdout.strip()}")


def copy_database(engine: Engine, into: Path) -> tuple[Path, dict | None, str | None]:
    """Write a consistent copy of the database into the folder `into`.

    Return the file, and the audit head and schema revision *of that copy* (read from the same snapshot:
    entries appended by writers meanwhile are not in the copy, so they must not be in the manifest).
    """
    dialect = engine.dialect.name
    if dialect not in DATABASE_MEMBER:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {dialect}.")
    target = into / DATABASE_MEMBER[dialect]
    if dialect == "sqlite":
        source = sqlite3.connect(engine.url.database, timeout=30)
        copy = sqlite3.connect(target)
        try:
            # pages=-1: the whole database in one step, one read snapshot. In steps the copy would restart
            # whenever another connection writes between two of them, and could run forever under load.
            source.backup(copy, pages=-1)
        finally:
            copy.close()
            source.close()
        snapshot = create_engine(f"sqlite:///{target}")
        try:
            with snapshot.connect() as connection:
                return target, audit_head(connection), schema_revision(connection)
        finally:
            snapshot.dispose()
    args, env = pg_environment(engine.url)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        with connection.begin():
            # pg_dump reads the snapshot this transaction exported, so the head is the dump's own.
            exported = connection.execute(text("SELECT pg_export_snapshot()")).scalar()
            head, revision = audit_head(connection), schema_revision(connection)
            run_tool(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={exported}",
                      "--file", str(target), *args], env)
    return target, head, revision


def audit_head(connection: Connection) -> dict | None:
    """The newest audit entry: its id and the SHA-256 of its content (sorted-key JSON), or None."""
    row = connection.execute(AuditEntry.__table__.select().order_by(AuditEntry.id.desc()).limit(1)).mappings().first()
    if row is None:
        return None
    content = {key: (value.isoformat() if isinstance(value, datetime) else value) for key, value in row.items()}
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()
    return {"id": row["id"], "sha256": hashlib.sha256(encoded).hexdigest()}


def schema_revision(connection: Connection) -> str | None:
    """The Alembic revision of the database, when it was built by migrations."""
    if not inspect(connection).has_table("alembic_version"):
        return None  # a schema made by create_all
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upload_files(folder: Path) -> list[Path]:
    """The uploaded files (certificates, photos), relative to `folder`, in a stable order."""
    if not folder.is_dir():
        return []
    return sorted(path.relative_to(folder) for path in folder.rglob("*") if path.is_file())


def archive_name(now: datetime) -> str:
    return f"esd-backup-{now:%Y%m%dT%H%M%SZ}.tar.gz"


def write_backup(engine: Engine, uploads: Path, destination: Path,
                 progress: Callable[[Step], Progress] | None = None, now: datetime | None = None) -> Path:
    """Write one archive (database, uploads, manifest) to `destination`: a `.tar.gz` file, or a folder to put it in.

    The archive appears under its final name only when complete, so a half-written one is never mistaken
    for a backup. `progress(step)` returns a function called with the work done in that step.
    """
    now = now or utcnow()
    progress = progress or (lambda step: (lambda n: None))
    as_file = destination.name.endswith((".tar.gz", ".tgz")) and not destination.is_dir()
    path = destination if as_file else destination / archive_name(now)
    if path.exists():
        raise BackupError(f"{path} exists already; give a new file name or a folder.")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".esd-backup-") as work:
        advance = progress(Step("Copying the database", 1))
        database, head, revision = copy_database(engine, Path(work))
        advance(1)
        files = upload_files(uploads)
        manifest = {"format": FORMAT, "created_at": now.isoformat(), "dialect": engine.dialect.name,
                    "database": database.name, "schema_revision": revision, "audit_head": head, "files": {}}
        partial = Path(work) / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as archive:
            advance = progress(Step("Archiving the database and uploads", 1 + len(files)))
            manifest["files"][database.name] = sha256_of(database)
            archive.add(database, arcname=database.name)
            advance(1)
            for relative in files:
                name = f"{UPLOADS}/{relative.as_posix()}"
                manifest["files"][name] = sha256_of(uploads / relative)
                archive.add(uploads / relative, arcname=name)
                advance(1)
            body = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(body), int(now.timestamp())
            archive.addfile(info, io.BytesIO(body))
        os.replace(partial, path)
    return path
