"""Restoring a backup archive into an empty installation, refusing a damaged or altered one first.

Nothing is written until every file of the archive matches the manifest's SHA-256, and never over a
database that has rows or other connections: a backup copied over a live database while uploads ran
gave "database disk image is malformed" and uploads acknowledged into the broken file.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Callable

from sqlalchemy import inspect, literal, select, table, text
from sqlalchemy.engine import Connection, Engine

from .backup import (CHUNK, DATABASE_MEMBER, FORMAT, MANIFEST, UPLOADS, BackupError, Progress, Step, audit_head,
                     pg_environment, run_tool, upload_files)


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts


def unpack_verified(archive: Path, into: Path, progress: Callable[[Step], Progress]) -> dict:
    """Unpack `archive` into the folder `into`, checking each file against the manifest; return the manifest.

    Raises BackupError naming the archive or the first file that is damaged, altered, missing or extra.
    """
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            manifest_member = next((m for m in members if m.name == MANIFEST), None)
            if manifest_member is None:
                raise BackupError(f"{archive}: no {MANIFEST} in it; this is not an ESD K9 Tracker backup.")
            try:
                manifest = json.load(tar.extractfile(manifest_member))
                listed = dict(manifest["files"])
            except (ValueError, KeyError, TypeError):
                raise BackupError(f"{archive}: {MANIFEST} is damaged (not the JSON a backup writes).") from None
            if manifest.get("format") != FORMAT or manifest.get("dialect") not in DATABASE_MEMBER:
                raise BackupError(f"{archive}: {MANIFEST} names an unknown format or database.")
            advance = progress(Step("Checking the archive", len(listed)))
            seen = set()
            for member in members:
                if member.name == MANIFEST:
                    continue
                if member.name not in listed or not member.isfile() or not _safe_name(member.name):
                    raise BackupError(f"{archive}: {member.name} is not in the manifest; the archive was altered.")
                target = into / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with tar.extractfile(member) as source, open(target, "wb") as out:
                    for chunk in iter(lambda: source.read(CHUNK), b""):
                        digest.update(chunk)
                        out.write(chunk)
                if digest.hexdigest() != listed[member.name]:
                    raise BackupError(f"{archive}: {member.name} was altered or damaged "
                                      "(its SHA-256 differs from the manifest's).")
                seen.add(member.name)
                advance(1)
            missing = sorted(set(listed) - seen)
            if missing:
                raise BackupError(f"{archive}: {missing[0]} is listed in the manifest but missing from the archive.")
            if manifest.get("database") not in seen:
                raise BackupError(f"{archive}: the database file is missing from the archive.")
            return manifest
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        if isinstance(error, FileNotFoundError) and not archive.exists():
            raise BackupError(f"{archive}: no such file.") from None
        raise BackupError(f"{archive} is damaged and cannot be read ({error}).") from None


def target_problem(engine: Engine, uploads: Path) -> str | None:
    """Why the installation cannot receive a restore (rows, other connections, files), or None."""
    is_new_file = engine.dialect.name == "sqlite" and not Path(engine.url.database or "").exists()
    if not is_new_file:
        with engine.connect() as connection:
            for name in inspect(connection).get_table_names():
                if name != "alembic_version" and connection.execute(
                        select(literal(1)).select_from(table(name)).limit(1)).first():
                    return (f"The database is not empty (table {name} has rows). Restore only into a new, empty "
                            "database; nothing was changed.")
            if engine.dialect.name == "postgresql":
                others = connection.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()")).scalar()
                if others:
                    return (f"The database is in use ({others} other connections). Stop the app and its workers "
                            "first; nothing was changed.")
    if upload_files(uploads):
        return f"The uploads folder {uploads} is not empty. Restore only into a new installation; nothing was changed."
    return None


def restore_database(engine: Engine, dialect: str, dump: Path) -> None:
    """Load the archive's database into the (checked empty) database of `engine`."""
    if dialect != engine.dialect.name:
        raise BackupError(f"The archive holds a {dialect} database, but this installation uses "
                          f"{engine.dialect.name}; set DATABASE_URL to a {dialect} database.")
    engine.dispose()  # our own pooled connections: none may hold the database while it is replaced
    if dialect == "sqlite":
        Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
        source, target = sqlite3.connect(dump), sqlite3.connect(engine.url.database, timeout=30)
        try:
            source.backup(target)  # through SQLite's locks, never a file copy over the database
        finally:
            target.close()
            source.close()
    else:
        args, env = pg_environment(engine.url)
        run_tool(["pg_restore", "--no-owner", "--no-privileges", "--clean", "--if-exists", "--exit-on-error",
                  "--single-transaction", *args, str(dump)], env)


def restore_uploads(staged: Path, uploads: Path, progress: Callable[[Step], Progress]) -> int:
    files = upload_files(staged / UPLOADS)
    advance = progress(Step("Restoring the uploaded files", len(files)))
    for relative in files:
        target = uploads / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staged / UPLOADS / relative), target)
        advance(1)
    return len(files)


def check_audit_head(connection: Connection, manifest: dict) -> str | None:
    """Why the restored audit log does not end where the backup's did, or None."""
    if audit_head(connection) != manifest.get("audit_head"):
        return "The restored audit log does not end with the entry the manifest names."
    return None


def restore(archive: Path, engine: Engine, uploads: Path, progress: Callable[[Step], Progress]) -> dict:
    """Check `archive`, then restore it into this empty installation; return the manifest.

    Raises BackupError before anything is written when the archive or the target is not right.
    """
    problem = target_problem(engine, uploads)
    if problem:
        raise BackupError(problem)
    # Staged beside the uploads folder: on the same file system, so the files are moved, not copied again.
    uploads.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=uploads.parent, prefix=".esd-restore-") as work:
        staged = Path(work)
        manifest = unpack_verified(archive, staged, progress)
        advance = progress(Step("Restoring the database", 1))
        restore_database(engine, manifest["dialect"], staged / manifest["database"])
        advance(1)
        restore_uploads(staged, uploads, progress)
    return manifest
