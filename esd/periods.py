"""Reporting periods: quarters and years (calendar or fiscal), the period before, the same period a year earlier.

Month arithmetic is esd/dates.py's; this module builds periods from it. A period is a pair of
local days, both inclusive, read in each agency's own day by the metrics.

- A period of whole months (it starts on a month's first day and ends on a month's last day) is
  compared with the same number of whole months: the quarter before a quarter, the year before a
  year, whatever their lengths in days (1 October–31 December has 92 days, 1 July–30 September 92,
  1 January–31 March 90 or 91).
- Any other period is compared with the same number of days just before it.
- A year earlier is the same days one year back; 29 February becomes 28 February, and a period
  of whole months stays whole months (February 2024 a year back is 1–28 February 2023).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .dates import add_months, month_end, month_start, one_year_after

MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")
FISCAL_START_CHOICES = tuple((n, f"{name}{' (the calendar year)' if n == 1 else ''}")
                             for n, name in enumerate(MONTH_NAMES, start=1))
# The presets a funder picks instead of typing dates.
PRESETS = {"last_quarter": "Last full quarter", "this_quarter": "This quarter so far",
           "last_year": "Last full year", "this_year": "This year so far"}


@dataclass(frozen=True)
class Period:
    """Local days `start` to `end`, both inclusive."""

    start: date
    end: date

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError("The end date is before the start date.")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def whole_months(self) -> int | None:
        """How many whole months the period is, or None when it is not made of whole months."""
        if self.start != month_start(self.start) or self.end != month_end(self.end):
            return None
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    def previous(self) -> Period:
        """The period of the same length just before this one (whole months: the same number of months)."""
        months = self.whole_months
        if months is not None:
            return Period(add_months(self.start, -months), self.start - timedelta(days=1))
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def year_earlier(self) -> Period:
        """The same period one year back."""
        if self.whole_months is not None:
            return Period(add_months(self.start, -12), month_end(add_months(self.end, -12)))
        return Period(year_before(self.start), year_before(self.end))

    def label(self) -> str:
        """The period as people write it: "1 Jan 2026 – 31 Mar 2026"."""
        return f"{_day(self.start)} – {_day(self.end)}"


def _day(day: date) -> str:
    return f"{day.day} {MONTH_NAMES[day.month - 1][:3]} {day.year}"


def year_before(day: date) -> date:
    """The same date a year earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def check_fiscal_start(month: int) -> int:
    """`month` when it names a month (1-12); raises ValueError otherwise."""
    if not isinstance(month, int) or not 1 <= month <= 12:
        raise ValueError("A fiscal year starts in a month from 1 (January) to 12 (December).")
    return month


def year_start(day: date, fiscal_start: int = 1) -> date:
    """The first day of the (fiscal) year holding `day`; `fiscal_start` is its first month (1: January)."""
    check_fiscal_start(fiscal_start)
    year = day.year if day.month >= fiscal_start else day.year - 1
    return date(year, fiscal_start, 1)


def quarter_start(day: date, fiscal_start: int = 1) -> date:
    """The first day of the (fiscal) quarter holding `day`: quarters count from the year's first month."""
    start = year_start(day, fiscal_start)
    months = (day.year - start.year) * 12 + day.month - start.month
    return add_months(start, months - months % 3)


def preset(name: str, today: date, fiscal_start: int = 1) -> Period:
    """The period a preset names, as of `today` (the viewer's day). Raises KeyError for an unknown preset."""
    if name == "this_quarter":
        return Period(quarter_start(today, fiscal_start), today)
    if name == "last_quarter":
        start = add_months(quarter_start(today, fiscal_start), -3)
        return Period(start, month_end(add_months(start, 2)))
    if name == "this_year":
        return Period(year_start(today, fiscal_start), today)
    if name == "last_year":
        start = year_start(today, fiscal_start)
        return Period(date(start.year - 1, start.month, 1), start - timedelta(days=1))
    raise KeyError(name)


def year_name(start: date, fiscal_start: int = 1) -> str:
    """A year as people name it: "2026", or a fiscal year "FY 2026–27" (named by both calendar years)."""
    if fiscal_start == 1:
        return str(start.year)
    return f"FY {start.year}–{str(start.year + 1)[-2:]}"


__all__ = ["FISCAL_START_CHOICES", "MONTH_NAMES", "PRESETS", "Period", "check_fiscal_start", "one_year_after",
           "preset", "quarter_start", "year_before", "year_name", "year_start"]
