"""Numbers and dates from requests (paths, query strings, forms, JSON): plain ASCII, bounded.

Python's own parsers accept far more than a person means: `int("١")` is 1, `"²".isdigit()` is
true, `float("1e19")` is a whole number, `date(9999, 12, 31) + timedelta(1)` overflows, and an id
of 2**31 is beyond PostgreSQL's INTEGER. Every value a request carries goes through here, so the
rest of the code only ever sees ids the databases hold and days the calendar can move around.
"""
from __future__ import annotations

import re
from datetime import date

from werkzeug.routing import IntegerConverter

# PostgreSQL INTEGER (SQLite holds more; one bound for both). A larger id names nothing: not found.
MAX_ID = 2**31 - 1
# Dates a record or a filter may name. Before 1990 no program here had dogs; after 2099 only a
# typo lives, and both ends keep room for the month and day arithmetic of reports and reminders.
EARLIEST_DAY = date(1990, 1, 1)
LATEST_DAY = date(2099, 12, 31)

_PLAIN_INT = re.compile(r"-?[0-9]{1,100}", re.ASCII)
_PLAIN_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def plain_int(value, low: int | None = None, high: int | None = MAX_ID) -> int:
    """An int from ASCII digits (or a JSON whole number) within [low, high]; ValueError otherwise.

    Booleans, floats with a fraction, exponents ("1e19"), lists, objects and Unicode digits are
    refused; so is anything outside the bounds (by default what an INTEGER column holds).
    """
    if isinstance(value, bool):
        raise ValueError("Must be a whole number.")
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON has one number type: 3.0 from a tablet is 3
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _PLAIN_INT.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        raise ValueError("Must be a whole number.")
    if (low is not None and number < low) or (high is not None and number > high):
        if low is not None and high is not None:
            raise ValueError(f"Must be between {low} and {high}.")
        raise ValueError(f"Must be at least {low}." if low is not None else f"Must be at most {high}.")
    return number


def parse_id(value) -> int | None:
    """A record id (1 to MAX_ID) from a request, or None when the value cannot name a record."""
    try:
        return plain_int(value, low=1)
    except ValueError:
        return None


# An id that no record has: a choice check refuses it beside its field, a scoped lookup answers 404.
NOT_AN_ID = -1


def optional_int(value):
    """Coerce a select's value to an id, None when empty, NOT_AN_ID for anything else.

    The one coercion of every select that names a record. Of the three meanings it had, this one
    won: a value that is not an id (Unicode digits, 2**63, "abc") becomes an id no record has, so
    the field's own choice check refuses it with a message a person understands and a filter
    naming it finds nothing (404), instead of WTForms' "could not coerce" or a database error.
    """
    if value is None or (isinstance(value, str) and value.strip() in ("", "None")):
        return None
    number = parse_id(value)
    return NOT_AN_ID if number is None else number


def page_number(value) -> int:
    """A page number for `request.args.get("page", 1, type=page_number)`; ValueError falls back."""
    return plain_int(value, low=1, high=1_000_000)


def parse_day(value, earliest: date = EARLIEST_DAY, latest: date = LATEST_DAY) -> date:
    """A YYYY-MM-DD day in ASCII digits within [earliest, latest]; ValueError with a message otherwise."""
    if not isinstance(value, str) or not _PLAIN_DAY.fullmatch(value.strip()):
        raise ValueError("Enter a date like 2026-03-31.")
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("Enter a date like 2026-03-31.") from None
    return within_window(day, earliest, latest)


def within_window(day: date, earliest: date = EARLIEST_DAY, latest: date = LATEST_DAY) -> date:
    """`day` if it lies in [earliest, latest]; ValueError saying the window otherwise."""
    if day < earliest or day > latest:
        raise ValueError(f"Enter a date from {earliest.isoformat()} to {latest.isoformat()}.")
    return day


def clamp_day(day: date) -> date:
    """`day` moved into [EARLIEST_DAY, LATEST_DAY]: how a filter reads "from 0001-01-01" or "to 9999-12-31"."""
    return min(max(day, EARLIEST_DAY), LATEST_DAY)


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: ASCII digits only and at most MAX_ID, else the route does not match (404).

    Werkzeug's own converter matches `\\d+`, which in Python means any Unicode digit (`/dogs/١`
    was read as `/dogs/1`), and has no upper bound.
    """

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def has_nul(request) -> bool:
    """Whether the path, query string or form of `request` holds a NUL character.

    A JSON body is read by its schema, which names the field holding one (esd/training/forms.py).
    """
    if "\x00" in request.path:
        return True
    return any("\x00" in k or "\x00" in v for values in (request.args, request.form)
               for k, v in values.items(multi=True))

