"""The sign-off queue: an agency's sessions not yet signed off, filtered, and signed off one or many at once.

A session leaves the queue when a manager signs it off and comes back when it is changed
afterwards (`services.revise_session` clears the sign-off): the queue is simply every working
session without a sign-off.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..audit import audit_reason
from ..agency_day import local_days_clause
from ..extensions import db
from ..models import Agency, Dog, Handler, Hide, TrainingSession, User
from ..scoping import scope_clause
from .services import agency_tz, may_sign_off, session_counts, sign_off

QUEUE_LIMIT = 100  # sessions listed at once, oldest first; the count says how many wait in all
MAX_CHOSEN = QUEUE_LIMIT  # a bulk sign-off names at most the sessions one page lists


@dataclass
class QueueFilters:
    dog_id: int | None = None
    handler_id: int | None = None
    start: date | None = None
    end: date | None = None


def unsigned_clause():
    """SQL: a working session nobody has signed off (or whose sign-off a later change cleared)."""
    return (TrainingSession.signed_off_at.is_(None), TrainingSession.archived_at.is_(None))


def _queue_stmt(agency_ids: list[int] | None, filters: QueueFilters):
    stmt = select(TrainingSession).where(*unsigned_clause())
    clause = scope_clause(TrainingSession, agency_ids)
    if clause is not None:
        stmt = stmt.where(clause)
    if filters.dog_id is not None:
        stmt = stmt.where(TrainingSession.dog_id == filters.dog_id)
    if filters.handler_id is not None:
        stmt = stmt.where(TrainingSession.handler_id == filters.handler_id)
    # Each agency's sessions are read on its own days.
    days = local_days_clause(TrainingSession.started_at, TrainingSession.agency_id, agency_ids,
                             filters.start, filters.end)
    return stmt if days is None else stmt.where(days)


def unsigned_sessions(agency_ids: list[int] | None, filters: QueueFilters,
                      limit: int = QUEUE_LIMIT) -> tuple[int, list[dict]]:
    """How many sessions wait for sign-off under the filters, and the oldest `limit` with their counts."""
    stmt = _queue_stmt(agency_ids, filters)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    sessions = list(db.session.scalars(
        stmt.options(selectinload(TrainingSession.dog).selectinload(Dog.agency),
                     selectinload(TrainingSession.handler), selectinload(TrainingSession.environment),
                     selectinload(TrainingSession.hides).selectinload(Hide.device_type),
                     selectinload(TrainingSession.hides).selectinload(Hide.hiding_spot))
        .order_by(TrainingSession.started_at, TrainingSession.id).limit(limit)))
    counts = session_counts([s.id for s in sessions])
    rows = [{"session": s, "local_start": s.started_at.astimezone(agency_tz(s.dog.agency)), **counts[s.id]}
            for s in sessions]
    return total or 0, rows


def waiting_count(agency: Agency) -> tuple[int, datetime | None]:
    """Sessions of an agency waiting for sign-off, and when the oldest of them started."""
    count, oldest = db.session.execute(
        select(func.count(TrainingSession.id), func.min(TrainingSession.started_at))
        .where(TrainingSession.agency_id == agency.id, *unsigned_clause())).one()
    return count or 0, oldest


class OutOfScope(Exception):
    """A chosen session does not exist or is not the user's to sign off: nothing was signed."""


def sign_off_many(session_ids: list[int], user: User, now: datetime) -> tuple[list[TrainingSession], int]:
    """Sign off exactly the chosen sessions; return those signed now and how many were signed already.

    Raises OutOfScope, signing nothing, when any id is not a session the user may sign off
    (another agency's, an archived one, one that does not exist). The caller commits; each
    sign-off is a change of the session and audited as one.
    """
    wanted = set(session_ids)
    sessions = list(db.session.scalars(
        select(TrainingSession).where(TrainingSession.id.in_(wanted), TrainingSession.archived_at.is_(None))
        .order_by(TrainingSession.id)))
    if len(sessions) != len(wanted) or not all(may_sign_off(user, s) for s in sessions):
        raise OutOfScope()
    signed = [s for s in sessions if not s.is_signed_off]
    audit_reason("Signed off from the sign-off queue")
    for session in signed:
        sign_off(session, user, now)
    db.session.flush()
    return signed, len(sessions) - len(signed)


def filter_choices(agency_ids: list[int] | None) -> tuple[list[tuple], list[tuple]]:
    """The dogs and handlers a queue filter offers: those of the user's agencies, archived ones left out."""
    def named(model) -> list[tuple]:
        stmt = select(model.id, model.name).where(model.archived_at.is_(None)).order_by(model.name, model.id)
        clause = scope_clause(model, agency_ids)
        return [tuple(row) for row in db.session.execute(stmt if clause is None else stmt.where(clause))]
    return named(Dog), named(Handler)
