"""The audit log as a hash chain: each entry carries the hash of the one before it.

An entry's hash is SHA-256 over a canonical encoding (sorted-key JSON) of its content and the
previous entry's hash, so an entry edited, deleted, inserted or moved by direct SQL breaks the
chain where it happened, and `flask esd audit verify` names it. Appends are serialised: on
PostgreSQL by a transaction-scoped advisory lock, on SQLite by the write lock the session takes
anyway (esd/sqlite_writes.py); the head is read through the primary key's index, never by a scan.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterable

from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session, object_session

from . import sqlite_writes
from .models import FalseAlert, Hide, TrainingSession
from .models.audit import AuditEntry
from .models.base import utcnow

GENESIS = "0" * 64
# The content an entry's hash covers, in the order people read it (the encoding sorts the keys).
CONTENT = ("at", "user_id", "agency_id", "ip", "entity", "entity_id", "action", "changes", "reason")
# pg_advisory_xact_lock key of the chain (any constant bigint; this one spells "audit" in hex-ish).
PG_LOCK_KEY = 0x0A0D17
_HEAD = "audit_chain_head"
_AFTER_INSERTS = "audit_chain_after_inserts"


# Built once: json.dumps with options builds a new encoder on every call (a third of verify's time).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _instant(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite keeps no offset; stored instants are UTC
        value = value.replace(tzinfo=timezone.utc)
    elif value.tzinfo is not timezone.utc:
        value = value.astimezone(timezone.utc)
    return value.isoformat()


def _hash_fields(fields: dict, prev_hash: str) -> str:
    fields["at"] = _instant(fields["at"])
    fields["prev_hash"] = prev_hash
    return hashlib.sha256(_CANONICAL.encode(fields).encode("ascii")).hexdigest()


def entry_hash(content: dict, prev_hash: str) -> str:
    """SHA-256 (hex) of an entry's content and the previous entry's hash, as sorted-key JSON."""
    return _hash_fields({key: content.get(key) for key in CONTENT}, prev_hash)


def lock_chain(session: Session) -> None:
    """Serialise appends to the chain until this transaction ends."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
    else:
        sqlite_writes.hold(session)


def read_head(connection) -> str:
    """The hash of the last entry (by id, through the primary key), or the genesis hash."""
    head = connection.execute(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).scalar()
    return head or GENESIS


def lock_before_writes(session: Session, flush_context, instances) -> None:
    """Take the chain's lock before a flush that will append entries writes or locks any row.

    Registered ahead of the rollups' hook, which locks rollup rows: a writer holding the chain and
    waiting for a row must never meet one holding that row and waiting for the chain.
    A flush that only inserts new training sessions with their own hides and false alerts (an
    upload) takes it after its INSERTs instead (`lock_after_inserts`): those lock no stored row
    (their foreign keys' key-share locks only), and every writer waits for this lock, so the
    INSERTs (a third of an upload's time under it) run outside it.
    """
    if any(isinstance(obj, AuditEntry) or getattr(type(obj), "__audited__", False)
           for obj in (*session.new, *session.dirty, *session.deleted)):
        if _HEAD not in session.info and _only_new_sessions(session):
            session.info[_AFTER_INSERTS] = True
        else:
            start(session)


def _only_new_sessions(session: Session) -> bool:
    """Whether this flush inserts new sessions, their hides and false alerts, and nothing else."""
    new = session.new
    if session.deleted or any(session.is_modified(obj) for obj in session.dirty):
        return False
    for obj in new:
        if isinstance(obj, (Hide, FalseAlert)):
            # The parent as set on the object (never loaded here): a new session's, not a stored one's.
            if inspect(obj).dict.get("session") not in new:
                return False
        elif not isinstance(obj, TrainingSession):
            return False
    return True


def lock_after_inserts(session: Session, flush_context) -> None:
    """Take the lock `lock_before_writes` left for after the INSERTs, before the rollups write (after_flush)."""
    if session.info.pop(_AFTER_INSERTS, False):
        start(session)


def start(session: Session) -> None:
    """Lock the chain and read its head for this transaction, before it writes anything."""
    _head(session)


def _head(session: Session) -> str:
    """The chain's head as this transaction extends it (read once under the lock)."""
    if _HEAD not in session.info:
        lock_chain(session)
        session.info[_HEAD] = read_head(session.connection())
    return session.info[_HEAD]


def link(session: Session, rows: Iterable[dict]) -> None:
    """Give each row (about to be inserted in this order) its previous hash and its own."""
    head = _head(session)
    for row in rows:
        if row.get("at") is None:
            row["at"] = utcnow()
        row["prev_hash"] = head
        row["hash"] = head = entry_hash(row, head)
    session.info[_HEAD] = head


def link_entry(mapper, connection, target: AuditEntry) -> None:
    """Chain an entry added as an object (`record_event`); the ORM calls this in insert order."""
    row = {key: getattr(target, key) for key in CONTENT}
    link(object_session(target), [row])
    target.at, target.prev_hash, target.hash = row["at"], row["prev_hash"], row["hash"]


def forget_head(session: Session, transaction) -> None:
    """Read the head again after a transaction ends (a rolled-back savepoint takes its entries)."""
    session.info.pop(_HEAD, None)
    session.info.pop(_AFTER_INSERTS, None)


# --------------------------------------------------------------------------- verification

@dataclass
class Result:
    count: int
    head: str
    problem: str | None = None
    entry_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _where_is(connection, wanted: str) -> int | None:
    """The id of the entry whose hash is `wanted` (a scan: only asked once, after a break)."""
    return connection.execute(select(AuditEntry.id).where(AuditEntry.hash == wanted)).scalar()


def _broken_link(connection, row, previous_id: int | None, before_previous: str | None) -> tuple[int, str]:
    """The entry to blame when `row` does not follow the one before it, and why."""
    named = f"entry #{row.id}"
    after = f"entry #{previous_id}" if previous_id is not None else "the start of the chain"
    if row.prev_hash == before_previous:
        return previous_id, (f"entry #{previous_id} was inserted: entry #{row.id} after it links to the "
                             f"entry before it")
    found = _where_is(connection, row.prev_hash) if row.prev_hash else None
    if found is None:
        return row.id, (f"{named} does not follow {after}: the entry it followed was deleted or changed "
                        f"(its link {str(row.prev_hash)[:16]}… matches no entry)")
    if previous_id is None or found > previous_id:
        return row.id, f"{named} is out of order: it follows entry #{found}, not {after} (entries were moved)"
    return row.id, (f"{named} does not follow {after} but entry #{found}: entries between them were "
                    f"inserted or moved")


def verify(connection, progress: Callable[[int], None] | None = None, batch: int = 5000) -> Result:
    """Walk the chain in id order; the count and head, or the first entry that is wrong and why."""
    columns = [getattr(AuditEntry, key) for key in CONTENT]
    stmt = (select(AuditEntry.id, AuditEntry.prev_hash, AuditEntry.hash, *columns)
            .order_by(AuditEntry.id).execution_options(yield_per=batch))
    expected, before_previous, previous_id, count = GENESIS, None, None, 0
    result = connection.execute(stmt)
    try:
        for rows in result.partitions():
            for row in rows:
                if row.prev_hash != expected:
                    entry_id, problem = _broken_link(connection, row, previous_id, before_previous)
                    return Result(count, expected, problem, entry_id)
                if _hash_fields(dict(zip(CONTENT, row[3:])), row.prev_hash) != row.hash:
                    return Result(count, expected, f"entry #{row.id} was altered: its content does not match "
                                                   "its hash", row.id)
                before_previous, expected, previous_id = expected, row.hash, row.id
                count += 1
            if progress:
                progress(len(rows))
    finally:
        result.close()
    return Result(count, expected)


def rebuild(connection, progress: Callable[[int], None] | None = None, batch: int = 5000) -> int:
    """Chain every entry in id order (the migration's job for entries written before the chain)."""
    from sqlalchemy import bindparam, update
    columns = [getattr(AuditEntry, key) for key in CONTENT]
    last_id, head, count = 0, GENESIS, 0
    stmt = update(AuditEntry.__table__).where(AuditEntry.__table__.c.id == bindparam("entry_id")) \
        .values(prev_hash=bindparam("new_prev"), hash=bindparam("new_hash"))
    while True:
        rows = connection.execute(select(AuditEntry.id, *columns).where(AuditEntry.id > last_id)
                                  .order_by(AuditEntry.id).limit(batch)).all()
        if not rows:
            return count
        params = []
        for row in rows:
            new = entry_hash(row._mapping, head)
            params.append({"entry_id": row.id, "new_prev": head, "new_hash": new})
            head = new
        connection.execute(stmt, params)
        last_id, count = rows[-1].id, count + len(rows)
        if progress:
            progress(len(rows))
