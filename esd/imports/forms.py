"""Forms of the import pages: the upload, the mapping step (built from the file's headers) and the confirmation."""
from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ..forms import SafeForm
from .uploads import CREATE_TERM, UPLOAD_LIMIT, column_choices, kind_choices, value_scope

LIMIT_MB = UPLOAD_LIMIT // (1024 * 1024)


class UploadForm(SafeForm):
    """A CSV, an XLSX workbook or the ZIP from Exports; an administrator also chooses the agency."""

    agency_id = SelectField("Import into agency", coerce=int, validate_choice=True)
    file = FileField(f"File (CSV, XLSX or the ZIP from Exports, at most {LIMIT_MB} MB)",
                     validators=[FileRequired("Choose a file to import.")])


class ConfirmForm(SafeForm):
    """Confirm the preview: the fingerprint says which preview was seen."""

    fingerprint = HiddenField(validators=[DataRequired(), Length(max=64)])


class DiscardForm(SafeForm):
    """Throw the uploaded file away."""


class MappingForm(SafeForm):
    """The mapping step; its fields are added per file by `mapping_form`."""

    layout = HiddenField(validators=[Length(max=64)])


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def mapping_form(sheets: list[dict], values: list, terms_of, layout: str) -> tuple[MappingForm, dict]:
    """A form with a select per sheet (its kind), per header to confirm (our column) and per unknown value.

    Returns the form and, per field name, the decision key it answers.
    """
    class Form(MappingForm):
        pass

    keys: dict[str, str] = {}
    for i, sheet in enumerate(sheets):
        name = f"kind_{i}"
        keys[name] = sheet["key"]
        setattr(Form, name, SelectField("This sheet holds", choices=_choices(kind_choices()), default=sheet["kind"]))
        for j, header in enumerate(sheet["headers"]):
            name = f"column_{i}_{j}"
            keys[name] = header.key
            setattr(Form, name, SelectField(f"Column “{header.header}”", choices=_choices(column_choices(header.kind)),
                                            default=header.current))
    for k, value in enumerate(values):
        name = f"value_{k}"
        keys[name] = value.key
        _, vocab, allowed = value_scope(value.scope)
        if vocab:
            choices = [("", "Leave it: refuse these rows"), (CREATE_TERM, f"Create “{value.value[:60]}” as a new term")]
            choices += [(t, t) for t in terms_of(vocab)]
        else:
            choices = [("", "Leave it: refuse these rows")] + [(a, a.replace("_", " ")) for a in allowed]
        setattr(Form, name, SelectField(f"“{value.value}”", choices=_choices(choices), default=value.current))
    form = Form()
    if not form.is_submitted():
        form.layout.data = layout
    return form, keys
