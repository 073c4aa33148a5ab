"""The one schema of a training session: what may be sent, its bounds and its messages.

The tablet's JSON (API uploads, offline retries, edits) is read through these WTForms
classes; the serializer, the audit snapshot and the limits the tablet checks before
queueing a session offline are derived from the same fields, so a field is added here once
(beside its model column). Rules that need the database or the user (the dog in scope,
active vocabulary terms, the handler of the day) are in `services.load_session`.

Field paths: the API and the tablet speak the JSON path `hides[2].device_type_id`; a list's rows
are read one by one through the row's form (see `read`).
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, FieldList, Form, FormField, StringField
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional, ValidationError

from ..models import FalseAlert, TrainingSession
from ..models.training import (CONCEALMENTS, HEIGHTS, MAX_DURATION_MINUTES, MAX_SECONDS_TO_FIND, OUTCOMES,
                               PRECIPITATIONS, PURPOSES, WINDS)
from ..parsing import MAX_ID  # the largest id an INTEGER holds: anything beyond is simply unknown

MAX_HIDES = 200
MAX_FALSE_ALERTS = 100
MAX_AID_SET_MINUTES = 10080  # a week: aids are set the day before at most, a week covers any mistake
MAX_BLANK_AREAS = 1000
# Text columns have no length in the database; these bound what one session may carry.
MAX_NOTES = 5000
MAX_FALSE_ALERT_NOTE = 2000
TEMPERATURE_RANGE = (-60, 60)
# Keys of the serializer's answer that are not input: a body read from GET may be sent back as is.
READ_ONLY_KEYS = frozenset({"id", "started_at_utc", "signed_off_at", "summary", "created", "changed"})
# Keys the views read themselves beside the schema (an edit's reason).
EXTRA_KEYS = frozenset({"reason"})

NUL_MESSAGE = "Remove the invisible control character (NUL)."
ASCII_INTEGER = re.compile(r"-?[0-9]{1,18}")
ASCII_DECIMAL = re.compile(r"-?[0-9]{1,6}(\.[0-9]{1,6})?")


def column_length(column) -> int:
    """The length of a String column, so a form never accepts more than the database stores."""
    return column.property.columns[0].type.length


class PayloadError(Exception):
    """A session body that cannot be saved: `errors` is a list of {"field", "error"}."""

    def __init__(self, errors: list[dict], status: int = 422):
        super().__init__(errors[0]["error"])
        self.errors = errors
        self.status = status


# ---------------------------------------------------------------- fields

class NumberField(StringField):
    """A number in plain ASCII digits: no exponent, NaN or infinity, and "²" or "١" are not digits here."""

    pattern = ASCII_DECIMAL
    convert = float
    message = "Must be a number."

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or valuelist[0].strip() == "":
            return
        text = valuelist[0].strip()
        if not self.pattern.fullmatch(text):
            raise ValueError(self.message)
        self.data = self.convert(text)


class WholeNumberField(NumberField):
    """A whole number in ASCII digits (at most 18, so 1e19 is refused before it reaches SQL)."""

    pattern = ASCII_INTEGER
    convert = int
    message = "Must be a whole number."


class TermField(WholeNumberField):
    """The id of a vocabulary term of one kind; whether it exists and is active is checked in one query."""

    def __init__(self, label=None, validators=None, *, kind: str, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.kind = kind


class TextField(StringField):
    """Free text: trimmed, empty is None."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.data = (self.data or "").strip() or None


class LocalDateTimeField(StringField):
    """An ISO date-time; without an offset it is read in the agency's zone (by the service)."""

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or not valuelist[0].strip():
            return
        try:
            self.data = datetime.fromisoformat(valuelist[0].strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("Enter the date and time as YYYY-MM-DD HH:MM.") from None


def no_nul(form, field):
    """Refuse control characters that PostgreSQL cannot store (NUL) in any text."""
    if isinstance(field.data, str) and "\x00" in field.data:
        raise ValidationError(NUL_MESSAGE)


def is_uuid(form, field):
    if field.data:
        try:
            field.data = str(uuid.UUID(field.data))
        except ValueError:
            raise ValidationError("Not a valid UUID.") from None


def required(message: str):
    return InputRequired(message=message)


def choice(values, label: str):
    return AnyOf(values, message=f"Choose a {label} from the list.")


def at_most(limit: int):
    return Length(max=limit, message=f"At most {limit} characters.")


# ---------------------------------------------------------------- the schema

class HideForm(Form):
    """One hide of a session."""

    device_type_id = TermField(kind="device_type", label="device type",
                               validators=[required("Choose the device type."), NumberRange(1, MAX_ID)])
    hiding_spot_id = TermField(kind="hiding_spot", label="hiding spot",
                               validators=[required("Choose the hiding spot."), NumberRange(1, MAX_ID)])
    height = TextField(validators=[Optional(), choice(HEIGHTS, "height")])
    concealment = TextField(validators=[Optional(), choice(CONCEALMENTS, "concealment")])
    aid_set_minutes = WholeNumberField(validators=[Optional(), NumberRange(
        0, MAX_AID_SET_MINUTES, message=f"Aid set time must be from 0 to {MAX_AID_SET_MINUTES} minutes (a week).")])
    blind = BooleanField(false_values=(False, "false", "False", "", "0"))
    outcome = TextField(validators=[required("Choose the outcome (found or missed)."),
                                      choice(OUTCOMES, "outcome (found or missed)")])
    seconds_to_find = WholeNumberField(validators=[Optional(), NumberRange(
        0, MAX_SECONDS_TO_FIND, message=f"Seconds to find must be from 0 to {MAX_SECONDS_TO_FIND} (2 hours).")])


class FalseAlertForm(Form):
    """One false alert of a session."""

    hiding_spot_id = TermField(kind="hiding_spot", label="hiding spot", validators=[Optional(), NumberRange(1, MAX_ID)])
    location_note = TextField(validators=[at_most(column_length(FalseAlert.location_note)), no_nul])
    note = TextField(validators=[at_most(MAX_FALSE_ALERT_NOTE), no_nul])


class SessionForm(Form):
    """A training session as the tablet sends it."""

    client_uuid = TextField(validators=[Optional(), is_uuid])
    dog_id = WholeNumberField(validators=[required("Choose the dog.")])
    handler_id = WholeNumberField(validators=[Optional()])
    started_at = LocalDateTimeField(validators=[required("Enter the date and start time.")])
    duration_minutes = WholeNumberField(validators=[
        required(f"Enter a duration from 1 to {MAX_DURATION_MINUTES} minutes (10 hours)."),
        NumberRange(1, MAX_DURATION_MINUTES,
                    message=f"Enter a duration from 1 to {MAX_DURATION_MINUTES} minutes (10 hours).")])
    location = TextField(validators=[at_most(column_length(TrainingSession.location)), no_nul])
    environment_id = TermField(kind="environment", label="environment", validators=[Optional(), NumberRange(1, MAX_ID)])
    purpose = TextField(validators=[required("Choose the purpose."), choice(PURPOSES, "purpose")])
    temperature_c = NumberField(validators=[Optional(), NumberRange(
        *TEMPERATURE_RANGE, message=f"Enter a temperature from {TEMPERATURE_RANGE[0]} to {TEMPERATURE_RANGE[1]} °C.")])
    wind = TextField(validators=[Optional(), choice(WINDS, "wind")])
    precipitation = TextField(validators=[Optional(), choice(PRECIPITATIONS, "precipitation")])
    blank_areas = WholeNumberField(validators=[Optional(), NumberRange(
        0, MAX_BLANK_AREAS, message=f"Blank areas must be from 0 to {MAX_BLANK_AREAS}.")])
    notes = TextField(validators=[at_most(MAX_NOTES), no_nul])
    hides = FieldList(FormField(HideForm), max_entries=MAX_HIDES)
    false_alerts = FieldList(FormField(FalseAlertForm), max_entries=MAX_FALSE_ALERTS)


LISTS = {"hides": (HideForm, MAX_HIDES, "Hides", "hide"),
         "false_alerts": (FalseAlertForm, MAX_FALSE_ALERTS, "False alerts", "false alert")}
# Fields that are not plain columns of the record: who and which dog, the upload's id, the lists.
IDENTITY = ("client_uuid", "dog_id", "handler_id", "started_at")


@cache
def fields_of(form_class: type[Form]) -> tuple[tuple[str, type], ...]:
    """(name, field class) of a form's fields, in declaration order."""
    return tuple((field.short_name, type(field)) for field in form_class())


def record_columns() -> tuple[str, ...]:
    """The session's plain columns the schema carries (copied, serialized and audited as they are)."""
    return tuple(name for name, _ in fields_of(SessionForm) if name not in IDENTITY and name not in LISTS)


def row_columns(list_name: str) -> tuple[tuple[str, type], ...]:
    """A hide's or false alert's columns with their field classes."""
    return fields_of(LISTS[list_name][0])


# ---------------------------------------------------------------- reading JSON

def _formvalue(value):
    """A JSON scalar as form text; None when it is not a scalar."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e18:
        return str(int(value))  # the tablet's numbers may arrive as 45.0
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def _flatten(values: dict, form_class: type[Form], path: str, errors: list) -> MultiDict:
    """One object of the body as form data for `form_class` (a list's row when `path` is set)."""
    known = {name for name, _ in fields_of(form_class)}
    for key in values:
        if key not in known and (path or key not in READ_ONLY_KEYS | EXTRA_KEYS):
            errors.append({"field": f"{path}{key}", "error": f"Unknown field: {str(key)[:40]}."})
    out = []
    for name, _ in fields_of(form_class):
        if name in LISTS and not path:
            continue
        text = _formvalue(values.get(name))
        if text is None:
            errors.append({"field": f"{path}{name}", "error": "Must be a single value, not a list or an object."})
            text = ""
        out.append((name, text))
    return MultiDict(out)


def formdata_from_json(data: dict) -> tuple[MultiDict, dict[str, list[MultiDict]], list[dict]]:
    """The JSON body as WTForms form data (the session's, and each list's rows'), and the errors of its
    shape (lists, objects, unknown keys)."""
    errors: list[dict] = []
    session = _flatten(data, SessionForm, "", errors)
    rows: dict[str, list[MultiDict]] = {}
    for list_name, (form_class, limit, title, noun) in LISTS.items():
        rows[list_name] = []
        items = data.get(list_name)
        if items is None:
            continue
        if not isinstance(items, list) or len(items) > limit:
            errors.append({"field": list_name, "error": f"{title} must be a list of at most {limit}."})
            continue
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                errors.append({"field": f"{list_name}[{i}]", "error": f"Each {noun} must be an object."})
                item = {}
            # Every field is sent, blank when absent, so that an empty row keeps its position.
            rows[list_name].append(_flatten(item, form_class, f"{list_name}[{i}].", errors))
    return session, rows, errors


@dataclass(frozen=True)
class TermUse:
    """A vocabulary term a body names, where (its JSON path), of which kind, read without error."""

    path: str
    kind: str
    label: str
    value: int


@dataclass
class Reading:
    """A body read through the schema: the session's form, each list's rows' values, every error, the terms."""

    form: SessionForm
    rows: dict[str, list[dict]] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)
    terms: list[TermUse] = field(default_factory=list)


def _note_fields(fields, path: str, reading: Reading) -> None:
    """Note the first error of each field, and each term named without error."""
    for f in fields:
        if f.errors:
            reading.errors.append({"field": f"{path}{f.short_name}", "error": f.errors[0]})
        elif isinstance(f, TermField) and f.data is not None:
            reading.terms.append(TermUse(f"{path}{f.short_name}", f.kind, f.label.text, f.data))


def read(data: dict) -> Reading:
    """Validate a JSON body against the schema; its values, and its errors by JSON path in the form's order.

    Each list's rows are read by one form of the row's class, processed again for each row (WTForms'
    `Form.process`): the same fields and validators as a FieldList of FormFields, without building
    ten forms of eight fields for ten hides.
    """
    formdata, rows, shape_errors = formdata_from_json(data)
    form = SessionForm(formdata)
    form.validate()
    reading = Reading(form, errors=shape_errors)
    _note_fields((f for f in form if f.short_name not in LISTS), "", reading)
    for list_name, (form_class, *_rest) in LISTS.items():
        row_form, values = form_class(), []
        for i, row in enumerate(rows[list_name]):
            row_form.process(row)
            row_form.validate()
            values.append(dict(row_form.data))
            _note_fields(row_form, f"{list_name}[{i}].", reading)
        reading.rows[list_name] = values
    return reading


def clean_values(reading: Reading) -> dict:
    """The body's values as the record stores them."""
    form = reading.form
    values = {name: form[name].data for name in record_columns()}
    values["blank_areas"] = values["blank_areas"] or 0
    values["client_uuid"] = form.client_uuid.data or None
    values["hides"] = reading.rows["hides"]
    for hide in values["hides"]:
        if hide["outcome"] == "missed":
            hide["seconds_to_find"] = None  # a missed hide has no time to find
    values["false_alerts"] = reading.rows["false_alerts"]
    return values


# ---------------------------------------------------------------- limits for the tablet

def _field_limits(field) -> dict:
    spec: dict = {}
    if isinstance(field, NumberField):
        spec["type"] = "integer" if isinstance(field, WholeNumberField) else "number"
        spec["type_message"] = field.message
    for validator in field.validators:
        if validator is no_nul:
            spec["refuse_nul"] = NUL_MESSAGE
        elif isinstance(validator, InputRequired):
            spec["required"] = validator.message
        elif isinstance(validator, Length):
            spec["max_length"] = validator.max
            spec["length_message"] = validator.message
        elif isinstance(validator, NumberRange) and not isinstance(field, TermField):
            spec["min"], spec["max"] = validator.min, validator.max
            spec["range_message"] = validator.message
        elif isinstance(validator, AnyOf):
            spec["choices"] = list(validator.values)
            spec["choice_message"] = validator.message
    return spec


@cache
def limits() -> dict:
    """What the server enforces, field by field, for the tablet to check before queueing offline."""
    def of(form_class):
        return {field.short_name: _field_limits(field) for field in form_class()
                if field.short_name not in LISTS}
    return {"session": of(SessionForm),
            **{name: {"max_items": limit, "message": f"{title} must be a list of at most {limit}.",
                      "fields": of(form_class)}
               for name, (form_class, limit, title, _) in LISTS.items()}}
