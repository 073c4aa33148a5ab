"""Keeps the rollup tables (esd/models/rollups.py) equal to the raw training log and deployments.

Every flush that touches a TrainingSession, Hide, FalseAlert, Deployment, Find or FieldAlert adjusts the
rollups in the same transaction: before the flush the affected sessions' and deployments' OLD
contribution is read from the database (their rows locked first on PostgreSQL, so two edits of one
record serialise), after the flush their NEW contribution, and the difference is added with
INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n. Adding deltas stays right with concurrent
transactions on other records of the same month, where recomputing the month would miss their
uncommitted rows. A change of an agency's time zone moves its records between months: that
agency's contribution is recomputed and the difference applied. Rows written outside the ORM (the
demo seeder's bulk inserts) need `rebuild()` (`flask esd rollups --rebuild`).

Six "base" sets are computed from the raw rows: hides per (agency, month, device, spot), hides per
(agency, dog, device, spot), hides per (agency, dog, month), sessions per (agency, dog, month),
deployments per (agency, month) and requesting agencies per (agency, month, name). Every table is
a sum of one or two of them over some of their keys (`tables()`), so the coarser tables never need
their own queries.
"""
from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, case, delete, exists, func, inspect, literal, select
from sqlalchemy.orm import Session

from . import sqlite_writes
from .dates import next_month
from .models import (Agency, Deployment, DeploymentRollup, DeviceRollup, DogMonthRollup, DogPairRollup, FalseAlert,
                     FieldAlert, Find, Hide, HideRollup, PairRollup, ServedRollup, SessionRollup, SpotRollup,
                     TrainingSession, YearRollup)
from .models.base import aggregate_utc
from .models.rollups import DEPLOYMENT_COUNTS, HIDE_COUNTS, SESSION_COUNTS
from .parsing import EARLIEST_DAY, LATEST_DAY

HIDE_KEYS = ("agency_id", "month", "device_type_id", "hiding_spot_id")
SESSION_KEYS = ("agency_id", "month")
DOG_MONTH_KEYS = ("agency_id", "dog_id", "month")
DOG_PAIR_KEYS = ("agency_id", "dog_id", "device_type_id", "hiding_spot_id")
SERVED_KEYS = ("agency_id", "month", "requesting_agency")
# (model, keys, counts): every rollup table; the hide tables are sums of hide_rollup over fewer keys.
TABLES = (
    (HideRollup, HIDE_KEYS, HIDE_COUNTS),
    (DeviceRollup, ("agency_id", "month", "device_type_id"), HIDE_COUNTS),
    (SpotRollup, ("agency_id", "month", "hiding_spot_id"), HIDE_COUNTS),
    (PairRollup, ("month", "device_type_id", "hiding_spot_id"), HIDE_COUNTS),
    (YearRollup, ("agency_id", "year", "device_type_id", "hiding_spot_id"), HIDE_COUNTS),
    (SessionRollup, SESSION_KEYS, SESSION_COUNTS + HIDE_COUNTS),
    (DogMonthRollup, DOG_MONTH_KEYS, SESSION_COUNTS + HIDE_COUNTS),
    (DogPairRollup, DOG_PAIR_KEYS, HIDE_COUNTS),
    (DeploymentRollup, SESSION_KEYS, DEPLOYMENT_COUNTS),
    (ServedRollup, SERVED_KEYS, ("deployments",)),
)
_CHUNK = 500
# Changes to these columns move or change a record's contribution (the collections too).
_SESSION_FIELDS = ("agency_id", "dog_id", "started_at", "duration_minutes", "archived_at", "hides", "false_alerts")
_DEPLOYMENT_FIELDS = ("agency_id", "started_at", "archived_at", "requesting_agency", "finds", "alerts")


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def month_of(started_at: datetime, tz: str) -> date:
    """The first day of the month of `started_at` in time zone `tz`."""
    if started_at.tzinfo is None:
        started_at = started_at.replace(tzinfo=timezone.utc)
    local = started_at.astimezone(_zone(tz))
    return date(local.year, local.month, 1)


def month_start_utc(month: date, tz: str) -> datetime:
    return datetime.combine(month, time(), _zone(tz))


# --------------------------------------------------------------------------- base sets and tables

Counts = dict[tuple, list[int]]


class Base:
    """The six base sets (see the module's docstring)."""

    def __init__(self):
        self.hides: Counts = defaultdict(lambda: [0] * len(HIDE_COUNTS))  # agency, month, device, spot
        self.dog_hides: Counts = defaultdict(lambda: [0] * len(HIDE_COUNTS))  # agency, dog, device, spot
        self.dog_month_hides: Counts = defaultdict(lambda: [0] * len(HIDE_COUNTS))  # agency, dog, month
        self.sessions: Counts = defaultdict(lambda: [0] * len(SESSION_COUNTS))  # agency, dog, month
        self.deployments: Counts = defaultdict(lambda: [0] * len(DEPLOYMENT_COUNTS))
        self.served: Counts = defaultdict(lambda: [0])


def _add(counts: Counts, key, values) -> None:
    row = counts[key]
    for i, value in enumerate(values):
        row[i] += int(value or 0)


def tables(base: Base) -> dict:
    """{model: Counts} of every rollup table, from the base sets."""
    out = {}
    for model, keys, counts in TABLES[:4]:
        picks = [HIDE_KEYS.index(k) for k in keys]
        table = defaultdict(lambda: [0] * len(HIDE_COUNTS))
        for key, values in base.hides.items():
            _add(table, tuple(key[i] for i in picks), values)
        out[model] = table
    years = out[YearRollup] = defaultdict(lambda: [0] * len(HIDE_COUNTS))
    for (agency_id, month, device, spot), values in base.hides.items():
        _add(years, (agency_id, month.replace(month=1), device, spot), values)
    hides = defaultdict(lambda: [0] * len(HIDE_COUNTS))
    for key, values in base.hides.items():
        _add(hides, key[:2], values)
    sessions = defaultdict(lambda: [0] * len(SESSION_COUNTS))
    for (agency_id, _, month), values in base.sessions.items():
        _add(sessions, (agency_id, month), values)
    out[SessionRollup] = _side_by_side(sessions, hides)
    out[DogMonthRollup] = _side_by_side(base.sessions, base.dog_month_hides)
    out[DogPairRollup] = base.dog_hides
    out[DeploymentRollup] = base.deployments
    out[ServedRollup] = base.served
    return out


def _side_by_side(sessions: Counts, hides: Counts) -> Counts:
    """{key: SESSION_COUNTS + HIDE_COUNTS} of sessions and hides with the same keys."""
    return {key: list(sessions.get(key, [0] * len(SESSION_COUNTS))) + list(hides.get(key, [0] * len(HIDE_COUNTS)))
            for key in set(sessions) | set(hides)}


def _chunks(ids):
    ids = sorted(ids)
    for i in range(0, len(ids), _CHUNK):
        yield ids[i:i + _CHUNK]


def contributions(conn, session_ids=(), deployment_ids=()) -> Base:
    """What these sessions and deployments add to the rollups now."""
    base = Base()
    for ids in _chunks(session_ids):
        _session_contributions(conn, ids, base)
    for ids in _chunks(deployment_ids):
        _deployment_contributions(conn, ids, base)
    return base


def _session_contributions(conn, ids, base: Base) -> None:
    info = {sid: (agency_id, dog_id, month_of(started, tz), minutes) for sid, agency_id, dog_id, started, minutes, tz
            in conn.execute(select(TrainingSession.id, TrainingSession.agency_id, TrainingSession.dog_id,
                                   TrainingSession.started_at, TrainingSession.duration_minutes, Agency.timezone)
                         .join(Agency, Agency.id == TrainingSession.agency_id)
                         .where(TrainingSession.id.in_(ids), TrainingSession.archived_at.is_(None)))}
    if not info:
        return
    found = Hide.outcome == "found"
    blind_sessions = set()
    for sid, device, spot, n, f, b, bf in conn.execute(
            select(Hide.session_id, Hide.device_type_id, Hide.hiding_spot_id, func.count(),
                   func.sum(case((found, 1), else_=0)), func.sum(case((Hide.blind.is_(True), 1), else_=0)),
                   func.sum(case((and_(found, Hide.blind.is_(True)), 1), else_=0)))
            .where(Hide.session_id.in_(list(info)))
            .group_by(Hide.session_id, Hide.device_type_id, Hide.hiding_spot_id)):
        agency_id, dog_id, month, _ = info[sid]
        _add_hides(base, agency_id, dog_id, month, device, spot, (n, f, b, bf))
        if b:
            blind_sessions.add(sid)
    alerts = dict(conn.execute(select(FalseAlert.session_id, func.count())
                               .where(FalseAlert.session_id.in_(list(info)))
                               .group_by(FalseAlert.session_id)).all())
    for sid, (agency_id, dog_id, month, minutes) in info.items():
        _add_session(base, agency_id, dog_id, month, minutes, int(alerts.get(sid, 0)), sid in blind_sessions)


def _add_hides(base: Base, agency_id: int, dog_id: int, month: date, device: int, spot: int, counts) -> None:
    """Hides of one session, device type and hiding spot: HIDE_COUNTS."""
    _add(base.hides, (agency_id, month, device, spot), counts)
    _add(base.dog_hides, (agency_id, dog_id, device, spot), counts)
    _add(base.dog_month_hides, (agency_id, dog_id, month), counts)


def _add_session(base: Base, agency_id: int, dog_id: int, month: date, minutes: int, alerts: int,
                 blind: bool) -> None:
    """One session's SESSION_COUNTS (the blind ones count only a session with a blind hide)."""
    _add(base.sessions, (agency_id, dog_id, month),
         (1, minutes, alerts, int(blind), minutes if blind else 0, alerts if blind else 0))


def served_name(column):
    """The requesting agency as "agencies served" counts it, computed by the database itself."""
    return func.lower(func.trim(column))


def _find_totals():
    """Per deployment: finds, missed by the human search, evidence yes/no/pending."""
    return (select(Find.deployment_id.label("dep"), func.count().label("n"),
                   func.sum(case((Find.missed_by_human_search.is_(True), 1), else_=0)).label("missed"),
                   func.sum(case((Find.evidence == "yes", 1), else_=0)).label("yes"),
                   func.sum(case((Find.evidence == "no", 1), else_=0)).label("no"),
                   func.sum(case((Find.evidence == "pending", 1), else_=0)).label("pending"))
            .group_by(Find.deployment_id))


def _alert_totals():
    """Per deployment: field alerts, and those unverified, confirmed and explained."""
    return (select(FieldAlert.deployment_id.label("dep"), func.count().label("n"),
                   *(func.sum(case((FieldAlert.outcome == outcome, 1), else_=0)).label(outcome)
                     for outcome in ("unverified", "confirmed", "explained")))
            .group_by(FieldAlert.deployment_id))


def _deployment_values(n, missed, yes, no, pending, alerts, unverified, confirmed, explained) -> tuple:
    """One deployment's DEPLOYMENT_COUNTS from its find and alert totals."""
    return (1, unverified, n, missed, yes, no, pending, int(n > 0), int((missed or 0) > 0), alerts, confirmed,
            explained)


def _deployment_contributions(conn, ids, base: Base) -> None:
    d = Deployment
    info = {dep: (agency_id, month_of(started, tz), name) for dep, agency_id, started, name, tz
            in conn.execute(select(d.id, d.agency_id, d.started_at, served_name(d.requesting_agency), Agency.timezone)
                            .join(Agency, Agency.id == d.agency_id)
                            .where(d.id.in_(ids), d.archived_at.is_(None)))}
    if not info:
        return
    finds = {row[0]: row[1:] for row in conn.execute(_find_totals().where(Find.deployment_id.in_(list(info))))}
    alerts = {row[0]: row[1:] for row in conn.execute(
        _alert_totals().where(FieldAlert.deployment_id.in_(list(info))))}
    for dep, (agency_id, month, name) in info.items():
        _add(base.deployments, (agency_id, month),
             _deployment_values(*finds.get(dep, (0,) * 5), *alerts.get(dep, (0,) * 4)))
        if name is not None:
            _add(base.served, (agency_id, month, name), (1,))


def _difference(new: Counts, old: Counts) -> Counts:
    out = {}
    for key in set(new) | set(old):
        a, b = new.get(key), old.get(key)
        values = [x - y for x, y in zip(a or [0] * len(b), b or [0] * len(a))]
        if any(values):
            out[key] = values
    return out


@lru_cache(maxsize=None)
def _statements(dialect: str, model, keys: tuple, counts: tuple):
    """The upsert of deltas and the delete of emptied buckets of one table, built once per dialect.

    Building them on every flush was a quarter of a session upload's CPU time.
    """
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = model.__table__
    upsert = insert(table)
    upsert = upsert.on_conflict_do_update(index_elements=list(keys),
                                          set_={c: table.c[c] + upsert.excluded[c] for c in counts})
    remove = delete(table).where(*(table.c[k] == bindparam(f"k_{k}") for k in keys), table.c[counts[0]] <= 0)
    return upsert, remove


@lru_cache(maxsize=None)
def _driver_upsert(dialect, model, keys: tuple, counts: tuple):
    """A table's upsert as the driver's SQL and the columns' value converters (SQLite): run with
    exec_driver_sql it costs a third of a Core execute, and an upload runs six."""
    upsert, _ = _statements(dialect.name, model, keys, counts)
    compiled = upsert.compile(dialect=dialect)
    columns = model.__table__.c
    return str(compiled), [columns[name].type.bind_processor(dialect) for name in compiled.positiontup]


@lru_cache(maxsize=None)
def _combined_upsert(dialect: str):
    """Every table's upsert in one PostgreSQL statement (data-modifying CTEs, each over its rows as one
    JSON parameter): one round trip for all of them instead of one per table; a table without changes
    gets an empty list.

    One parameter per table, not one array per column: psycopg dumped the 88 Python lists as arrays
    and parsed the statement anew on every call (more than 50 parameters are never cached), a
    millisecond of an upload's CPU under the audit chain's lock; with 10 it is converted once and
    prepared on the server."""
    from sqlalchemy import text
    parts = []
    for i, (model, keys, counts) in enumerate(TABLES):
        table = model.__table__
        assert set(table.c.keys()) == set(keys + counts), table.name  # SELECT * gives every column
        updates = ", ".join(f"{c} = r.{c} + excluded.{c}" for c in counts)
        parts.append(f"t{i} AS (INSERT INTO {table.name} AS r SELECT * FROM json_populate_recordset("
                     f"NULL::{table.name}, CAST(:t{i} AS json)) ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates})")
    return text("WITH " + ",\n".join(parts) + " SELECT 1")


# Rollup keys hold dates (months, years): written as ISO days, which PostgreSQL reads as dates.
_JSON = json.JSONEncoder(separators=(",", ":"), default=date.isoformat)


def _upsert_all(conn, deltas: list) -> None:
    """Add the deltas [(model, keys, counts, delta)] to their tables."""
    # Rows in key order: two transactions adding to the same buckets lock them in the same order.
    deltas = [(model, keys, counts, sorted(delta.items())) for model, keys, counts, delta in deltas]
    if conn.dialect.name == "postgresql":
        params = {f"t{i}": _JSON.encode([dict(zip(keys + counts, (*key, *values))) for key, values in rows])
                  for i, (model, keys, counts, rows) in enumerate(deltas)}
        conn.execute(_combined_upsert(conn.dialect.name), params)
        return
    for model, keys, counts, rows in deltas:
        if rows:
            sql, converters = _driver_upsert(conn.dialect, model, tuple(keys), tuple(counts))
            conn.exec_driver_sql(sql, [tuple(v if f is None else f(v) for f, v in zip(converters, key + tuple(values)))
                                       for key, values in rows])


def _remove_emptied(conn, model, keys, counts, delta: Counts) -> None:
    """A bucket emptied by this change is removed, so the tables hold only what the raw rows give."""
    emptied = [key for key, values in delta.items() if values[0] < 0]
    if emptied:
        _, remove = _statements(conn.dialect.name, model, tuple(keys), tuple(counts))
        conn.execute(remove, [{f"k_{k}": v for k, v in zip(keys, key)} for key in emptied])


def apply_difference(conn, new: Base, old: Base) -> None:
    """Add new − old to every rollup table."""
    new_tables, old_tables = tables(new), tables(old)
    deltas = [(model, keys, counts, _difference(new_tables[model], old_tables[model]))
              for model, keys, counts in TABLES]
    if not any(delta for *_, delta in deltas):
        return
    _upsert_all(conn, deltas)
    for model, keys, counts, delta in deltas:
        _remove_emptied(conn, model, keys, counts, delta)


# --------------------------------------------------------------------------- flush hooks

def _changed(obj, fields) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[f].history.has_changes() for f in fields)


def _parent_ids(obj, parent_attr: str, key_attr: str, ids: set) -> None:
    """A child's parent ids before and now (a hide or find moved from one parent to another)."""
    state = inspect(obj)
    ids.update(v for v in state.attrs[key_attr].history.deleted if v is not None)
    if getattr(obj, key_attr) is not None:
        ids.add(getattr(obj, key_attr))
    else:
        parent = getattr(obj, parent_attr)
        if parent is not None and parent.id is not None:
            ids.add(parent.id)  # a child added to a stored parent


def _affected(session: Session):
    """Ids of the stored sessions and deployments this flush may change, the objects to read
    again afterwards (new ones get their ids in the flush), agencies whose time zone changes and
    new sessions whose whole contribution is in memory (counted without reading them back)."""
    sessions, deployments, later, agencies = set(), set(), [], set()
    new = session.new  # a fresh set on every access
    fresh = [obj for obj in new if isinstance(obj, TrainingSession) and _in_memory(obj)]
    # Their new children need nothing more; a stored child moved into one still has an old parent.
    skip = {id(obj) for obj in fresh} | {id(child) for obj in fresh for child in obj.hides + obj.false_alerts
                                         if child in new}
    for obj in list(new) + list(session.dirty) + list(session.deleted):
        if id(obj) in skip:
            continue
        if isinstance(obj, (TrainingSession, Deployment)):
            ids, fields = ((sessions, _SESSION_FIELDS) if isinstance(obj, TrainingSession)
                           else (deployments, _DEPLOYMENT_FIELDS))
            if obj in new:
                later.append(obj)
            elif obj in session.deleted or _changed(obj, fields):
                ids.add(obj.id)
                later.append(obj)  # an agency_id change: read the new id afterwards too
        elif isinstance(obj, (Hide, FalseAlert)):
            _parent_ids(obj, "session", "session_id", sessions)
            later.append(obj)
        elif isinstance(obj, (Find, FieldAlert)):
            _parent_ids(obj, "deployment", "deployment_id", deployments)
            later.append(obj)
        elif isinstance(obj, Agency) and obj not in new and _changed(obj, ("timezone",)):
            agencies.add(obj.id)
    return sessions, deployments, later, agencies, fresh


def _in_memory(obj: TrainingSession) -> bool:
    """A new session's hides and false alerts are all in its collections when both were set
    (a child can only name a parent without an id through the relationship)."""
    loaded = inspect(obj).dict
    return "hides" in loaded and "false_alerts" in loaded


def _new_session_contributions(session: Session, fresh, base: Base) -> None:
    """What sessions inserted by this flush add, from the objects just written: the same sums
    `_session_contributions` reads back, without its three SELECTs."""
    for obj in fresh:
        if obj.archived_at is not None:
            continue
        agency_id, dog_id, minutes = obj.agency_id, obj.dog_id, obj.duration_minutes
        month = month_of(obj.started_at, session.get(Agency, agency_id).timezone)
        blind = False
        for hide in obj.hides:
            found, hidden = hide.outcome == "found", bool(hide.blind)
            _add_hides(base, agency_id, dog_id, month, hide.device_type_id, hide.hiding_spot_id,
                       (1, found, hidden, found and hidden))
            blind = blind or hidden
        _add_session(base, agency_id, dog_id, month, minutes, len(obj.false_alerts), blind)


def before_flush(session: Session, flush_context, instances) -> None:
    """Read the old contribution of what this flush changes, under the write or row locks."""
    if session.info.get("rollups_off"):
        return
    sessions, deployments, later, agencies, fresh = _affected(session)
    if not sessions and not deployments and not later and not agencies and not fresh:
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        for model, ids in ((TrainingSession, sessions), (Deployment, deployments)):
            for chunk in _chunks(ids):
                conn.execute(select(model.id).where(model.id.in_(chunk)).with_for_update())
    elif sessions or deployments or agencies:
        sqlite_writes.hold(session)  # no other writer between reading the old contribution and the write
    old = contributions(conn, sessions, deployments)
    session.info.setdefault("rollup_pending", []).append((sessions, deployments, later, agencies, fresh, old))


def after_flush(session: Session, flush_context) -> None:
    """Apply the difference between the new and the old contributions."""
    pending = session.info.pop("rollup_pending", [])
    if not pending:
        return
    conn = session.connection()
    for sessions, deployments, later, agencies, fresh, old in pending:
        sessions, deployments = set(sessions), set(deployments)
        for obj in later:
            if isinstance(obj, (TrainingSession, Deployment)):
                (sessions if isinstance(obj, TrainingSession) else deployments).add(obj.id)
            elif isinstance(obj, (Find, FieldAlert)):
                if obj.deployment_id is not None:
                    deployments.add(obj.deployment_id)
            elif obj.session_id is not None:
                sessions.add(obj.session_id)
        sessions -= {obj.id for obj in fresh}  # counted from memory
        new = contributions(conn, sessions, deployments)
        _new_session_contributions(session, fresh, new)
        apply_difference(conn, new, old)
        if agencies:
            rebuild(conn, agencies)


def forget(session: Session) -> None:
    """Drop the pending contributions of a transaction rolled back."""
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


# Records dated outside the calendar the app accepts (stored before dates were bounded, e.g. a
# deployment on 9999-12-31) are left out of the rollups and named by `differences()`: a month
# after 9999-12 does not exist, and one such record must not stop the check of all the others.
WINDOW = (datetime.combine(EARLIEST_DAY, time(), timezone.utc) - timedelta(days=1),
          datetime.combine(LATEST_DAY, time(), timezone.utc) + timedelta(days=2))


def in_window(column):
    """The rows whose `column` lies in the window the rollups count."""
    return and_(column >= WINDOW[0], column < WINDOW[1])


def _span(conn, model, agency_ids) -> tuple[datetime, datetime] | None:
    lo, hi = conn.execute(select(func.min(model.started_at), func.max(model.started_at))
                          .where(model.agency_id.in_(agency_ids), in_window(model.started_at))).one()
    if lo is None:
        return None
    return aggregate_utc(lo), aggregate_utc(hi)


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


def _month(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def compute(conn, agency_ids=None, progress=None) -> Base:
    """The base sets recomputed from the raw rows, grouped in SQL, one query each per agency time zone."""
    base = Base()
    for tz, ids in sorted(_zones(conn, agency_ids).items()):
        span = _span(conn, TrainingSession, ids)
        if span is not None:
            _compute_training(conn, tz, ids, span, base)
        span = _span(conn, Deployment, ids)
        if span is not None:
            _compute_deployments(conn, tz, ids, span, base)
        if progress:
            progress(len(ids))
    return base


def _compute_training(conn, tz, ids, span, base: Base) -> None:
    s = TrainingSession
    bucket = _month_case(s.started_at, tz, *span).label("m")
    live = and_(s.agency_id.in_(ids), s.archived_at.is_(None), in_window(s.started_at))
    found = Hide.outcome == "found"
    blind = Hide.blind.is_(True)
    rows = (select(s.agency_id.label("a"), s.dog_id.label("dog"), bucket, Hide.device_type_id.label("d"),
                   Hide.hiding_spot_id.label("p"), case((found, 1), else_=0).label("f"),
                   case((blind, 1), else_=0).label("b"), case((and_(found, blind), 1), else_=0).label("bf"))
            .select_from(Hide).join(s, s.id == Hide.session_id).where(live).subquery())
    sums = (func.count(), func.sum(rows.c.f), func.sum(rows.c.b), func.sum(rows.c.bf))
    # Three groupings of the same rows: one by (dog, month, device, spot) would be as long as the hides.
    for target, keys, convert in ((base.hides, (rows.c.a, rows.c.m, rows.c.d, rows.c.p),
                                   lambda a, m, d, p: (a, _month(m), d, p)),
                                  (base.dog_hides, (rows.c.a, rows.c.dog, rows.c.d, rows.c.p), lambda *k: k),
                                  (base.dog_month_hides, (rows.c.a, rows.c.dog, rows.c.m),
                                   lambda a, dog, m: (a, dog, _month(m)))):
        for row in conn.execute(select(*keys, *sums).group_by(*keys)):
            target[convert(*row[:len(keys)])] = [int(v) for v in row[len(keys):]]
    alerts = (select(func.count()).where(FalseAlert.session_id == s.id).correlate(s).scalar_subquery())
    has_blind = case((exists().where(Hide.session_id == s.id, blind), 1), else_=0)
    rows = (select(s.agency_id.label("a"), s.dog_id.label("dog"), bucket, s.duration_minutes.label("mins"),
                   alerts.label("fa"), has_blind.label("hb")).where(live).subquery())
    for a, dog, m, n, mins, fa, bn, bmins, bfa in conn.execute(
            select(rows.c.a, rows.c.dog, rows.c.m, func.count(), func.sum(rows.c.mins), func.sum(rows.c.fa),
                   func.sum(rows.c.hb), func.sum(rows.c.mins * rows.c.hb), func.sum(rows.c.fa * rows.c.hb))
            .group_by(rows.c.a, rows.c.dog, rows.c.m)):
        base.sessions[(a, dog, _month(m))] = [int(n), int(mins), int(fa), int(bn), int(bmins), int(bfa)]


def _compute_deployments(conn, tz, ids, span, base: Base) -> None:
    d = Deployment
    bucket = _month_case(d.started_at, tz, *span).label("m")
    live = and_(d.agency_id.in_(ids), d.archived_at.is_(None), in_window(d.started_at))
    finds = _find_totals().subquery()
    alerts = _alert_totals().subquery()
    n = func.coalesce(finds.c.n, 0)
    missed = func.coalesce(finds.c.missed, 0)
    rows = (select(d.agency_id.label("a"), bucket, func.coalesce(alerts.c.unverified, 0).label("u"),
                   n.label("n"), missed.label("missed"), func.coalesce(finds.c.yes, 0).label("yes"),
                   func.coalesce(finds.c.no, 0).label("no"), func.coalesce(finds.c.pending, 0).label("pending"),
                   case((n > 0, 1), else_=0).label("sf"), case((missed > 0, 1), else_=0).label("sm"),
                   func.coalesce(alerts.c.n, 0).label("al"), func.coalesce(alerts.c.confirmed, 0).label("ac"),
                   func.coalesce(alerts.c.explained, 0).label("ae"))
            .select_from(d).outerjoin(finds, finds.c.dep == d.id).outerjoin(alerts, alerts.c.dep == d.id)
            .where(live).subquery())
    c = rows.c
    for a, m, *values in conn.execute(
            select(c.a, c.m, func.count(), *(func.sum(col) for col in (c.u, c.n, c.missed, c.yes, c.no, c.pending,
                                                                         c.sf, c.sm, c.al, c.ac, c.ae)))
            .group_by(c.a, c.m)):
        base.deployments[(a, _month(m))] = [int(v or 0) for v in values]
    rows = (select(d.agency_id.label("a"), bucket, served_name(d.requesting_agency).label("r"))
            .where(live, d.requesting_agency.is_not(None)).subquery())
    for a, m, r, count in conn.execute(select(rows.c.a, rows.c.m, rows.c.r, func.count())
                                       .group_by(rows.c.a, rows.c.m, rows.c.r)):
        base.served[(a, _month(m), r)] = [int(count)]


def stored(conn, agency_ids=None) -> dict:
    """{model: Counts} of every rollup table as stored (empty buckets left out); with `agency_ids`
    only the tables keyed by agency."""
    out = {}
    for model, keys, counts in TABLES:
        table = model.__table__
        stmt = select(*(table.c[k] for k in keys + counts))
        if agency_ids is not None:
            if "agency_id" not in keys:
                continue
            stmt = stmt.where(table.c.agency_id.in_(list(agency_ids)))
        rows = {}
        for row in conn.execute(stmt):
            values = [int(v) for v in row[len(keys):]]
            if any(values):
                rows[tuple(row[:len(keys)])] = values
        out[model] = rows
    return out


def _stored_base(conn, agency_ids) -> Base:
    """The base sets of these agencies as the rollups hold them now."""
    rows = stored(conn, agency_ids)
    base = Base()
    base.hides.update(rows[HideRollup])
    base.dog_hides.update(rows[DogPairRollup])
    n = len(SESSION_COUNTS)
    for key, values in rows[DogMonthRollup].items():
        if any(values[:n]):
            base.sessions[key] = values[:n]
        if any(values[n:]):
            base.dog_month_hides[key] = values[n:]
    base.deployments.update(rows[DeploymentRollup])
    base.served.update(rows[ServedRollup])
    return base


def rebuild(conn, agency_ids=None, progress=None) -> dict:
    """Replace the rollups (of `agency_ids`, or all) by a recomputation; returns {table name: rows}."""
    base = compute(conn, agency_ids, progress)
    if agency_ids is not None:
        # pair_rollup sums every agency: move it (and the rest) by the difference from what is stored.
        apply_difference(conn, base, _stored_base(conn, agency_ids))
        return {model.__tablename__: None for model, _, _ in TABLES}
    result, every = {}, tables(base)
    for model, keys, counts in TABLES:
        rows = every[model]
        conn.execute(delete(model.__table__))
        data = [dict(zip(keys, key)) | dict(zip(counts, values)) for key, values in rows.items()]
        for i in range(0, len(data), 5000):
            conn.execute(model.__table__.insert(), data[i:i + 5000])
        result[model.__tablename__] = len(data)
    return result


def out_of_window(conn) -> list[str]:
    """The live sessions and deployments dated outside the window, which the rollups leave out, in words."""
    lines = []
    for model, name in ((TrainingSession, "training session"), (Deployment, "deployment")):
        for ident, started in conn.execute(select(model.id, model.started_at).where(
                model.archived_at.is_(None), ~in_window(model.started_at)).order_by(model.id)):
            lines.append(f"{name} {ident} dated {started} lies outside {EARLIEST_DAY} to {LATEST_DAY}: "
                         "left out of the rollups; correct or archive it")
    return lines


def differences(conn) -> list[str]:
    """Every bucket where the stored rollups differ from a recomputation, in words; records they leave out first."""
    expected, actual = tables(compute(conn)), stored(conn)
    lines = out_of_window(conn)
    for model, keys, counts in TABLES:
        want_rows = {k: v for k, v in expected[model].items() if any(v)}
        have_rows = actual[model]
        for key in sorted(set(want_rows) | set(have_rows), key=lambda k: tuple(str(v) for v in k)):
            want, have = want_rows.get(key, [0] * len(counts)), have_rows.get(key, [0] * len(counts))
            if want != have:
                where = ", ".join(f"{k}={v}" for k, v in zip(keys, key))
                diff = ", ".join(f"{c} {h} (raw rows give {w})" for c, h, w in zip(counts, have, want) if h != w)
                lines.append(f"{model.__tablename__} {where}: {diff}")
    return lines
