"""The base of every form: the bounds each field kind gets whatever the form says."""
from flask import request
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, FloatField, IntegerField
from wtforms.validators import ValidationError

from .extensions import db
from .models.base import utcnow
from .parsing import MAX_ID, clamp_day, happened_day, plain_int, within_window


def form_status() -> int:
    """The status of a page showing a form: 400 when it comes back from a POST with errors, else 200."""
    return 400 if request.method == "POST" else 200


def named_record(model, record_id):
    """The record a form's id field names; None when the field is empty or holds an id no record has."""
    if not record_id or not 0 < record_id <= MAX_ID:
        return None
    return db.session.get(model, record_id)


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
    """A day on which something already happened: no earlier than 1990, no later than tomorrow."""
    if field.data is None:
        return
    try:
        happened_day(field.data, utcnow())
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

    def validate(self, extra_validators=None):
        extra = {name: list(checks) for name, checks in (extra_validators or {}).items()}
        for field in self:
            if isinstance(field, DateField):
                extra.setdefault(field.short_name, []).append(clamp_date if self.clamp_dates else sane_date)
            elif isinstance(field, (IntegerField, DecimalField, FloatField)):
                extra.setdefault(field.short_name, []).append(sane_number)
        return super().validate(extra)
