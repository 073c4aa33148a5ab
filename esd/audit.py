"""Automatic audit of every create, update and archive of audited models.

Models opt in with `__audited__ = True`. A SQLAlchemy flush hook compares
attribute history, so no view can forget to audit (registered by esd/db_events.py). Views give the reason with
`audit_reason("…")` before committing; events that are not row changes
(login, lockout …) are written with `record_event`.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from flask import has_request_context, request
from sqlalchemy import inspect, insert
from sqlalchemy.orm import Session

from . import audit_chain
from .extensions import db
from .models.audit import AuditEntry
from .models.base import utcnow


def _plain(value):
    """A JSON-safe form of a column value."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _actor_id(session: Session) -> int | None:
    if "actor_id" in session.info:
        return session.info["actor_id"]
    if has_request_context():
        from flask_login import current_user
        if current_user and current_user.is_authenticated:
            return current_user.id
    return None


def _ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def agency_id_of(obj) -> int | None:
    """The agency a record belongs to (a hide's or find's through its session or deployment)."""
    if hasattr(obj, "agency_id"):
        return obj.agency_id
    for parent in ("session", "deployment"):  # hides, false alerts, finds
        owner = getattr(obj, parent, None)
        if owner is not None and hasattr(owner, "agency_id"):
            return owner.agency_id
    if type(obj).__name__ == "Agency":
        return obj.id
    return None


def _columns(obj):
    return _class_columns(type(obj))


@lru_cache(maxsize=None)
def _class_columns(cls) -> tuple:
    """The audited columns of a model, worked out once per class (a 10-hide upload asks 12 times)."""
    excluded = getattr(cls, "__audit_exclude__", set())
    return tuple(c for c in inspect(cls).column_attrs if c.key not in excluded)


def audit_reason(reason: str | None, session: Session | None = None) -> None:
    """Attach a reason to the changes flushed next in this session."""
    (session or db.session).info["audit_reason"] = reason


def record_event(action: str, entity: str, entity_id: int | None = None, *, user_id=None,
                 agency_id=None, changes=None, reason=None) -> AuditEntry:
    """Add an audit entry for something that is not a row change (login, lockout, export …)."""
    entry = AuditEntry(action=action, entity=entity, entity_id=entity_id, user_id=user_id,
                       agency_id=agency_id, changes=changes, reason=reason, ip=_ip())
    db.session.add(entry)
    return entry


def collect(session: Session, flush_context, instances) -> None:
    """Note the audited changes of a flush before it consumes their history (a before_flush hook)."""
    pending = session.info.setdefault("audit_pending", [])
    for obj in session.new:
        if getattr(type(obj), "__audited__", False):
            pending.append(("create", obj, None))
    for obj in session.dirty:
        if not getattr(type(obj), "__audited__", False) or not session.is_modified(obj):
            continue
        state = inspect(obj)
        changes = {}
        for column in _columns(obj):
            history = state.attrs[column.key].history
            if history.has_changes():
                before = history.deleted[0] if history.deleted else None
                after = history.added[0] if history.added else None
                if before != after:
                    changes[column.key] = [_plain(before), _plain(after)]
        if changes:
            archived = "archived_at" in changes and changes["archived_at"][0] is None
            pending.append(("archive" if archived else "update", obj, changes))
    for obj in session.deleted:
        if getattr(type(obj), "__audited__", False):
            snapshot = {c.key: [_plain(getattr(obj, c.key)), None] for c in _columns(obj)}
            pending.append(("delete", obj, snapshot))


def created_changes(values) -> dict:
    """The changes of a created record, from its (column, value) pairs: {column: [None, value]}.

    The ORM hook writes these; a bulk writer (an import) writes the same for the rows it inserts.
    """
    return {key: [None, _plain(value)] for key, value in values if value is not None}


def write(session: Session, flush_context) -> None:
    """Insert the noted changes' entries in the same transaction (an after_flush hook)."""
    pending = session.info.pop("audit_pending", [])
    if not pending:
        return
    now, actor, ip = utcnow(), _actor_id(session), _ip()
    reason = session.info.get("audit_reason")
    rows = []
    for action, obj, changes in pending:
        if action == "create":
            changes = created_changes((c.key, getattr(obj, c.key)) for c in _columns(obj))
        rows.append(dict(at=now, user_id=actor, agency_id=agency_id_of(obj), action=action,
                         entity=type(obj).__tablename__, entity_id=getattr(obj, "id", None),
                         changes=changes, reason=reason, ip=ip))
    audit_chain.link(session, rows)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_insert_json(), {"rows": _JSON.encode(rows)})
    else:
        connection.execute(insert(AuditEntry), rows)


# Instants and days written as ISO strings (with their offset), which PostgreSQL reads back exactly.
_JSON = json.JSONEncoder(separators=(",", ":"), default=lambda value: value.isoformat())
_INSERTED = ("at", "user_id", "agency_id", "action", "entity", "entity_id", "changes", "reason", "ip", "prev_hash",
             "hash")


@lru_cache(maxsize=None)
def _insert_json():
    """The entries as one INSERT of one JSON parameter (PostgreSQL), ids given in the chain's order.

    Inside the chain's lock: an executemany sent an INSERT per entry (twelve for an upload), 0.8 ms
    of CPU; one statement of one parameter is converted once by psycopg and prepared on the server.
    """
    from sqlalchemy import text
    columns = ", ".join(_INSERTED)
    return text(f"INSERT INTO {AuditEntry.__tablename__} ({columns}) SELECT {columns} FROM "
                f"json_populate_recordset(NULL::{AuditEntry.__tablename__}, CAST(:rows AS json)) "
                f"WITH ORDINALITY AS e ORDER BY e.ordinality")


def forget(session: Session) -> None:
    """Drop the reason and pending changes once the transaction ends (after_commit/after_rollback)."""
    session.info.pop("audit_reason", None)
    session.info.pop("audit_pending", None)
