"""Report versions: the data part of every report cache key (esd/reports/cache.py).

Every transaction that changes a record a report can show (a session, hide, false alert,
deployment, find, case outcome, field alert, certification, dog, handler, an agency's name or time zone, a vocabulary
term; dogs, handlers and agencies also make the dashboards' filter choices) adds one to
its agencies' `report_version` rows, in the same transaction and as its last statement. So:
- a version and the rows it describes become visible together, on SQLite and PostgreSQL
  alike: a reader who reads the version first and then the data can only compute figures at
  least as new as that version, and caches them under it;
- unlike "the newest audit id", it cannot be overtaken: on PostgreSQL a transaction holding a
  lower id may commit after one holding a higher id, and a figure computed in between would
  stay cached under a version that never moves again.
The bump comes last (in before_commit, after a final flush), so the row lock it takes is held
only for the commit itself, and agencies are bumped in id order, so two transactions never
wait on each other's version rows in opposite orders.
"""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from .audit import agency_id_of
from .models import (Agency, CaseOutcome, Certification, Deployment, Dog, FalseAlert, FieldAlert, Find, Handler, Hide,
                     TrainingSession, VocabularyTerm)
from .models.versions import GLOBAL, ReportVersion

# The records a report reads (handlers: the filter's choices); vocabulary terms count for every agency.
_REPORTED = (TrainingSession, Hide, FalseAlert, Deployment, Find, FieldAlert, CaseOutcome, Certification, Dog, Handler,
             Agency)
_KEY = "report_version_agencies"


def _agency_of(obj) -> int | None:
    if isinstance(obj, VocabularyTerm):
        return GLOBAL
    return agency_id_of(obj) if isinstance(obj, _REPORTED) else None


def collect(session: Session, flush_context) -> None:
    """Note the agencies whose report data this flush changed (the lists still show what it wrote)."""
    touched = session.info.setdefault(_KEY, set())
    for obj in list(session.new) + list(session.deleted):
        touched.add(_agency_of(obj))
    for obj in session.dirty:
        if session.is_modified(obj):
            touched.add(_agency_of(obj))
    touched.discard(None)


def touch(session: Session, agency_ids) -> None:
    """Note agencies whose records this transaction wrote outside the ORM (an import's bulk rows).

    They are bumped with the ORM's at the commit: once each, as the transaction's last statement.
    """
    session.info.setdefault(_KEY, set()).update(agency_ids)


def bump_touched(session: Session) -> None:
    """Bump the versions of the agencies this transaction touched, as its last statement (before_commit)."""
    session.flush()  # the commit's own flush, done first so its changes are counted
    touched = session.info.pop(_KEY, set())
    if touched:
        bump(session, touched)


def bump(session: Session, agency_ids=None) -> None:
    """Add one to each agency's version (an upsert, in id order); None: every agency and the vocabulary.

    The hooks below call it for what the ORM wrote; a bulk loader that writes rows outside the ORM
    (the scale seed, an import) calls it itself, in its own transaction, for the agencies it loaded.
    """
    connection = session.connection()
    if agency_ids is None:
        agency_ids = {GLOBAL, *connection.execute(select(Agency.id)).scalars()}
    stmt = _upsert(connection.dialect.name)
    for agency_id in sorted(agency_ids):
        connection.execute(stmt, {"agency_id": agency_id})


@lru_cache(maxsize=None)
def _upsert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = ReportVersion.__table__
    stmt = insert(table).values(agency_id=bindparam("agency_id"), version=1)
    return stmt.on_conflict_do_update(index_elements=[table.c.agency_id], set_={"version": table.c.version + 1})


def forget(session: Session) -> None:
    """Forget the touched agencies of a transaction rolled back."""
    session.info.pop(_KEY, None)


def version_columns(agency_ids: tuple[int, ...] | None) -> list:
    """Scalar subqueries of (the agencies' version, the installation-wide version), to select in one statement.

    Several agencies: the sum of their versions, which only grows, so it moves whenever any of
    theirs does. None: every agency.
    """
    table = ReportVersion.__table__
    scoped = select(func.coalesce(func.sum(table.c.version), 0)).where(table.c.agency_id != GLOBAL)
    if agency_ids is not None:
        scoped = scoped.where(table.c.agency_id.in_(agency_ids or (-1,)))
    overall = select(func.coalesce(func.max(table.c.version), 0)).where(table.c.agency_id == GLOBAL)
    return [scoped.scalar_subquery(), overall.scalar_subquery()]
