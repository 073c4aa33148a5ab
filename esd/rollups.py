"""Keeps hide_rollup and session_rollup (esd/models/rollups.py) equal to the raw training log.

Every flush that touches a TrainingSession, Hide or FalseAlert adjusts the rollups in the same
transaction: before the flush the affected sessions' OLD contribution is read from the database
(their rows locked first on PostgreSQL, so two edits of one session serialise), after the flush
their NEW contribution, and the difference is added with INSERT … ON CONFLICT DO UPDATE SET
n = n + excluded.n. Adding deltas stays right with concurrent transactions on other sessions of the
same month, where recomputing the month would miss their uncommitted rows. A change of an agency's
time zone moves its sessions between months: that agency's rows are rebuilt. Rows written outside
the ORM (the demo seeder's bulk inserts) need `rebuild()` (`flask esd rollups --rebuild`).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, delete, event, exists, func, inspect, literal, select
from sqlalchemy.orm import Session

from .models import Agency, FalseAlert, Hide, HideRollup, SessionRollup, TrainingSession
from .models.rollups import HIDE_COUNTS, SESSION_COUNTS

HIDE_KEYS = ("agency_id", "month", "device_type_id", "hiding_spot_id")
SESSION_KEYS = ("agency_id", "month")
_CHUNK = 500
# Changes to these session columns move or change its contribution (the collections too).
_SESSION_FIELDS = ("agency_id", "started_at", "duration_minutes", "archived_at", "hides", "false_alerts")


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def month_of(started_at: datetime, tz: str) -> date:
    """The first day of the month of `started_at` in time zone `tz`."""
    if started_at.tzinfo is None:
        started_at = started_at.replace(tzinfo=timezone.utc)
    local = started_at.astimezone(_zone(tz))
    return date(local.year, local.month, 1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def month_start_utc(month: date, tz: str) -> datetime:
    return datetime.combine(month, time(), _zone(tz))


# --------------------------------------------------------------------------- contributions

Counts = dict[tuple, list[int]]


def _chunks(ids):
    ids = sorted(ids)
    for i in range(0, len(ids), _CHUNK):
        yield ids[i:i + _CHUNK]


def contributions(conn, session_ids) -> tuple[Counts, Counts]:
    """What these sessions add to the rollups now, keyed like the rollup tables."""
    hides: Counts = defaultdict(lambda: [0, 0, 0, 0])
    sessions: Counts = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for ids in _chunks(session_ids):
        info = {sid: (agency_id, month_of(started, tz), minutes) for sid, agency_id, started, minutes, tz in
                conn.execute(select(TrainingSession.id, TrainingSession.agency_id, TrainingSession.started_at,
                                    TrainingSession.duration_minutes, Agency.timezone)
                             .join(Agency, Agency.id == TrainingSession.agency_id)
                             .where(TrainingSession.id.in_(ids), TrainingSession.archived_at.is_(None)))}
        if not info:
            continue
        found = Hide.outcome == "found"
        blind_sessions = set()
        for sid, device, spot, n, f, b, bf in conn.execute(
                select(Hide.session_id, Hide.device_type_id, Hide.hiding_spot_id, func.count(),
                       func.sum(case((found, 1), else_=0)), func.sum(case((Hide.blind.is_(True), 1), else_=0)),
                       func.sum(case((and_(found, Hide.blind.is_(True)), 1), else_=0)))
                .where(Hide.session_id.in_(list(info)))
                .group_by(Hide.session_id, Hide.device_type_id, Hide.hiding_spot_id)):
            agency_id, month, _ = info[sid]
            row = hides[(agency_id, month, device, spot)]
            for i, value in enumerate((n, f, b, bf)):
                row[i] += int(value or 0)
            if b:
                blind_sessions.add(sid)
        alerts = dict(conn.execute(select(FalseAlert.session_id, func.count())
                                   .where(FalseAlert.session_id.in_(list(info)))
                                   .group_by(FalseAlert.session_id)).all())
        for sid, (agency_id, month, minutes) in info.items():
            a = int(alerts.get(sid, 0))
            blind = sid in blind_sessions
            row = sessions[(agency_id, month)]
            for i, value in enumerate((1, minutes, a, int(blind), minutes if blind else 0, a if blind else 0)):
                row[i] += value
    return hides, sessions


def _difference(new: Counts, old: Counts) -> Counts:
    out = {}
    for key in set(new) | set(old):
        a, b = new.get(key), old.get(key)
        values = [x - y for x, y in zip(a or [0] * len((b)), b or [0] * len(a))]
        if any(values):
            out[key] = values
    return out


def _insert(conn):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _apply(conn, model, keys, counts, delta: Counts) -> None:
    if not delta:
        return
    table = model.__table__
    stmt = _insert(conn)(table)
    stmt = stmt.on_conflict_do_update(index_elements=list(keys),
                                      set_={c: table.c[c] + stmt.excluded[c] for c in counts})
    conn.execute(stmt, [dict(zip(keys, key)) | dict(zip(counts, values)) for key, values in delta.items()])
    # A bucket emptied by this change is removed, so the tables hold only what the raw rows give.
    emptied = {key for key, values in delta.items() if values[0] < 0}
    if emptied:
        first = table.c[counts[0]]
        for agency_id in {key[0] for key in emptied}:
            conn.execute(delete(table).where(table.c.agency_id == agency_id, first <= 0))


# --------------------------------------------------------------------------- flush hooks

def _session_ids(session: Session):
    """Ids of the persistent sessions this flush may change, and the new objects to read later."""
    ids, later, agencies = set(), [], set()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, TrainingSession):
            if obj in session.new:
                later.append(obj)
            elif obj in session.deleted or any(inspect(obj).attrs[f].history.has_changes()
                                               for f in _SESSION_FIELDS):
                ids.add(obj.id)
                later.append(obj)  # an agency_id change: read the new id afterwards too
        elif isinstance(obj, (Hide, FalseAlert)):
            state = inspect(obj)
            ids.update(v for v in state.attrs.session_id.history.deleted if v is not None)
            if obj.session_id is not None:
                ids.add(obj.session_id)
            elif obj.session is not None and obj.session.id is not None:
                ids.add(obj.session.id)  # a hide added to a stored session
            later.append(obj)
        elif isinstance(obj, Agency) and obj not in session.new and \
                inspect(obj).attrs.timezone.history.has_changes():
            agencies.add(obj.id)
    return ids, later, agencies


@event.listens_for(Session, "before_flush")
def _before(session: Session, flush_context, instances):
    if session.info.get("rollups_off"):
        return
    ids, later, agencies = _session_ids(session)
    if not ids and not later and not agencies:
        return
    conn = session.connection()
    if ids and conn.dialect.name == "postgresql":
        for chunk in _chunks(ids):
            conn.execute(select(TrainingSession.id).where(TrainingSession.id.in_(chunk))
                         .with_for_update())
    old = contributions(conn, ids) if ids else ({}, {})
    session.info.setdefault("rollup_pending", []).append((ids, later, agencies, old))


@event.listens_for(Session, "after_flush")
def _after(session: Session, flush_context):
    pending = session.info.pop("rollup_pending", [])
    if not pending:
        return
    conn = session.connection()
    for ids, later, agencies, (old_hides, old_sessions) in pending:
        ids = set(ids)
        for obj in later:
            sid = obj.id if isinstance(obj, TrainingSession) else obj.session_id
            if sid is not None:
                ids.add(sid)
        new_hides, new_sessions = contributions(conn, ids)
        _apply(conn, HideRollup, HIDE_KEYS, HIDE_COUNTS, _difference(new_hides, old_hides))
        _apply(conn, SessionRollup, SESSION_KEYS, SESSION_COUNTS, _difference(new_sessions, old_sessions))
        for agency_id in agencies:
            rebuild(conn, [agency_id])


@event.listens_for(Session, "after_rollback")
def _reset(session: Session):
    session.info.pop("rollup_pending", None)


# --------------------------------------------------------------------------- rebuild and verify

def _zones(conn, agency_ids=None) -> dict[str, list[int]]:
    stmt = select(Agency.timezone, Agency.id)
    if agency_ids is not None:
        stmt = stmt.where(Agency.id.in_(list(agency_ids)))
    zones = defaultdict(list)
    for tz, agency_id in conn.execute(stmt):
        zones[tz].append(agency_id)
    return zones


def _months(conn, agency_ids) -> tuple[datetime, datetime] | None:
    lo, hi = conn.execute(select(func.min(TrainingSession.started_at), func.max(TrainingSession.started_at))
                          .where(TrainingSession.agency_id.in_(agency_ids))).one()
    if lo is None:
        return None
    from .models.base import UTCDateTime
    convert = UTCDateTime().process_result_value
    lo, hi = (convert(datetime.fromisoformat(v) if isinstance(v, str) else v, None) for v in (lo, hi))
    return lo, hi


def _month_case(column, tz: str, lo: datetime, hi: datetime):
    """A CASE giving the month (first day, in `tz`) of `column` for instants in [lo, hi]."""
    month, last = month_of(lo, tz), month_of(hi, tz)
    whens = []
    while month <= last:
        after = next_month(month)
        whens.append((and_(column >= month_start_utc(month, tz), column < month_start_utc(after, tz)),
                      literal(month.isoformat())))
        month = after
    return case(*whens, else_=None)


def compute(conn, agency_ids=None, progress=None) -> tuple[Counts, Counts]:
    """The rollups recomputed from the raw rows, grouped in SQL, one query per agency time zone."""
    hides: Counts = {}
    sessions: Counts = {}
    for tz, ids in sorted(_zones(conn, agency_ids).items()):
        span = _months(conn, ids)
        if span is not None:
            _compute_zone(conn, tz, ids, span, hides, sessions)
        if progress:
            progress(len(ids))
    return hides, sessions


def _compute_zone(conn, tz, ids, span, hides: Counts, sessions: Counts) -> None:
    s = TrainingSession
    bucket = _month_case(s.started_at, tz, *span).label("m")
    live = and_(s.agency_id.in_(ids), s.archived_at.is_(None))
    found = Hide.outcome == "found"
    blind = Hide.blind.is_(True)
    rows = (select(s.agency_id.label("a"), bucket, Hide.device_type_id.label("d"), Hide.hiding_spot_id.label("p"),
                   case((found, 1), else_=0).label("f"), case((blind, 1), else_=0).label("b"),
                   case((and_(found, blind), 1), else_=0).label("bf"))
            .select_from(Hide).join(s, s.id == Hide.session_id).where(live).subquery())
    for a, m, d, p, n, f, b, bf in conn.execute(
            select(rows.c.a, rows.c.m, rows.c.d, rows.c.p, func.count(), func.sum(rows.c.f), func.sum(rows.c.b),
                   func.sum(rows.c.bf)).group_by(rows.c.a, rows.c.m, rows.c.d, rows.c.p)):
        hides[(a, date.fromisoformat(m), d, p)] = [int(n), int(f), int(b), int(bf)]
    alerts = (select(func.count()).where(FalseAlert.session_id == s.id).correlate(s).scalar_subquery())
    has_blind = case((exists().where(Hide.session_id == s.id, blind), 1), else_=0)
    rows = (select(s.agency_id.label("a"), bucket, s.duration_minutes.label("mins"), alerts.label("fa"),
                   has_blind.label("hb")).where(live).subquery())
    for a, m, n, mins, fa, bn, bmins, bfa in conn.execute(
            select(rows.c.a, rows.c.m, func.count(), func.sum(rows.c.mins), func.sum(rows.c.fa), func.sum(rows.c.hb),
                   func.sum(rows.c.mins * rows.c.hb), func.sum(rows.c.fa * rows.c.hb))
            .group_by(rows.c.a, rows.c.m)):
        sessions[(a, date.fromisoformat(m))] = [int(n), int(mins), int(fa), int(bn), int(bmins), int(bfa)]


def stored(conn, agency_ids=None) -> tuple[Counts, Counts]:
    """The rollups as stored (empty buckets left out)."""
    out = []
    for model, keys, counts in ((HideRollup, HIDE_KEYS, HIDE_COUNTS), (SessionRollup, SESSION_KEYS, SESSION_COUNTS)):
        table = model.__table__
        stmt = select(*(table.c[k] for k in keys + counts))
        if agency_ids is not None:
            stmt = stmt.where(table.c.agency_id.in_(list(agency_ids)))
        rows = {}
        for row in conn.execute(stmt):
            values = [int(v) for v in row[len(keys):]]
            if any(values):
                rows[tuple(row[:len(keys)])] = values
        out.append(rows)
    return out[0], out[1]


def rebuild(conn, agency_ids=None, progress=None) -> tuple[int, int]:
    """Replace the rollups (of `agency_ids`, or all) by a recomputation; returns the row counts."""
    hides, sessions = compute(conn, agency_ids, progress)
    for model in (HideRollup, SessionRollup):
        stmt = delete(model.__table__)
        if agency_ids is not None:
            stmt = stmt.where(model.__table__.c.agency_id.in_(list(agency_ids)))
        conn.execute(stmt)
    for model, keys, counts, rows in ((HideRollup, HIDE_KEYS, HIDE_COUNTS, hides),
                                      (SessionRollup, SESSION_KEYS, SESSION_COUNTS, sessions)):
        data = [dict(zip(keys, key)) | dict(zip(counts, values)) for key, values in rows.items()]
        for i in range(0, len(data), 5000):
            conn.execute(model.__table__.insert(), data[i:i + 5000])
    return len(hides), len(sessions)


def differences(conn) -> list[str]:
    """Every bucket where the stored rollups differ from a recomputation, in words."""
    expected_h, expected_s = compute(conn)
    stored_h, stored_s = stored(conn)
    lines = []
    for name, keys, counts, expected, actual in (
            ("hide_rollup", HIDE_KEYS, HIDE_COUNTS, expected_h, stored_h),
            ("session_rollup", SESSION_KEYS, SESSION_COUNTS, expected_s, stored_s)):
        for key in sorted(set(expected) | set(actual), key=lambda k: tuple(str(v) for v in k)):
            want, have = expected.get(key, [0] * len(counts)), actual.get(key, [0] * len(counts))
            if want != have:
                where = ", ".join(f"{k}={v}" for k, v in zip(keys, key))
                diff = ", ".join(f"{c} {h} (raw rows give {w})" for c, h, w in zip(counts, have, want) if h != w)
                lines.append(f"{name} {where}: {diff}")
    return lines
