"""The program's metrics, defined once: every page, chart, CSV and court record uses these.

Every function takes a `Filters` (which agencies, dog, handler, date range, blind hides only),
checks that a named dog or handler is inside those agencies (404 otherwise) and aggregates in
SQL with GROUP BY; only the grouped rows reach Python.

Definitions
- find rate = found hides / all hides, with the count and a 95% Wilson score interval.
- false alerts per session hour = false alerts / (sum of session minutes / 60).
- false alerts per 100 hides = 100 × false alerts / hides.
- training hours = sum of session minutes / 60.
- deployment impact: deployments; devices found (finds); finds the human search had missed;
  searches in which the dog found something the human search had missed; finds that held
  evidence; distinct requesting agencies served; field alerts by outcome: confirmed (a device
  recovered there), unverified (nothing recovered), explained (nothing recovered, with why).
- field accuracy = confirmed field alerts / all field alerts, with the count and a 95% Wilson
  interval (`Impact.field_accuracy`).
Archived sessions and deployments are left out. Dates and months are read in each agency's own
time zone: a session at 23:30 on 31 January in Honolulu is a January session of that task force,
whichever agencies the filter names (the filters' `tz` is only the zone of the person looking).

Without a handler filter, the training figures read the whole months of the period from the
monthly rollups (esd/rollups.py, kept in the same transaction as the rows) and only the partial
months at its edges from the raw rows. A dog has rollups of its own: per month, and per device type
× hiding spot over all time, so a dog's find rates over a period still come from the raw rows;
deployments with a dog filter too. `raw=True` reads everything from the raw rows (the two give
identical results, tests/test_rollups.py checks it). "Blind only" limits hides (and the sessions
they count against) to hides the handler did not know about; false alerts and hours then
count only sessions that had at least one blind hide.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import abort, g, has_request_context

from sqlalchemy import and_, bindparam, case, distinct, exists, false, func, literal, select, true, union, union_all

from ..extensions import db
from ..models import (Agency, Certification, Deployment, DeploymentRollup, DeviceRollup, Dog, DogMonthRollup,
                      DogPairRollup, FieldAlert, Find, Handler, Hide, HideRollup, PairRollup, ServedRollup,
                      SessionRollup, SpotRollup, TrainingSession, VocabularyTerm, YearRollup)
from ..models.base import aggregate_utc
from ..models.training import false_alerts_of_session, hides_of_session
from ..models.rollups import DEPLOYMENT_COUNTS
from ..agency_day import days_in_zones, on_days, zone_groups
from ..dates import add_months, month_end, month_start, months_between, next_month
from ..rates import Rate, wilson_interval
from ..rollups import served_name
from ..scoping import aggregate_agency_ids

# A heatmap cell with fewer hides than this says too little to colour.
MIN_CELL_HIDES = 5
# Months further apart than this are not grouped in one query (a CASE per month).
MAX_MONTHS = 120


# --------------------------------------------------------------------------- filters

@dataclass(frozen=True)
class Filters:
    """What an aggregate covers. `agency_ids` None means every agency (admin only)."""

    agency_ids: tuple[int, ...] | None = ()
    dog_id: int | None = None
    handler_id: int | None = None
    start: date | None = None
    end: date | None = None  # inclusive
    blind_only: bool = False
    tz: str = "UTC"  # the viewer's zone; metrics read dates in each agency's own zone

    def __post_init__(self):
        if self.start and self.end and self.end < self.start:
            raise ValueError("The end date is before the start date.")

    def key(self) -> tuple:
        """A hashable identity for caches."""
        return (self.agency_ids, self.dog_id, self.handler_id, self.start, self.end,
                self.blind_only, self.tz)

    def query_args(self) -> dict:
        """The filters as query-string arguments of the chart endpoints (agency only when one)."""
        args = {}
        if self.agency_ids is not None and len(self.agency_ids) == 1:
            args["agency"] = self.agency_ids[0]
        for name, value in (("dog", self.dog_id), ("handler", self.handler_id),
                            ("start", self.start), ("end", self.end)):
            if value:
                args[name] = value.isoformat() if isinstance(value, date) else value
        if self.blind_only:
            args["blind"] = 1
        return args

    def start_utc(self) -> datetime | None:
        if not self.start:
            return None
        return datetime.combine(self.start, time(), ZoneInfo(self.tz))

    def end_utc(self) -> datetime | None:
        """The first instant after the inclusive end date."""
        if not self.end:
            return None
        return datetime.combine(self.end + timedelta(days=1), time(), ZoneInfo(self.tz))


def build_filters(user, agency_id: int | None = None, dog_id: int | None = None,
                  handler_id: int | None = None, start: date | None = None, end: date | None = None,
                  blind_only: bool = False) -> Filters:
    """Filters limited to what `user` may see in aggregate.

    Raises NotFound (404) for an agency, dog or handler outside the user's scope, and for any
    dog or handler filter from a funder (funders see agency aggregates only). Raises ValueError
    for a date range ending before it starts.
    """
    allowed = aggregate_agency_ids(user)
    zone = None  # the chosen agency's time zone, read with its existence check
    if agency_id is not None:
        if allowed is not None and agency_id not in allowed:
            abort(404)
        if agency_id == user.agency_id:  # the user's own, loaded with the user (esd/__init__.py)
            zone = user.agency.timezone
        else:
            zone = db.session.scalar(_AGENCY_ZONE, {"id": agency_id})
        if zone is None:
            abort(404)
        ids: tuple[int, ...] | None = (agency_id,)
    else:
        ids = None if allowed is None else tuple(sorted(allowed))
    if user.role == "funder" and (dog_id or handler_id):
        abort(404)
    tz = "UTC"
    for model, record_id in ((Dog, dog_id), (Handler, handler_id)):
        if record_id is None:
            continue
        record = db.session.get(model, record_id)
        if record is None or (ids is not None and record.agency_id not in ids):
            abort(404)
        ids = (record.agency_id,) if ids is None else ids
    if ids is not None and len(ids) == 1:
        tz = (zone if ids[0] == agency_id else db.session.scalar(_AGENCY_ZONE, {"id": ids[0]})) or "UTC"
    elif user.agency_id:
        tz = user.agency.timezone
    return Filters(agency_ids=ids, dog_id=dog_id, handler_id=handler_id, start=start, end=end,
                   blind_only=blind_only, tz=tz)


# Built once: every dashboard and chart request reads its agency's zone (an ORM load cost more).
_AGENCY_ZONE = select(Agency.timezone).where(Agency.id == bindparam("id"))


def in_scope_or_404(filters: Filters) -> Filters:
    """Abort 404 when the named dog or handler is not in the filter's agencies."""
    for model, record_id in ((Dog, filters.dog_id), (Handler, filters.handler_id)):
        if record_id is None:
            continue
        record = db.session.get(model, record_id)
        if record is None or (filters.agency_ids is not None and record.agency_id not in filters.agency_ids):
            abort(404)
    return filters


def _scope(model, filters: Filters) -> list:
    """WHERE clauses of the filters' agencies, dog and handler, for any model that has all three."""
    clauses = []
    if filters.agency_ids is not None:
        clauses.append(model.agency_id.in_(filters.agency_ids) if filters.agency_ids else false())
    if filters.dog_id:
        clauses.append(model.dog_id == filters.dog_id)
    if filters.handler_id:
        clauses.append(model.handler_id == filters.handler_id)
    return clauses


def _where(model, filters: Filters) -> list:
    """WHERE clauses for a TrainingSession or Deployment: scope, dog, handler, period, not archived."""
    clauses = [model.archived_at.is_(None), *_scope(model, filters)]
    if filters.start or filters.end:
        clauses.append(_period_clause(model, filters))
    return clauses


def _period_clause(model, filters: Filters):
    """started_at inside [start, end], both read in each agency's own time zone."""
    return _period_clause_of(model, tuple(zone_groups(filters.agency_ids)), filters.start, filters.end)


# Built once per zones and period: with a dozen zones the expression costs more to build than to run.
@lru_cache(maxsize=256)
def _period_clause_of(model, zones, start, end):
    if len(zones) == 1:  # the scope clause beside it already limits the agencies
        return on_days(model.started_at, start, end, zones[0][0])
    return days_in_zones(model.started_at, model.agency_id, zones, start, end)


def _session_where(filters: Filters) -> list:
    clauses = _where(TrainingSession, filters)
    if filters.blind_only:
        clauses.append(exists().where(Hide.session_id == TrainingSession.id, Hide.blind.is_(True)))
    return clauses


def _hide_where(filters: Filters) -> list:
    clauses = _where(TrainingSession, filters)
    if filters.blind_only:
        clauses.append(Hide.blind.is_(True))
    return clauses


# --------------------------------------------------------------------------- find rates

def _found_sum():
    return func.sum(case((Hide.outcome == "found", 1), else_=0))


def find_rate(filters: Filters, raw: bool = False) -> Rate:
    """The overall find rate of the hides the filters cover."""
    in_scope_or_404(filters)
    n, found = _hide_groups(filters, (), raw).get((), (0, 0))
    return Rate(found, n, "All hides")


def _sorted_weakest_first(rates: list[Rate]) -> list[Rate]:
    return sorted(rates, key=lambda r: (r.rate if r.rate is not None else 2.0, -r.n, r.label))


def find_rates(filters: Filters, by: str = "device_type", raw: bool = False) -> list[Rate]:
    """Find rate per device type or per hiding spot, weakest first (lowest rate, then most hides)."""
    in_scope_or_404(filters)
    key = {"device_type": "device_type_id", "hiding_spot": "hiding_spot_id"}[by]
    groups = _hide_groups(filters, (key,), raw)
    return _rates_of(groups, _term_names({k[0] for k in groups}))


def _rates_of(groups: dict[tuple, tuple[int, int]], names: dict[int, str]) -> list[Rate]:
    """{(term id,): (hides, found)} as Rates named by their terms, weakest first."""
    return _sorted_weakest_first([Rate(found, n, names[k[0]]) for k, (n, found) in groups.items()])


def _term_names(ids) -> dict[int, str]:
    """The names of these vocabulary terms. In a request every term's name is read once: a dashboard's
    three hide charts asked for theirs in three statements, the vocabulary is a few dozen rows."""
    if not ids:
        return {}
    if has_request_context():
        if "term_names" not in g:
            g.term_names = dict(db.session.execute(select(VocabularyTerm.id, VocabularyTerm.name)).all())
        if g.term_names.keys() >= set(ids):
            return g.term_names
    return dict(db.session.execute(select(VocabularyTerm.id, VocabularyTerm.name)
                                   .where(VocabularyTerm.id.in_(list(ids)))).all())


@dataclass(frozen=True)
class Matrix:
    """Find rates of device type × hiding spot; `cells[(device, spot)]` is a Rate."""

    devices: list[str]
    spots: list[str]
    cells: dict[tuple[str, str], Rate]

    def rows(self) -> list[Rate]:
        return [self.cells[key] for key in sorted(self.cells)]


def device_spot_matrix(filters: Filters, raw: bool = False) -> Matrix:
    """Find rate for every device type × hiding spot pair that has hides; rows and columns weakest first."""
    return hide_breakdown(filters, raw).matrix


@dataclass(frozen=True)
class HideBreakdown:
    """`find_rates` per device type and per hiding spot and `device_spot_matrix`, of the same filters."""

    by_device: list[Rate]
    by_spot: list[Rate]
    matrix: Matrix


def hide_breakdown(filters: Filters, raw: bool = False) -> HideBreakdown:
    """The three hide figures of a page that shows them all, from one read of the device × spot groups
    and one of their names: a device type's (or spot's) hides are the sum of its pairs'. Where the
    bar charts have smaller tables of their own (an agency's months), `find_rates` reads those."""
    in_scope_or_404(filters)
    pairs = _hide_groups(filters, ("device_type_id", "hiding_spot_id"), raw)
    names = _term_names({i for key in pairs for i in key})
    by_device: dict[tuple, tuple[int, int]] = {}
    by_spot: dict[tuple, tuple[int, int]] = {}
    for (device, spot), (n, found) in pairs.items():
        for totals, key in ((by_device, (device,)), (by_spot, (spot,))):
            n0, f0 = totals.get(key, (0, 0))
            totals[key] = (n0 + n, f0 + found)
    devices, spots = _rates_of(by_device, names), _rates_of(by_spot, names)
    cells = {(names[d], names[p]): Rate(found, n, f"{names[d]} × {names[p]}") for (d, p), (n, found) in pairs.items()}
    # The matrix's rows and columns in the bar charts' order: weakest device type (spot) first.
    return HideBreakdown(devices, spots, Matrix([r.label for r in devices], [r.label for r in spots], cells))


# --------------------------------------------------------------------------- per dog

# What a dog's hides are grouped by in the proficiency matrix and the readiness gaps.
HIDE_ASPECTS = {"device_type": Hide.device_type_id, "hiding_spot": Hide.hiding_spot_id,
                "concealment": Hide.concealment, "height": Hide.height}


@dataclass(frozen=True)
class DogGroup:
    """One dog's hides of one combination of aspects: how many, how many found, and the last session's start."""

    hides: int
    found: int
    last: datetime

    @property
    def rate(self) -> Rate:
        return Rate(self.found, self.hides)


def dog_hide_groups(filters: Filters, aspects: tuple[str, ...]) -> dict[tuple, DogGroup]:
    """{(dog id, *values of `aspects`): DogGroup} of the hides the filters cover.

    From the raw rows, grouped in SQL: the rollups hold no dog. A hide whose aspect was not
    recorded (a height left blank) is left out of that aspect's groups.
    """
    in_scope_or_404(filters)
    columns = [HIDE_ASPECTS[a] for a in aspects]
    stmt = (select(TrainingSession.dog_id, *columns, func.count(Hide.id), _found_sum(),
                   func.max(TrainingSession.started_at))
            .join(TrainingSession, Hide.session_id == TrainingSession.id)
            .where(*_hide_where(filters), *(c.is_not(None) for c in columns))
            .group_by(TrainingSession.dog_id, *columns))
    return {tuple(row[:-3]): DogGroup(int(row[-3]), int(row[-2] or 0), aggregate_utc(row[-1]))
            for row in db.session.execute(stmt)}


def cell_hides(filters: Filters, aspect: str, value, limit: int = 500) -> list[tuple[Hide, TrainingSession]]:
    """The hides one (dog, value) cell of `dog_hide_groups` counts, newest first, at most `limit`."""
    in_scope_or_404(filters)
    stmt = (select(Hide, TrainingSession).join(TrainingSession, Hide.session_id == TrainingSession.id)
            .where(*_hide_where(filters), HIDE_ASPECTS[aspect] == value)
            .order_by(TrainingSession.started_at.desc(), Hide.position).limit(limit))
    return [(hide, session) for hide, session in db.session.execute(stmt)]


@dataclass(frozen=True)
class DogTraining:
    """One dog's training in a period: hides, blind hides, sessions, sessions with a blank area."""

    hides: int = 0
    blind_hides: int = 0
    sessions: int = 0
    blank_sessions: int = 0
    last_blank: datetime | None = None


def dog_training(filters: Filters) -> dict[int, DogTraining]:
    """{dog id: DogTraining} of the filters' sessions (every hide, blind or not).

    A blank search is a session with at least one blank area (`TrainingSession.blank_areas`: an
    area searched where nothing was hidden).
    """
    in_scope_or_404(filters)
    every = replace(filters, blind_only=False)
    hides = {dog: (int(n), int(blind or 0)) for dog, n, blind in db.session.execute(
        select(TrainingSession.dog_id, func.count(Hide.id), func.sum(case((Hide.blind.is_(True), 1), else_=0)))
        .join(TrainingSession, Hide.session_id == TrainingSession.id).where(*_hide_where(every))
        .group_by(TrainingSession.dog_id))}
    blank = TrainingSession.blank_areas > 0
    result = {}
    for dog, sessions, blanks, last in db.session.execute(
            select(TrainingSession.dog_id, func.count(TrainingSession.id), func.sum(case((blank, 1), else_=0)),
                   func.max(case((blank, TrainingSession.started_at))))
            .where(*_session_where(every)).group_by(TrainingSession.dog_id)):
        n, blind = hides.get(dog, (0, 0))
        result[dog] = DogTraining(n, blind, int(sessions), int(blanks or 0),
                                  aggregate_utc(last) if last is not None else None)
    return result


# --------------------------------------------------------------------------- months

def _month_starts(filters: Filters, model) -> list[date]:
    """First days of the months the period covers (from the data when the period is open)."""
    first, last = filters.start, filters.end
    if first is None or last is None:
        days = _data_days(filters, model)
        if not days:
            return []
        first, last = first or days[0], last or days[1]
    return _months_between(first, last)


def _data_days(filters: Filters, model) -> tuple[date, date] | None:
    """The first and last local day with data (each agency's own zone)."""
    zone_of = {agency_id: tz for tz, ids in zone_groups(filters.agency_ids) for agency_id in ids}
    days = []
    for agency_id, lo, hi in db.session.execute(
            select(model.agency_id, func.min(model.started_at), func.max(model.started_at))
            .where(*_where(model, filters)).group_by(model.agency_id)):
        zone = ZoneInfo(zone_of[agency_id])
        days += [aggregate_utc(lo).astimezone(zone).date(), aggregate_utc(hi).astimezone(zone).date()]
    return (min(days), max(days)) if days else None


def _months_between(first: date, last: date) -> list[date]:
    return months_between(first, last, limit=MAX_MONTHS)


def _month_bucket(model, months: list[date], filters: Filters):
    """A SQL CASE naming the month (by index) of `model.started_at` in its agency's time zone; NULL outside."""
    return _month_bucket_of(model, tuple(months), tuple(zone_groups(filters.agency_ids)))


@lru_cache(maxsize=256)
def _month_bucket_of(model, months, zones):
    column = model.started_at

    def in_zone(tz):
        zone = ZoneInfo(tz)
        bounds = [datetime.combine(m, time(), zone) for m in months]
        bounds.append(datetime.combine(next_month(months[-1]), time(), zone))
        whens = [(and_(column >= bounds[i], column < bounds[i + 1]), literal(i)) for i in range(len(months))]
        return case(*whens, else_=None)

    if len(zones) <= 1:
        return in_zone(zones[0][0] if zones else "UTC")
    return case(*((model.agency_id.in_(ids), in_zone(tz)) for tz, ids in zones), else_=None)


@dataclass(frozen=True)
class Month:
    """One month of training: hides, found, false alerts and hours."""

    month: date
    hides: int
    found: int
    false_alerts: int
    minutes: int

    @property
    def rate(self) -> Rate:
        return Rate(self.found, self.hides, self.month.strftime("%Y-%m"))

    @property
    def false_alerts_per_100_hides(self) -> float | None:
        return 100 * self.false_alerts / self.hides if self.hides else None

    @property
    def hours(self) -> float:
        return self.minutes / 60


def monthly_training(filters: Filters, raw: bool = False) -> list[Month]:
    """Per calendar month (in each agency's time zone): hides, found, false alerts, session minutes."""
    in_scope_or_404(filters)
    split = None if raw else _split(filters, per_dog=True)
    if split is None:
        return _monthly_training_raw(filters)
    (inner_lo, inner_hi), partial = split
    lo, hi, edges = _pieces(split)
    rollup = _session_rollup(filters, lo, hi, by_month=True)
    edge_months = {}
    for sign, edge in edges:
        for m in _monthly_training_raw(edge):
            n, found, alerts, minutes = edge_months.get(m.month, (0, 0, 0, 0))
            edge_months[m.month] = (n + sign * m.hides, found + sign * m.found, alerts + sign * m.false_alerts,
                                    minutes + sign * m.minutes)
    if filters.start and filters.end:
        months = _months_between(filters.start, filters.end)
    else:
        # Months with data decide an open end, as on the raw path (months with sessions).
        every = (rollup if not filters.blind_only and (lo, hi) == (inner_lo, inner_hi)
                 else _session_rollup(replace(filters, blind_only=False), inner_lo, inner_hi, by_month=True))
        seen = list(every)
        for edge in partial:
            days = _data_days(edge, TrainingSession)
            if days:
                seen += [days[0], days[1]]
        if not seen:
            return []
        months = _months_between(filters.start or min(seen), filters.end or max(seen))
    result = []
    for month in months:
        _, minutes, alerts, n, found = rollup.get(month, (0,) * 5)
        edge = edge_months.get(month)
        if edge:
            n, found, alerts, minutes = n + edge[0], found + edge[1], alerts + edge[2], minutes + edge[3]
        result.append(Month(month, n, found, alerts, minutes))
    return result


def _monthly_training_raw(filters: Filters, months: list[date] | None = None) -> list[Month]:
    months = _month_starts(filters, TrainingSession) if months is None else months
    if not months:
        return []
    # One row per session with its counts (index look-ups by session), then the month of each session:
    # the month's CASE (a branch per month, in each agency's zone) is evaluated once per session, not
    # once per hide, and hides, false alerts and minutes come in one statement instead of three.
    alerts, hides, found = _counts_of_session(filters)
    sessions = select(_month_bucket(TrainingSession, months, filters).label("m"), hides.label("hides"),
                      found.label("found"), alerts.label("alerts"), TrainingSession.duration_minutes.label("minutes"),
                      ).where(*_session_where(filters)).subquery()
    # Grouped in an outer query: PostgreSQL does not match a CASE with bound parameters in
    # SELECT to the same CASE in GROUP BY.
    by_month = {m: counts for m, *counts in db.session.execute(
        select(sessions.c.m, func.sum(sessions.c.hides), func.sum(sessions.c.found), func.sum(sessions.c.alerts),
               func.sum(sessions.c.minutes)).group_by(sessions.c.m))}
    result = []
    for i, month in enumerate(months):
        n, found, alerts, minutes = by_month.get(i, (0, 0, 0, 0))
        result.append(Month(month, int(n or 0), int(found or 0), int(alerts or 0), int(minutes or 0)))
    return result


# --------------------------------------------------------------------------- false alerts, hours

@dataclass(frozen=True)
class TrainingTotals:
    """Sessions, hours, hides, false alerts of a period, with the derived rates."""

    sessions: int
    minutes: int
    hides: int
    found: int
    false_alerts: int

    @property
    def hours(self) -> float:
        return self.minutes / 60

    @property
    def find_rate(self) -> Rate:
        return Rate(self.found, self.hides, "All hides")

    @property
    def false_alerts_per_hour(self) -> float | None:
        return self.false_alerts / self.hours if self.minutes else None

    @property
    def false_alerts_per_100_hides(self) -> float | None:
        return 100 * self.false_alerts / self.hides if self.hides else None


def training_hours(filters: Filters, raw: bool = False) -> float:
    """Hours of training (sum of session durations)."""
    return training_totals(filters, raw).minutes / 60


def false_alerts_per_hour(filters: Filters) -> float | None:
    """False alerts per hour of training; None without any training time."""
    return training_totals(filters).false_alerts_per_hour


def training_totals(filters: Filters, raw: bool = False) -> TrainingTotals:
    """Sessions, minutes, false alerts, hides and found (rollups for whole months, raw rows at the edges):
    one statement for the whole months and one for each partial month."""
    in_scope_or_404(filters)
    split = None if raw else _split(filters, per_dog=True)
    if split is None:
        totals = _session_totals_raw(filters)
    else:
        lo, hi, edges = _pieces(split)
        totals = _session_rollup(filters, lo, hi, by_month=False).get(None, (0,) * 5)
        for sign, edge in edges:
            totals = tuple(a + sign * b for a, b in zip(totals, _session_totals_raw(edge)))
    sessions, minutes, alerts, hides, found = totals
    return TrainingTotals(sessions, minutes, hides, found, alerts)


def _session_totals_raw(filters: Filters) -> tuple[int, int, int, int, int]:
    """(sessions, minutes, false alerts, hides, found) from the raw rows, in one statement: each session's
    false alerts and hides are counted by index look-ups (only blind hides with `blind_only`, whose
    sessions are those with a blind hide)."""
    alerts, hides, found = _counts_of_session(filters)
    row = db.session.execute(
        select(func.count(TrainingSession.id), func.sum(TrainingSession.duration_minutes), func.sum(alerts),
               func.sum(hides), func.sum(found))
        .where(*_session_where(filters))).one()
    return tuple(int(v or 0) for v in row)


def _counts_of_session(filters: Filters):
    """Scalar subqueries of a TrainingSession row: its false alerts, hides and hides found."""
    blind = [Hide.blind.is_(True)] if filters.blind_only else []
    return false_alerts_of_session(), hides_of_session(*blind), hides_of_session(*blind, Hide.outcome == "found")


# --------------------------------------------------------------------------- rollups

def _split(filters: Filters, per_dog: bool = False):
    """((first, last) whole months for the rollups, [raw filters of the partial months at the edges]),
    or None when the raw rows must answer (a handler filter, a dog filter unless the caller reads the
    dog's own rollups (`per_dog`: training only), or no whole month in the period).
    first/last are first days of months; None leaves that side open."""
    if filters.handler_id or (filters.dog_id and not per_dog):
        return None
    start, end, edges = filters.start, filters.end, []
    lo = hi = None
    if start:
        lo = start if start.day == 1 else next_month(start)
        if start.day != 1:
            edge_end = lo - timedelta(days=1)
            edges.append(with_period(filters, start, min(end, edge_end) if end else edge_end))
    if end:
        if end == month_end(end):
            hi = month_start(end)
        else:
            hi = add_months(end, -1)
            edge_start = month_start(end)
            edges.append(with_period(filters, max(start, edge_start) if start else edge_start, end))
    if lo and hi and lo > hi:
        return None
    return (lo, hi), edges


def _pieces(split) -> tuple[date | None, date | None, list[tuple[int, Filters]]]:
    """(first, last month for the rollups, [(+1 or -1, raw filters to add or subtract)]).

    A partial month is read as its whole month from the rollups minus the days left out when those
    are fewer than the days it keeps: "the last 12 months" ending today keeps 23 days of November
    and leaves out 7, mostly in the future, so 7 days of raw rows are read instead of 23."""
    (lo, hi), edges = split
    signed = []
    for edge in edges:
        month = edge.start.replace(day=1)
        last = next_month(month) - timedelta(days=1)
        kept = (edge.end - edge.start).days + 1
        if (last - month).days + 1 - kept >= kept:
            signed.append((1, edge))
            continue
        if edge.start > month:
            signed.append((-1, with_period(edge, month, edge.start - timedelta(days=1))))
        if edge.end < last:
            signed.append((-1, with_period(edge, edge.end + timedelta(days=1), last)))
        if lo is not None and month < lo:
            lo = month
        else:
            hi = month
    return lo, hi, signed


def _rollup_where(model, filters: Filters, lo: date | None, hi: date | None) -> list:
    clauses = []
    if filters.agency_ids is not None:
        clauses.append(model.agency_id.in_(filters.agency_ids) if filters.agency_ids else false())
    if filters.dog_id:  # only the dog tables are read with a dog filter (_split)
        clauses.append(model.dog_id == filters.dog_id)
    if lo:
        clauses.append(model.month >= lo)
    if hi:
        clauses.append(model.month <= hi)
    return clauses


def _covers_every_agency(filters: Filters) -> bool:
    """True when the filter names every agency (the admin's "all", or a list of all of them)."""
    if filters.agency_ids is None:
        return True
    if not filters.agency_ids:
        return False
    every = {agency_id for _, ids in zone_groups(None) for agency_id in ids}  # read once per request
    return every <= set(filters.agency_ids)


def _hide_table(filters: Filters, keys: tuple[str, ...]):
    """The smallest rollup table that holds these keys for the filter's agencies (or dog)."""
    if filters.dog_id:
        return DogMonthRollup if keys in ((), ("month",)) else DogPairRollup
    if keys in ((), ("month",)):
        return SessionRollup
    if _covers_every_agency(filters):
        return PairRollup
    return {("device_type_id",): DeviceRollup, ("hiding_spot_id",): SpotRollup}.get(keys, HideRollup)


def _hide_groups_rollup(filters: Filters, keys: tuple[str, ...], lo, hi) -> dict[tuple, tuple[int, int]]:
    r = _hide_table(filters, keys)
    n_col, found_col = (r.blind_hides, r.blind_found) if filters.blind_only else (r.hides, r.found)
    if r is HideRollup:
        return _pairs_by_year(filters, lo, hi)
    columns = [getattr(r, k) for k in keys]
    scope = filters if r is not PairRollup else replace(filters, agency_ids=None)
    stmt = (select(*columns, func.sum(n_col), func.sum(found_col)).where(*_rollup_where(r, scope, lo, hi))
            .group_by(*columns).having(func.sum(n_col) > 0))
    return {tuple(row[:len(keys)]): (int(row[-2]), int(row[-1])) for row in db.session.execute(stmt)}


def _pairs_by_year(filters: Filters, lo: date | None, hi: date | None) -> dict[tuple, tuple[int, int]]:
    """Device × spot of some agencies: whole years from year_rollup, the other months from hide_rollup."""
    first = None if lo is None else (lo if lo.month == 1 else date(lo.year + 1, 1, 1))
    last = None if hi is None else (hi.replace(month=1) if hi.month == 12 else date(hi.year - 1, 1, 1))
    if first is not None and last is not None and first > last:
        parts = [(HideRollup, HideRollup.month, lo, hi)]
    else:
        parts = [(YearRollup, YearRollup.year, first, last)]
        if first is not None and lo < first:
            parts.append((HideRollup, HideRollup.month, lo, date(first.year - 1, 12, 1)))
        if last is not None and (hi is None or hi > date(last.year, 12, 1)):
            parts.append((HideRollup, HideRollup.month, date(last.year + 1, 1, 1), hi))
    groups: dict[tuple, tuple[int, int]] = {}
    for r, period, since, until in parts:
        n_col, found_col = (r.blind_hides, r.blind_found) if filters.blind_only else (r.hides, r.found)
        clauses = [r.agency_id.in_(filters.agency_ids) if filters.agency_ids else false()]
        if since is not None:
            clauses.append(period >= since)
        if until is not None:
            clauses.append(period <= until)
        for d, p, n, found in db.session.execute(
                select(r.device_type_id, r.hiding_spot_id, func.sum(n_col), func.sum(found_col)).where(*clauses)
                .group_by(r.device_type_id, r.hiding_spot_id)):
            n0, f0 = groups.get((d, p), (0, 0))
            groups[(d, p)] = (n0 + int(n), f0 + int(found))
    return {key: value for key, value in groups.items() if value[0]}


def _session_rollup(filters: Filters, lo, hi, by_month: bool) -> dict:
    """{month (or None): (sessions, minutes, false alerts, hides, found)} from session_rollup (a dog's
    from dog_month_rollup)."""
    r = DogMonthRollup if filters.dog_id else SessionRollup
    cols = ((r.blind_sessions, r.blind_minutes, r.blind_false_alerts, r.blind_hides, r.blind_found)
            if filters.blind_only else (r.sessions, r.minutes, r.false_alerts, r.hides, r.found))
    keys = [r.month] if by_month else []
    stmt = select(*keys, *(func.coalesce(func.sum(c), 0) for c in cols)).where(*_rollup_where(r, filters, lo, hi))
    if by_month:
        stmt = stmt.group_by(r.month).having(func.sum(cols[0]) > 0)
    out = {}
    for row in db.session.execute(stmt):
        out[row[0] if by_month else None] = tuple(int(v) for v in row[len(keys):])
    return out


def _hide_groups(filters: Filters, keys: tuple[str, ...], raw: bool) -> dict[tuple, tuple[int, int]]:
    """{(values of keys): (hides, found)}, keys among device_type_id and hiding_spot_id."""
    if keys and filters.dog_id and (filters.start or filters.end):
        return _hide_groups_raw(filters, keys)  # a dog's device types and spots are rolled up over all time only
    split = None if raw else _split(filters, per_dog=True)
    if split is None:
        return _hide_groups_raw(filters, keys)
    lo, hi, edges = _pieces(split)
    groups = _hide_groups_rollup(filters, keys, lo, hi)
    for sign, edge in edges:
        for key, (n, found) in _hide_groups_raw(edge, keys).items():
            n0, f0 = groups.get(key, (0, 0))
            groups[key] = (n0 + sign * n, f0 + sign * found)
    return {key: value for key, value in groups.items() if value[0]}


def _hide_groups_raw(filters: Filters, keys: tuple[str, ...]) -> dict[tuple, tuple[int, int]]:
    columns = [getattr(Hide, k) for k in keys]
    stmt = (select(*columns, func.count(Hide.id), _found_sum())
            .join(TrainingSession, Hide.session_id == TrainingSession.id)
            .where(*_hide_where(filters)))
    if keys:
        stmt = stmt.group_by(*columns)
    groups = {}
    for row in db.session.execute(stmt):
        n, found = int(row[-2] or 0), int(row[-1] or 0)
        if n:
            groups[tuple(row[:len(keys)])] = (n, found)
    return groups


# --------------------------------------------------------------------------- deployments

@dataclass(frozen=True)
class Impact:
    """What the dogs achieved in real searches."""

    deployments: int
    devices_found: int
    found_after_human_missed: int
    searches_with_missed_find: int
    searches_with_find: int
    finds_with_evidence: int
    finds_evidence_pending: int
    agencies_served: int
    unverified_alerts: int
    alerts: int
    alerts_confirmed: int
    alerts_explained: int
    finds_without_evidence: int

    @property
    def evidence(self) -> dict[str, int]:
        """Finds by forensic result: yes, no, pending."""
        return {"yes": self.finds_with_evidence, "no": self.finds_without_evidence,
                "pending": self.finds_evidence_pending}

    @property
    def field_accuracy(self) -> Rate:
        return _field_accuracy(self.alerts_confirmed, self.alerts)

    @property
    def share_missed_by_humans(self) -> float | None:
        """Share of finds that the human search had missed."""
        return self.found_after_human_missed / self.devices_found if self.devices_found else None

    @property
    def share_searches_with_missed_find(self) -> float | None:
        """Share of searches where the dog found what the human search had missed."""
        return self.searches_with_missed_find / self.deployments if self.deployments else None


def _field_accuracy(confirmed: int, alerts: int) -> Rate:
    """Field accuracy: the share of the dog's alerts in real searches where a device was recovered."""
    return Rate(confirmed, alerts, "Field accuracy")


def field_accuracies(filters: Filters, periods: list[tuple[date | None, date | None]]) -> list[Rate]:
    """`Impact.field_accuracy` of the filters' deployments in each period (start, end; None is open),
    from the raw rows in one statement: what a dog's page shows, without the rest of the impact."""
    in_scope_or_404(filters)
    sums = []
    for start, end in periods:
        inside = _period_clause(Deployment, with_period(filters, start, end)) if start or end else true()
        sums += [func.sum(case((inside, 1), else_=0)),
                 func.sum(case((and_(inside, FieldAlert.outcome == "confirmed"), 1), else_=0))]
    row = db.session.execute(select(*sums).select_from(FieldAlert)
                             .join(Deployment, Deployment.id == FieldAlert.deployment_id)
                             .where(*_where(Deployment, filters))).one()
    return [_field_accuracy(int(row[2 * i + 1] or 0), int(row[2 * i] or 0)) for i in range(len(periods))]


def deployment_impact(filters: Filters, raw: bool = False, by_agency: dict[int, list[int]] | None = None) -> Impact:
    """Deployments, finds, finds after the human search, evidence, agencies served, unverified alerts.

    `by_agency`: the period's `deployment_counts_by_agency`, when the caller has them already; the
    counts are their sums (a deployment is one agency's), read again only for the names served.
    """
    in_scope_or_404(filters)
    split = None if raw else _split(filters)
    summed = None if by_agency is None else [sum(column) for column in zip(*by_agency.values())] or None
    if split is None:
        counts = summed if by_agency is not None else _deployment_counts_raw(filters).get(None)
        names = _served_names(filters)
    else:
        (inner_lo, inner_hi), edges = split
        counts = summed if by_agency is not None else _deployment_totals(filters)
        # Distinct names do not subtract: whole months from the rollup, the partial ones raw, in one UNION.
        names = _served_names(*edges, whole=select(ServedRollup.requesting_agency).distinct()
                              .where(*_rollup_where(ServedRollup, filters, inner_lo, inner_hi)))
    (deployments, unverified, found, missed, evidence, no_evidence, pending, searches_found, searches_missed, alerts,
     confirmed, explained) = counts or [0] * len(DEPLOYMENT_COUNTS)
    return Impact(deployments, found, missed, searches_missed, searches_found, evidence, pending, len(names),
                  unverified, alerts, confirmed, explained, no_evidence)


@dataclass(frozen=True)
class ImpactMonth:
    """One month of deployments."""

    month: date
    deployments: int
    devices_found: int
    found_after_human_missed: int
    finds_with_evidence: int
    unverified_alerts: int


def monthly_impact(filters: Filters, raw: bool = False) -> list[ImpactMonth]:
    """Deployments, finds, finds the human search missed, evidence and unverified alerts per month."""
    in_scope_or_404(filters)
    split = None if raw else _split(filters)
    if split is None:
        months = _month_starts(filters, Deployment)
        counts = _deployment_counts_raw(filters, months) if months else {}
        by_month = {month: counts.get(i) for i, month in enumerate(months)}
    else:
        lo, hi, edges = _pieces(split)
        by_month = _deployment_rollup(filters, lo, hi, by=DeploymentRollup.month)
        for sign, edge in edges:
            month = edge.start.replace(day=1)  # an edge lies inside one month
            counts = _deployment_counts_raw(edge).get(None)
            if counts:
                by_month[month] = _plus(by_month.get(month), [sign * v for v in counts])
        seen = [month for month, counts in by_month.items() if counts and counts[0]]
        if filters.start and filters.end:
            months = _months_between(filters.start, filters.end)
        elif seen:
            months = _months_between(filters.start or min(seen), filters.end or max(seen))
        else:
            months = []
    result = []
    for month in months:
        n, unverified, finds, missed, evidence, *_ = by_month.get(month) or [0] * len(DEPLOYMENT_COUNTS)
        result.append(ImpactMonth(month, n, finds, missed, evidence, unverified))
    return result


def _deployment_totals(filters: Filters) -> list[int] | None:
    """The period's deployment counts: whole months from the rollup, the partial ones raw."""
    lo, hi, edges = _pieces(_split(filters))
    counts = _deployment_rollup(filters, lo, hi).get(None)
    for sign, edge in edges:
        more = _deployment_counts_raw(edge).get(None)
        counts = _plus(counts, [sign * v for v in more] if more else None)
    return counts


def _plus(a: list[int] | None, b: list[int] | None) -> list[int] | None:
    if a is None or b is None:
        return a or b
    return [x + y for x, y in zip(a, b)]


def deployment_counts_by_agency(filters: Filters, raw: bool = False) -> dict[int, list[int]]:
    """{agency id: [DEPLOYMENT_COUNTS]} of the period (agencies with a deployment in it): whole months
    from the rollup, the partial ones raw."""
    in_scope_or_404(filters)
    split = None if raw else _split(filters)
    if split is None:
        return _deployment_counts_raw(filters, by_agency=True)
    lo, hi, edges = _pieces(split)
    counts = _deployment_rollup(filters, lo, hi, by=DeploymentRollup.agency_id)
    for sign, edge in edges:
        for agency_id, more in _deployment_counts_raw(edge, by_agency=True).items():
            counts[agency_id] = _plus(counts.get(agency_id), [sign * v for v in more])
    return {agency_id: row for agency_id, row in counts.items() if row[0]}


def _deployment_rollup(filters: Filters, lo, hi, by=None) -> dict:
    """{the `by` column's value (a month, an agency; None without it): [DEPLOYMENT_COUNTS]} from deployment_rollup."""
    r = DeploymentRollup
    keys = [] if by is None else [by]
    stmt = (select(*keys, *(func.coalesce(func.sum(getattr(r, c)), 0) for c in DEPLOYMENT_COUNTS))
            .where(*_rollup_where(r, filters, lo, hi)))
    if keys:
        stmt = stmt.group_by(by).having(func.sum(r.deployments) > 0)
    return {row[0] if keys else None: [int(v) for v in row[len(keys):]] for row in db.session.execute(stmt)}


def _deployment_counts_raw(filters: Filters, months: list[date] | None = None, by_agency: bool = False) -> dict:
    """{month index (agency id with `by_agency`; None without either): [DEPLOYMENT_COUNTS]} from the raw rows."""
    where = _where(Deployment, filters)
    bucket = (Deployment.agency_id if by_agency else _month_bucket(Deployment, months, filters) if months
              else literal(0)).label("m")
    # Grouped in outer queries: PostgreSQL does not match a CASE with bound parameters in
    # SELECT to the same CASE in GROUP BY. The three groupings (deployments, finds, alerts) are one
    # statement, told apart by their first column: one round trip instead of three.
    deps = select(bucket).where(*where).subquery()
    finds = (select(bucket, Find.deployment_id.label("dep"), Find.missed_by_human_search.label("missed"),
                    Find.evidence.label("evidence"))
             .select_from(Find).join(Deployment, Find.deployment_id == Deployment.id).where(*where).subquery())
    missed = finds.c.missed.is_(True)
    alerts = (select(bucket, FieldAlert.outcome.label("outcome"))
              .select_from(FieldAlert).join(Deployment, FieldAlert.deployment_id == Deployment.id)
              .where(*where).subquery())

    def counted(what: str, subquery, *values):
        values += (literal(0),) * (7 - len(values))
        return select(literal(what).label("what"), subquery.c.m, func.count(), *values).group_by(subquery.c.m)
    stmt = union_all(
        counted("deployments", deps),
        counted("finds", finds, func.sum(case((missed, 1), else_=0)),
                *(func.sum(case((finds.c.evidence == e, 1), else_=0)) for e in ("yes", "no", "pending")),
                func.count(distinct(finds.c.dep)), func.count(distinct(case((missed, finds.c.dep))))),
        counted("alerts", alerts, *(func.sum(case((alerts.c.outcome == o, 1), else_=0))
                                    for o in ("unverified", "confirmed", "explained"))))
    out = {}
    for what, m, n, *values in db.session.execute(stmt):
        row = out.setdefault(m, [0] * len(DEPLOYMENT_COUNTS))
        if what == "deployments":
            row[0] = int(n)
        elif what == "finds":
            row[2:9] = [int(n)] + [int(v or 0) for v in values[:6]]
        else:
            unverified, confirmed, explained = (int(v or 0) for v in values[:3])
            row[1], row[9:12] = unverified, [int(n), confirmed, explained]
    if by_agency:
        return out
    if not months:
        return {None: out[0]} if 0 in out else {}
    return {m: v for m, v in out.items() if m is not None}


def _served_names(*periods: Filters, whole=None) -> set[str]:
    """The requesting agencies' names as "agencies served" counts them (as the rollups do), of the raw
    rows of `periods` and of the statement `whole` (the rollup's months), in one statement."""
    name = served_name(Deployment.requesting_agency)
    parts = [select(name).distinct().where(*_where(Deployment, f), Deployment.requesting_agency.is_not(None))
             for f in periods] + ([whole] if whole is not None else [])
    return set(db.session.scalars(union(*parts) if len(parts) > 1 else parts[0]))


# --------------------------------------------------------------------------- certification

def dogs_certified(filters: Filters, on: date) -> int:
    """Dogs holding a passed certification valid on `on` (not archived)."""
    return dogs_certified_on(filters, [on])[0]


def dogs_certified_on(filters: Filters, days: list[date]) -> list[int]:
    """`dogs_certified` on each of `days`, in one statement."""
    in_scope_or_404(filters)
    clauses = [Certification.archived_at.is_(None), Certification.result == "pass",
               Dog.archived_at.is_(None), *_scope(Certification, filters)]
    counts = [func.count(distinct(case((and_(Certification.issued_on <= on, Certification.expires_on >= on),
                                         Certification.dog_id)))) for on in days]
    row = db.session.execute(select(*counts).join(Dog, Dog.id == Certification.dog_id).where(*clauses)).one()
    return [int(n or 0) for n in row]


def with_period(filters: Filters, start: date | None, end: date | None) -> Filters:
    """The same filters over another period."""
    return replace(filters, start=start, end=end)


__all__ = ["DogGroup", "DogTraining", "Filters", "HIDE_ASPECTS", "cell_hides", "in_scope_or_404", "Impact", "ImpactMonth", "MIN_CELL_HIDES", "Matrix", "Month", "Rate",
           "TrainingTotals", "build_filters", "deployment_impact", "device_spot_matrix",
           "dog_hide_groups", "dog_training", "field_accuracies", "hide_breakdown", "deployment_counts_by_agency", "dogs_certified", "dogs_certified_on", "false_alerts_per_hour", "find_rate", "find_rates",
           "monthly_impact", "monthly_training", "training_hours", "training_totals",
           "wilson_interval", "with_period"]
