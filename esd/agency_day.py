"""The day of whoever is looking: their agency's, or across several agencies the one begun in all.

A manager or handler lives in one agency's day. An administrator or a funder looks at several
agencies, each read in its own zone (the metrics do so); their "today" is the earliest of those
agencies' days, so a default period never ends on a day that has not begun for one of them
(at 19:30 in Los Angeles, a New York agency is already in tomorrow, Los Angeles is not).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import g, has_request_context
from flask_login import current_user
from sqlalchemy import and_, false, or_, select

from . import dates
from .extensions import db
from .models import Agency
from .scoping import aggregate_agency_ids


def zones_of(agency_ids: list[int] | tuple[int, ...] | None) -> list[str]:
    """The distinct time zones of the active agencies in `agency_ids` (None: every agency)."""
    stmt = select(Agency.timezone).where(Agency.archived_at.is_(None)).distinct()
    if agency_ids is not None:
        if not agency_ids:
            return []
        stmt = stmt.where(Agency.id.in_(list(agency_ids)))
    return sorted(db.session.scalars(stmt))


def today_of(agency_ids: list[int] | tuple[int, ...] | None, now: datetime | None = None) -> date:
    """The earliest of the agencies' days at `now`; the UTC day when there is no agency."""
    now = now or dates.utcnow()
    zones = zones_of(agency_ids) or ["UTC"]
    return min(dates.local_day(tz, now) for tz in zones)


def viewer_today(user=None, now: datetime | None = None) -> date:
    """The signed-in user's "today" (see the module's docstring); read once per request."""
    if user is None and now is None and has_request_context():
        if "viewer_today" not in g:
            g.viewer_today = viewer_today(current_user, dates.utcnow())
        return g.viewer_today
    user = user or current_user
    if user.agency_id:
        return user.agency.today(now)
    return today_of(aggregate_agency_ids(user), now)


def zone_note(agency_ids: list[int] | tuple[int, ...] | None) -> str:
    """Which zone dates are read in, for a page: one agency's zone, or "each agency's own"."""
    zones = zones_of(agency_ids)
    if len(zones) == 1:
        return f"Dates are in {dates.zone_label(zones[0])}."
    if not zones:
        return ""
    labels = ", ".join(dates.zone_label(tz) for tz in zones)
    return f"Dates are read in each agency's own time zone ({labels})."


def zone_groups(agency_ids: list[int] | tuple[int, ...] | None) -> list[tuple[str, tuple[int, ...]]]:
    """The agencies in `agency_ids` (None: every agency) grouped by time zone, archived ones too.

    Read once per request and scope: a funder's cold dashboard asked 30 times for the same twelve
    agencies' zones (every figure's period clause). An agency's zone changes only in an admin's request.
    """
    key = None if agency_ids is None else tuple(agency_ids)
    if not has_request_context():
        return _read_zone_groups(key)
    memo = g.setdefault("zone_groups", {})
    if key not in memo:
        memo[key] = _read_zone_groups(key)
    return list(memo[key])


def _read_zone_groups(agency_ids: tuple[int, ...] | None) -> list[tuple[str, tuple[int, ...]]]:
    if agency_ids is not None and len(agency_ids) == 1:
        # One agency: the page has usually loaded it already (a dog's), and then this reads no row.
        agency = db.session.get(Agency, agency_ids[0])
        return [] if agency is None else [(agency.timezone, agency_ids)]
    stmt = select(Agency.timezone, Agency.id).order_by(Agency.id)
    if agency_ids is not None:
        if not agency_ids:
            return []
        stmt = stmt.where(Agency.id.in_(list(agency_ids)))
    groups: dict[str, list[int]] = {}
    for tz, agency_id in db.session.execute(stmt):
        groups.setdefault(tz, []).append(agency_id)
    return sorted((tz, tuple(ids)) for tz, ids in groups.items())


def local_days_clause(column, agency_column, agency_ids, first: date | None, last: date | None):
    """SQL: `column` (a UTC instant) falls on the local days `first` to `last` of its row's agency.

    Each agency's rows are read in its own zone; None when neither bound is given.
    """
    if first is None and last is None:
        return None
    groups = zone_groups(agency_ids)
    if len(groups) == 1 and agency_ids is not None:  # the caller's scope already names the agencies
        return on_days(column, first, last, groups[0][0])
    return days_in_zones(column, agency_column, groups, first, last)


def days_in_zones(column, agency_column, groups, first: date | None, last: date | None):
    """SQL: `column` falls on the local days `first` to `last` of its row's agency, for `zone_groups`' groups."""
    if not groups:
        return false()
    return or_(*(and_(agency_column.in_(ids), on_days(column, first, last, tz)) for tz, ids in groups))


def on_days(column, first: date | None, last: date | None, tz: str):
    """SQL: `column` (a UTC instant) falls on the days `first` to `last` of zone `tz` (either may be None)."""
    parts = []
    if first is not None:
        parts.append(column >= dates.local_midnight_utc(first, tz))
    if last is not None:
        parts.append(column < dates.local_midnight_utc(last + timedelta(days=1), tz))
    return and_(*parts)
