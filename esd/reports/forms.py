"""The filter shared by every dashboard and chart: agency, dog, handler, period, blind hides only."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField
from wtforms.validators import Optional, ValidationError


def optional_int(value):
    """'' and None mean "all"; anything else must be a whole number."""
    if value in (None, "", "None"):
        return None
    return int(value)


class ReportFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing; its URL can be bookmarked or printed

    # Choices list what the user may pick; a value outside them is checked for scope (404), not refused.
    agency = SelectField("Agency", coerce=optional_int, validate_choice=False, validators=[Optional()])
    dog = SelectField("Dog", coerce=optional_int, validate_choice=False, validators=[Optional()])
    handler = SelectField("Handler", coerce=optional_int, validate_choice=False, validators=[Optional()])
    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])
    blind = BooleanField("Blind hides only")

    def validate_end(self, field):
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError("The end date is before the start date.")
