"""The filter of the proficiency matrix and the readiness pages: agency (admins), columns, blind hides, period."""
from wtforms import BooleanField, IntegerField, SelectField
from wtforms.validators import NumberRange, Optional

from ..dogs.forms import choices
from ..forms import SafeForm
from ..parsing import optional_int
from .matrix import ASPECT_LABELS, DEFAULT_PERIOD_DAYS, MAX_PERIOD_DAYS


class MatrixForm(SafeForm):
    class Meta:
        csrf = False  # a GET form that changes nothing; its URL can be bookmarked

    # Choices list what the user may pick; a value outside them is checked for scope (404), not refused.
    agency = SelectField("Agency", coerce=optional_int, validate_choice=False, validators=[Optional()])
    by = SelectField("Columns", choices=choices(ASPECT_LABELS.items()), default="device_type")
    days = IntegerField("Period (days up to today)", default=DEFAULT_PERIOD_DAYS,
                        validators=[Optional(), NumberRange(1, MAX_PERIOD_DAYS,
                                                            f"Use 1 to {MAX_PERIOD_DAYS} days (e.g. 90).")])
    blind = BooleanField("Blind hides only")

    def period_days(self) -> int:
        return self.days.data or DEFAULT_PERIOD_DAYS


class HideListForm(MatrixForm):
    dog = SelectField("Dog", coerce=optional_int, validate_choice=False, validators=[Optional()])
    value = SelectField("Value", validate_choice=False, validators=[Optional()])
