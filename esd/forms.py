"""The base of every form: the bounds each field kind gets whatever the form says."""
from datetime import timedelta

from flask import request
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, FloatField, IntegerField
from wtforms.validators import ValidationError

from . import agency_day
from .extensions import db
from .parsing import EARLIEST_DAY, MAX_ID, clamp_day, plain_int, within_window


def form_status() -> int:
    """The status of a page showing a form: 400 when it comes back from a POST with errors, else 200."""
    return 400 if request.method == "POST" else 200


def named_record(model, record_id):
    """The record a form's id field names; None when the field is empty or holds an id no record has."""
    if not record_id or not 0 < record_id <= MAX_ID:
        return None
    return db.session.get(model, record_id)


def not_before(start_field: str, message: str = "The end date is before the start date."):
    """A validator: this date is empty, or on or after the form's `start_field` date (a range or a span)."""
    def check(form, field):
        start = form[start_field].data
        if field.data and start and field.data < start:
            raise ValidationError(message)
    return check


def _ascii_raw(field) -> None:
    raw = (field.raw_data or [""])[0]
    if isinstance(raw, str) and not raw.isascii():
        raise ValidationError("Use the digits 0-9.")


def sane_date(form, field):
    """A date typed in ASCII digits, from 1990 to 2099 (the calendar arithmetic of reports stays in range)."""
    if field.data is None:
        return
    _ascii_raw(field)
    try:
        within_window(field.data)
    except ValueError as error:
        raise ValidationError(str(error)) from None


def sane_number(form, field):
    """A number typed in ASCII digits that an INTEGER column holds."""
    if field.data is None:
        return
    _ascii_raw(field)
    try:
        plain_int(int(field.data), low=-MAX_ID, high=MAX_ID)
    except (ValueError, OverflowError):
        raise ValidationError(f"Use a number from {-MAX_ID} to {MAX_ID}.") from None


def happened(form, field):
    """A day on which something already happened: from 1990 to the record's agency's tomorrow.

    The agency is the form's `agency_for_day()`; when the form does not know it (yet), the viewer's day.
    """
    if field.data is None:
        return
    agency_id = form.agency_for_day() if isinstance(form, SafeForm) else None
    today = agency_day.today_of([agency_id]) if agency_id else agency_day.viewer_today()
    try:
        within_window(field.data, EARLIEST_DAY, today + timedelta(days=1))
    except ValueError as error:
        raise ValidationError(str(error).replace("Enter a date", "Enter a day that has passed,")) from None


def clamp_date(form, field):
    """A filter's date typed in ASCII digits, moved into 1990-2099 (a range "to 9999-12-31" means "to the end")."""
    if field.data is None:
        return
    _ascii_raw(field)
    field.data = clamp_day(field.data)


class SafeForm(FlaskForm):
    """FlaskForm with the bounds of its field kinds: every date and number checked, whatever the form declares."""

    # A filter (a GET form) clamps its dates into the window; a record's form refuses a date outside it.
    clamp_dates = False

    def agency_for_day(self) -> int | None:
        """The agency whose day bounds this form's `happened` dates; None: the viewer's day."""
        return None

    def validate(self, extra_validators=None):
        extra = {name: list(checks) for name, checks in (extra_validators or {}).items()}
        for field in self:
            if isinstance(field, DateField):
                extra.setdefault(field.short_name, []).append(clamp_date if self.clamp_dates else sane_date)
            elif isinstance(field, (IntegerField, DecimalField, FloatField)):
                extra.setdefault(field.short_name, []).append(sane_number)
        return super().validate(extra)
