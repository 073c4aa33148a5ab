"""Writing a plan: one audited import event, every record audited pointing to it, in the caller's transaction.

The few records (vocabulary terms, handlers, dogs, teams, deployments, finds, field alerts, certifications,
assessment standards, planned sessions and their areas, and every update) are written through the ORM, so the
audit hook records them with the import's reason.
New sessions, hides and false alerts — a program's history is hundreds of thousands — are inserted
in bulk (COPY on PostgreSQL), each with its own audit entry linked into the chain the same way the
hook does (`audit_chain.link`). Rows written outside the ORM miss the rollup hooks, so the agency's
rollups are recomputed (as the demo's bulk writer does) and its report version noted to be bumped
once, at the commit.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Callable

from flask import has_request_context, request
from sqlalchemy import func, insert, select

from .. import audit_chain, report_version, rollups, sqlite_writes
from ..audit import audit_reason, created_changes, record_event
from ..extensions import db
from ..models import AuditEntry, Certification, User, VocabularyTerm
from ..models.base import utcnow
from ..models.versions import GLOBAL
from .services import MODEL_COLUMN, MODELS, NOT_STORED, Plan, Rec, gc_paused

CHUNK = 5000
BULK_KINDS = ("sessions", "hides", "false_alerts")
PARENT = {"hides": "session", "false_alerts": "session", "finds": "deployment", "field_alerts": "deployment", "outcomes": "deployment",
          "planned_areas": "session"}


def _id(value):
    return value.id if isinstance(value, Rec) else value


def model_values(rec: Rec, agency_id: int, user_id: int | None) -> dict:
    """The record's column values as the model names them, references as ids."""
    out = {}
    for name, value in rec.values.items():
        if name in NOT_STORED:
            continue
        out[MODEL_COLUMN.get(name, name)] = _id(value)
    if rec.parent is not None:
        out[f"{PARENT[rec.kind]}_id"] = rec.parent.id
    model = MODELS[rec.kind]
    if "agency_id" in model.__table__.c:
        out["agency_id"] = agency_id
    if "created_by_id" in model.__table__.c and "created_by" not in rec.values:
        out["created_by_id"] = user_id  # who brought the record in, unless the file says who entered it
    for column in ("created_at", "updated_at"):
        if out.get(column) is None:
            out.pop(column, None)
    return {k: v for k, v in out.items() if k in model.__table__.c}


class Writer:
    def __init__(self, plan: Plan, user: User | None, progress: Callable[[int], None] | None = None):
        self.plan, self.user = plan, user
        self.user_id = user.id if user is not None else None
        self.progress = progress or (lambda n: None)
        self.session = db.session
        self.now = utcnow()

    def write(self, filename: str, sha256: str, size: int) -> AuditEntry:
        plan, session = self.plan, self.session
        agency = plan.agency
        if agency.id is None:  # the command line's new agency
            session.add(agency)
            session.flush()
        session.info["actor_id"] = self.user_id  # the ORM's audit entries name who confirmed, request or not
        sqlite_writes.hold(session)
        audit_chain.start(session)  # the chain's lock before any row lock (esd/db_events.py, 4b)
        counts = plan.counts()
        event = record_event("import", "import", user_id=self.user_id, agency_id=agency.id, changes={
            "file": filename, "sha256": sha256, "bytes": size, "counts": counts,
            "refused_rows": plan.refused_rows, "confirmed_by": self.user.email if self.user else None,
            "new_terms": [r.values["name"] for r in plan.new_terms]})
        session.flush()
        self.reason = f"Import #{event.id} of {filename} (SHA-256 {sha256[:12]}…)"
        audit_reason(self.reason)
        self._terms()
        for kind in ("handlers", "dogs", "teams"):
            self._orm(kind)
        session.flush()
        self._bulk_sessions()
        for kind in ("deployments", "finds", "field_alerts", "outcomes"):
            self._orm(kind)
            session.flush()
        self._certifications()
        self._replacements()
        session.flush()
        for kind in ("standards", "planned_sessions", "planned_areas"):  # plans name standards and sessions
            self._orm(kind)
            session.flush()
        connection = session.connection()
        rollups.rebuild(connection, [agency.id])
        # Bumped once at the commit, with what the ORM wrote (esd/report_version.py).
        report_version.touch(session, {agency.id, GLOBAL} if plan.new_terms else {agency.id})
        return event

    # -- through the ORM (audited by the hook) ---------------------------------------------------
    def _terms(self) -> None:
        if not self.plan.new_terms:
            return
        last = dict(self.session.execute(select(VocabularyTerm.kind, func.max(VocabularyTerm.position))
                                         .group_by(VocabularyTerm.kind)).all())
        for rec in self.plan.new_terms:
            kind = rec.values["kind"]
            position = rec.values.get("position")
            if position is None:
                last[kind] = position = (last.get(kind) or 0) + 1
            rec.obj = VocabularyTerm(kind=kind, name=rec.values["name"], position=position,
                                     active=rec.values.get("active", True) is not False)
            self.session.add(rec.obj)
        self.session.flush()
        for rec in self.plan.new_terms:
            rec.id = rec.obj.id

    def _orm(self, kind: str) -> None:
        model = MODELS[kind]
        recs = self.plan.records.get(kind, [])
        updates = [r for r in recs if r.action == "update"]
        objects = {o.id: o for o in self.session.scalars(select(model).where(model.id.in_([r.id for r in updates])))} \
            if updates else {}
        created = []
        for rec in recs:
            if rec.action == "create":
                values = model_values(rec, self.plan.agency.id, self.user_id)
                values.pop("replaced_by_id", None)
                rec.obj = model(**values)
                self.session.add(rec.obj)
                created.append(rec)
            elif rec.action == "update":
                obj = objects[rec.id]
                for column, (_, new) in rec.changes.items():
                    if column != "replaced_by_id":
                        setattr(obj, column, _id(new))
        self.session.flush()
        for rec in created:
            rec.id = rec.obj.id
            rec.obj = None
        self.progress(len(recs))

    def _certifications(self) -> None:
        """Certifications, the replacing ones first: a renewal chain is created linked, with no later update."""
        recs = self.plan.records.get("certifications", [])
        waiting = [r for r in recs if r.action == "create"]
        while waiting:
            ready = [r for r in waiting if r.values.get("replaced_by") is None
                     or r.values["replaced_by"].action != "create" or r.values["replaced_by"].id is not None]
            ready = ready or waiting  # a loop of replacements in the file: created, then linked by update
            for rec in ready:
                values = model_values(rec, self.plan.agency.id, self.user_id)
                target = rec.values.get("replaced_by")
                values["replaced_by_id"] = target.id if target is not None else None
                rec.obj = Certification(**values)
                self.session.add(rec.obj)
            self.session.flush()
            for rec in ready:
                rec.id, rec.obj = rec.obj.id, None
            waiting = [r for r in waiting if r.id is None]
        self.plan.records["certifications"] = [r for r in recs if r.action != "create"]
        self._orm("certifications")
        self.plan.records["certifications"] = recs

    def _replacements(self) -> None:
        for rec in self.plan.records.get("certifications", []):
            target = rec.values.get("replaced_by")
            if target is not None and target.id is not None:
                obj = self.session.get(Certification, rec.id)
                if obj.replaced_by_id != target.id:
                    obj.replaced_by_id = target.id

    # -- in bulk (sessions, hides, false alerts) -------------------------------------------------
    def _bulk_sessions(self) -> None:
        for kind in BULK_KINDS:
            recs = self.plan.records.get(kind, [])
            creates = [r for r in recs if r.action == "create"]
            for start in range(0, len(creates), CHUNK):
                chunk = creates[start:start + CHUNK]
                rows = [model_values(r, self.plan.agency.id, self.user_id) for r in chunk]
                ids = self.insert(MODELS[kind], rows)
                for rec, new_id in zip(chunk, ids):
                    rec.id = new_id
                self.progress(len(chunk))
            self._orm_updates(kind, [r for r in recs if r.action == "update"])

    def _orm_updates(self, kind: str, updates: list[Rec]) -> None:
        model = MODELS[kind]
        for start in range(0, len(updates), CHUNK):
            chunk = updates[start:start + CHUNK]
            objects = {o.id: o for o in self.session.scalars(select(model).where(model.id.in_([r.id for r in chunk])))}
            for rec in chunk:
                for column, (_, new) in rec.changes.items():
                    setattr(objects[rec.id], column, _id(new))
            self.session.flush()
            self.progress(len(chunk))

    def insert(self, model, rows: list[dict]) -> list[int]:
        """Insert rows (all with the table's columns), audit each as created; return their ids in order."""
        table = model.__table__
        columns = [c.name for c in table.c if c.name != "id"]
        defaults = {c.name: (c.default.arg if c.default.is_scalar else c.default.arg(None))
                    for c in table.c if c.default is not None and c.name != "id"}
        full = [{c: row.get(c, defaults.get(c)) if row.get(c) is not None else defaults.get(c) for c in columns}
                for row in rows]
        connection = self.session.connection()
        if connection.dialect.name == "postgresql":
            ids = sorted(connection.execute(
                select(func.nextval(func.pg_get_serial_sequence(table.name, "id")))
                .select_from(func.generate_series(1, len(full)))).scalars())
            self._copy(connection, table.name, ["id", *columns],
                       ([new_id, *[row[c] for c in columns]] for new_id, row in zip(ids, full)))
        else:
            # Ids after the highest: this transaction holds the SQLite write lock, nothing else inserts.
            last = connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
            ids = list(range(last + 1, last + 1 + len(full)))
            for new_id, row in zip(ids, full):
                row["id"] = new_id
            connection.execute(insert(table), full)
        self._audit(table.name, ids, full, columns)
        return ids

    def _audit(self, entity: str, ids: list[int], rows: list[dict], columns: list[str]) -> None:
        agency_id = self.plan.agency.id
        ip = request.remote_addr if has_request_context() else None
        entries = [dict(at=self.now, user_id=self.user_id, agency_id=agency_id, action="create", entity=entity,
                        entity_id=new_id, changes=created_changes([("id", new_id), *((c, row[c]) for c in columns)]),
                        reason=self.reason, ip=ip) for new_id, row in zip(ids, rows)]
        audit_chain.link(self.session, entries)
        connection = self.session.connection()
        if connection.dialect.name == "postgresql":
            keys = ["at", "user_id", "agency_id", "action", "entity", "entity_id", "changes", "reason", "ip",
                    "prev_hash", "hash"]
            self._copy(connection, "audit_entry", keys,
                       ([json.dumps(e[k]) if k == "changes" else e[k] for k in keys] for e in entries))
        else:
            connection.execute(insert(AuditEntry.__table__), entries)

    @staticmethod
    def _copy(connection, table_name: str, columns: list[str], rows) -> None:
        """PostgreSQL's COPY through psycopg: a hundred thousand rows in a second or two."""
        cursor = connection.connection.driver_connection.cursor()
        names = ", ".join(f'"{c}"' for c in columns)
        with cursor.copy(f'COPY "{table_name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([_pg(v) for v in row])


def _pg(value):
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def apply(plan: Plan, user: User | None, filename: str, sha256: str, size: int,
          progress: Callable[[int], None] | None = None) -> AuditEntry:
    """Write the plan in the current transaction (the caller commits); the import's audit event."""
    with gc_paused():
        return Writer(plan, user, progress).write(filename, sha256, size)

