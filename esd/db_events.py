"""Every database hook of the application, registered by one call from the factory, in this order.

SQLAlchemy runs the listeners of one event in the order they were registered, so the order of
`HOOKS` is the order they run in, and it is chosen:

1. SQLite pragmas, on every new connection: WAL, foreign keys, busy timeout, before any statement.
2. The SQLite write lock (esd/sqlite_writes.py): taken before a session's first row is written
   and released when its transaction ends, so it is held around everything the later hooks write.
3. Rollups (esd/rollups.py): `before_flush` reads the old contribution of the sessions and
   deployments the flush changes (taking the write lock or the row locks first); `after_flush`
   writes the difference. Before the audit, as it always ran: both only add rows with Core
   statements, neither reads what the other writes.
4. Audit (esd/audit.py): `before_flush` takes the attribute history before the flush consumes it,
   `after_flush` inserts the entries in the same transaction; the append-only guard refuses an
   ORM update or delete of an entry.
4b. The audit chain (esd/audit_chain.py): a `before_flush` ahead of the rollups' (2b) locks the
   chain and reads its head before the flush locks or writes any row, when the flush will append
   entries; each entry gets its previous and own hash as it is inserted (`link_entry` for entries
   added as objects, `audit.write` for the rest). A flush that only inserts new sessions with their
   hides and false alerts (an upload) locks no stored row before its INSERTs, so it takes the lock
   after them, in an `after_flush` ahead of the rollups' (`lock_after_inserts`).
5. Report versions (esd/report_version.py): last. Its `after_flush` notes the agencies a flush
   touched; its `before_commit` flushes one final time (running 3 and 4 for that flush) and then
   bumps the versions as the transaction's last statement, so a version becomes visible together
   with the rows it describes and its row lock is held only for the commit.

The targets are SQLAlchemy's classes (every session and engine of the process), as before;
`register` is idempotent, since tests build many apps in one process.
"""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapper, Session

from . import audit, audit_chain, report_version, rollups, sqlite_writes
from .models.audit import AuditEntry, refuse_change

HOOKS = (
    # 1. SQLite connection settings
    (Engine, "connect", sqlite_writes.set_pragmas),
    # 2. the SQLite write lock
    (Mapper, "before_insert", sqlite_writes.before_write),
    (Mapper, "before_update", sqlite_writes.before_write),
    (Mapper, "before_delete", sqlite_writes.before_write),
    (Session, "do_orm_execute", sqlite_writes.before_statement),
    (Session, "after_transaction_end", sqlite_writes.after_transaction_end),
    # 2b. the audit chain's lock, before any hook locks a row (see 4b)
    (Session, "before_flush", audit_chain.lock_before_writes),
    # 3. rollups (the chain's lock first when 2b left it for after an upload's INSERTs)
    (Session, "before_flush", rollups.before_flush),
    (Session, "after_flush", audit_chain.lock_after_inserts),
    (Session, "after_flush", rollups.after_flush),
    (Session, "after_rollback", rollups.forget),
    # 4. audit
    (AuditEntry, "before_update", refuse_change),
    (AuditEntry, "before_delete", refuse_change),
    (Session, "before_flush", audit.collect),
    (Session, "after_flush", audit.write),
    (Session, "after_commit", audit.forget),
    (Session, "after_rollback", audit.forget),
    # 4b. the audit chain
    (AuditEntry, "before_insert", audit_chain.link_entry),
    (Session, "after_transaction_end", audit_chain.forget_head),
    # 5. report versions
    (Session, "after_flush", report_version.collect),
    (Session, "before_commit", report_version.bump_touched),
    (Session, "after_rollback", report_version.forget),
)


def register() -> None:
    """Install every hook of `HOOKS` in its order, once per process."""
    for target, name, fn in HOOKS:
        if not event.contains(target, name, fn):
            event.listen(target, name, fn)
