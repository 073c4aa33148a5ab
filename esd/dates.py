"""The agency's day: time zones, local days and instants, month arithmetic and periods.

Every "today", month and period in the app is an agency's own, read in its time zone; the UTC
instant is what is stored. This module imports nothing from the application, so the models
and every area can use it.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import get_timezone_location, get_timezone_name

UTC = timezone.utc
LOCALE = "en_US"


def utcnow() -> datetime:
    """Return the current time in UTC, timezone-aware."""
    return datetime.now(UTC)


@lru_cache(maxsize=128)
def zone(name: str | ZoneInfo | None) -> ZoneInfo:
    """The zone named `name`; an unknown or empty name is UTC rather than a failed page."""
    if isinstance(name, ZoneInfo):
        return name
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_day(tz: str | ZoneInfo | None, now: datetime | None = None) -> date:
    """The calendar day in zone `tz` at the instant `now` (the present when None)."""
    return local_time(tz, now or utcnow()).date()


def local_time(tz: str | ZoneInfo | None, moment: datetime) -> datetime:
    """`moment` in zone `tz`; a naive moment is taken as UTC (how the database stores it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone(tz))


def local_midnight(day: date, tz: str | ZoneInfo | None) -> datetime:
    """The instant (aware, in `tz`) at which `day` begins in zone `tz`."""
    return datetime.combine(day, time(), zone(tz))


def local_midnight_utc(day: date, tz: str | ZoneInfo | None) -> datetime:
    """The UTC instant at which `day` begins in zone `tz`."""
    return local_midnight(day, tz).astimezone(UTC)


def day_bounds_utc(first: date, last: date, tz: str | ZoneInfo | None) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the local days `first` to `last` inclusive."""
    return local_midnight_utc(first, tz), local_midnight_utc(last + timedelta(days=1), tz)


@lru_cache(maxsize=128)
def zone_label(tz: str | ZoneInfo | None) -> str:
    """A zone as people say it: "Pacific Time (Los Angeles)", not `America/Los_Angeles`."""
    name = tz or "UTC"
    if name in ("UTC", "Etc/UTC", "GMT"):
        return "Coordinated Universal Time (UTC)"
    try:
        generic = get_timezone_name(zone(name), "long", locale=LOCALE)
        city = get_timezone_location(zone(name), locale=LOCALE, return_city=True)
    except LookupError:
        return name
    return generic if city in generic else f"{generic} ({city})"


def abbreviation(tz: str | ZoneInfo | None, moment: datetime) -> str:
    """The zone's abbreviation in force at `moment` (PST or PDT), for a time shown to a person."""
    return local_time(tz, moment).tzname() or ""


def format_local(moment: datetime | None, tz: str | ZoneInfo | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """`moment` as a local time with its zone's abbreviation ("2026-11-30 19:30 PST"); "" for None."""
    if moment is None:
        return ""
    local = local_time(tz, moment)
    return f"{local.strftime(fmt)} {local.tzname()}"


# --------------------------------------------------------------------------- months and periods

def month_start(day: date) -> date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after `day`'s (negative: before)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    return add_months(day, 1)


def month_end(day: date) -> date:
    """The last day of `day`'s month."""
    return next_month(day) - timedelta(days=1)


def months_between(first: date, last: date, limit: int | None = None) -> list[date]:
    """First days of the months from `first`'s to `last`'s inclusive (at most `limit`)."""
    months, month = [], month_start(first)
    while month <= last and (limit is None or len(months) < limit):
        months.append(month)
        month = next_month(month)
    return months


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def twelve_months_to(day: date) -> tuple[date, date]:
    """The last twelve months up to `day`, its month included: (first day, `day`)."""
    return add_months(day, -11), day


def one_year_after(day: date) -> date:
    """The same date a year later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)
