"""One SQLite write transaction at a time, handed over the moment the writer commits.

SQLite allows one writer. pysqlite starts its transactions deferred, so a second writer only
finds out at its first INSERT and then sleeps in SQLite's busy handler, which backs off (1, 2,
5, 10 … 100 ms) and does not wake when the lock is freed: under 20 uploading clients most of the
time went to sleeping. Here a session takes a write lock just before its first row is written
(an ORM insert, update or delete, or a DML statement run through the session) and keeps it until
its root transaction ends (commit, rollback or close): a process-wide lock for the threads of one
process, an `flock` on a file beside the database for the other processes. Both wake a waiter as
soon as they are released. The rollups take it earlier, before reading what a flush changes
(`hold`), so two edits of one record on SQLite serialise as the row locks make them on
PostgreSQL. Reads never take it. PostgreSQL and in-memory SQLite are left alone. The hooks and the
connection pragmas are registered by esd/db_events.py.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import threading

from sqlalchemy.orm import Session, object_session

_KEY = "sqlite_write_lock"
# Like SQLite's busy_timeout: past it a writer goes ahead and SQLite's own locking decides
# (a thread waiting on a transaction its own thread keeps open would otherwise wait forever).
TIMEOUT_SECONDS = 10.0


class WriteLock:
    """A re-entrant lock over the threads of this process and, through flock, over processes."""

    def __init__(self, path: str):
        self.path = path
        self._threads = threading.RLock()
        self._depth = 0  # holds of the owning thread; the file lock is taken at 0 → 1
        self._fd = None
        self._pid = None

    def acquire(self, timeout: float = TIMEOUT_SECONDS) -> bool:
        """Take the lock, waiting at most `timeout` seconds for another thread; False if it did not come."""
        if not self._threads.acquire(timeout=timeout):
            return False
        try:
            if self._depth == 0:
                fcntl.flock(self._file(), fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise
        self._depth += 1
        return True

    def release(self) -> None:
        self._depth -= 1
        try:
            if self._depth == 0:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _file(self) -> int:
        # Opened once per process: a descriptor inherited through fork would share its lock.
        if self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            self._pid = os.getpid()
        return self._fd


_locks: dict[str, WriteLock] = {}
_locks_guard = threading.Lock()


def lock_for(database: str) -> WriteLock:
    """The write lock of a SQLite database file (one per file and process)."""
    path = os.path.abspath(database) + "-writelock"
    with _locks_guard:
        if path not in _locks:
            _locks[path] = WriteLock(path)
        return _locks[path]


def _database_file(session: Session) -> str | None:
    bind = session.get_bind()
    url = bind.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:") \
            or url.database.startswith("file:"):
        return None
    return url.database


def hold(session: Session) -> None:
    """Take the write lock for this session's transaction, unless it holds it already."""
    if _KEY in session.info:
        return
    database = _database_file(session)
    if database is None:
        session.info[_KEY] = None  # not SQLite: nothing to do for the rest of the transaction
        return
    lock = lock_for(database)
    session.info[_KEY] = lock if lock.acquire() else None


def before_write(mapper, connection, target) -> None:
    """Take the lock before an ORM insert, update or delete (a mapper hook)."""
    hold(object_session(target))


def before_statement(state) -> None:
    """Take the lock before a DML statement run through the session (do_orm_execute)."""
    if state.is_insert or state.is_update or state.is_delete:
        hold(state.session)


def after_transaction_end(session: Session, transaction) -> None:
    """Release the lock when the root transaction ends."""
    if transaction.parent is None and _KEY in session.info:
        lock = session.info.pop(_KEY)
        if lock is not None:
            lock.release()


def set_pragmas(dbapi_connection, connection_record) -> None:
    """WAL so readers never wait for the writer, foreign keys enforced, a busy timeout."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
