"""A SHA-256 digest over records' content, independent of database ids.

A packet's digest must stay the same after the records move to another database (SQLite to
PostgreSQL, an export and re-import) where every row gets a new id. So a row is taken without its
id, and every reference to another row (a foreign key, an audit entry's record id) is replaced by
what that row *is*: a user by e-mail, an agency by name, any other row by the hash of its own
content. The rows of each kind are sorted by their encoding, so the order they were read in does
not matter either.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import select

from .extensions import db

# Rows outside the record are named by what people know them by (a login's hash or last-login
# time changing must not change a dog's record).
NAMED_BY = {"user": "email", "agency": "name"}
# Columns derived from ids (the audit chain's hashes cover user and record ids), so not content.
DERIVED = {"audit_entry": {"prev_hash", "hash"}}
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def _plain(value):
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


@lru_cache(maxsize=None)
def _references(table_name: str) -> dict[str, str]:
    """Foreign-key column -> the table it refers to."""
    table = db.metadata.tables[table_name]
    return {fk.parent.name: fk.column.table.name for fk in table.foreign_keys}


def _own(table_name: str, row: dict) -> dict:
    """A row's own content: no id, no references, nothing derived from ids."""
    skip = {"id"} | set(_references(table_name)) | DERIVED.get(table_name, set())
    if table_name == "audit_entry":
        skip.add("entity_id")
    return {key: _plain(value) for key, value in row.items() if key not in skip}


def _hash(content) -> str:
    return hashlib.sha256(_CANONICAL.encode(content).encode("ascii")).hexdigest()


class _Names:
    """What a referenced row is, by table and id: looked up once per digest."""

    def __init__(self, rows: dict[str, list[dict]]):
        self.known = {(name, row["id"]): _hash(_own(name, row)) for name, records in rows.items()
                      for row in records if "id" in row}

    def __call__(self, table_name: str, row_id) -> str | None:
        if row_id is None:
            return None
        key = (table_name, row_id)
        if key not in self.known:
            table = db.metadata.tables.get(table_name)
            if table is None:
                self.known[key] = None
            elif table_name in NAMED_BY:
                self.known[key] = db.session.scalar(select(table.c[NAMED_BY[table_name]])
                                                    .where(table.c.id == row_id))
            else:
                row = db.session.execute(select(table).where(table.c.id == row_id)).first()
                self.known[key] = _hash(_own(table_name, dict(row._mapping))) if row else None
        return self.known[key]


def content_digest(rows: dict[str, list[dict]]) -> str:
    """SHA-256 (hex) of the rows' content, each kind's rows in sorted order, ids replaced by content."""
    name_of = _Names(rows)
    document = {}
    for table_name, records in rows.items():
        encoded = []
        for row in records:
            content = _own(table_name, row)
            for column, target in _references(table_name).items():
                content[column] = name_of(target, row.get(column))
            if table_name == "audit_entry":
                content["entity_id"] = name_of(row["entity"], row["entity_id"])
            encoded.append(_CANONICAL.encode(content))
        document[table_name] = sorted(encoded)
    return _hash(document)
