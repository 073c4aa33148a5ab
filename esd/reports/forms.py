"""The filter shared by every dashboard and chart: agency, dog, handler, period, blind hides only."""
from markupsafe import Markup, escape
from wtforms import BooleanField, DateField, SelectField
from wtforms.validators import Optional

from ..forms import SafeForm, not_before
from ..parsing import optional_int


class PlainSelect:
    """A <select> written with plain string joins.

    WTForms' Select widget formats every option through Markup.format, about 60 µs an option:
    with a program's dogs and handlers that was over a millisecond of every dashboard request.
    Same markup, values and labels escaped.
    """

    def __call__(self, field, **kwargs):
        css = escape(kwargs.get("class") or kwargs.get("class_", ""))
        chosen = "" if field.data is None else str(field.data)
        options = "".join(
            f'<option value="{escape(value)}"{" selected" if value == chosen else ""}>{escape(label)}</option>'
            for value, label in ((("" if v is None else str(v)), l) for v, l in field.choices))
        return Markup(f'<select class="{css}" id="{escape(field.id)}" name="{escape(field.name)}">'
                      f"{options}</select>")


class ReportFilterForm(SafeForm):
    class Meta:
        csrf = False  # a GET form that changes nothing; its URL can be bookmarked or printed

    clamp_dates = True
    # Choices list what the user may pick; a value outside them is checked for scope (404), not refused.
    agency = SelectField("Agency", coerce=optional_int, validate_choice=False, validators=[Optional()],
                         widget=PlainSelect())
    dog = SelectField("Dog", coerce=optional_int, validate_choice=False, validators=[Optional()], widget=PlainSelect())
    handler = SelectField("Handler", coerce=optional_int, validate_choice=False, validators=[Optional()],
                          widget=PlainSelect())
    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional(), not_before("start")])
    blind = BooleanField("Blind hides only")
